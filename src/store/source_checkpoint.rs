//! How far a source has got: an archive's position (`import_checkpoints`) or a mailbox's last
//! handled UID under its UIDVALIDITY (`mailbox_state`). Written in the transaction of the batch
//! that got there (`store::apply`), or on its own when no mail comes with it.

use super::error::Context;

use super::{Result, Store, Tx};

/// How far a source has got, stored in the same transaction as the mail it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    Import {
        path: String,
        position: String,
        messages: i64,
    },
    Imap {
        mailbox: String,
        uid_validity: u32,
        last_uid: u32,
    },
}

/// Writes `checkpoint` inside `tx`.
pub(super) async fn write_checkpoint(tx: &mut Tx, checkpoint: &Checkpoint, now: i64) -> Result<()> {
    match checkpoint {
        Checkpoint::Import {
            path,
            position,
            messages,
        } => {
            sqlx::query(
                "INSERT INTO import_checkpoints (path, position, messages, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (path) DO UPDATE SET position = excluded.position, \
                 messages = excluded.messages, updated_at = excluded.updated_at",
            )
            .bind(path)
            .bind(position)
            .bind(messages)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Checkpoint::Imap {
            mailbox,
            uid_validity,
            last_uid,
        } => {
            sqlx::query(
                "INSERT INTO mailbox_state (mailbox, uid_validity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, \
                 last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            )
            .bind(mailbox)
            .bind(i64::from(*uid_validity))
            .bind(i64::from(*last_uid))
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Stores a checkpoint that no message comes with (an empty folder seen under a new
    /// UIDVALIDITY, the end of an archive), so the next run does not re-scan it.
    pub async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let mut tx = self.begin_write().await?;
        write_checkpoint(&mut tx, checkpoint, chrono::Utc::now().timestamp()).await?;
        tx.commit().await.context("committing a checkpoint")
    }
}
