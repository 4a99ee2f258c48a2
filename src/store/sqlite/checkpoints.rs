//! Checkpoints (SPEC 8, 9): how far the import of an archive got (`import_checkpoints`) and a
//! mailbox's UIDVALIDITY and last handled UID (`mailbox_state`). Written in the transaction of
//! the batch that got there (`apply`), or on their own when no mail comes with them
//! ([`Store::save_checkpoint`]); read when the same archive is imported again and to plan an
//! IMAP sync.

use crate::store::Context;
use crate::store::{Checkpoint, MailboxState, Result, Store, Tx};

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

impl Store {
    pub async fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT uid_validity, last_uid FROM mailbox_state WHERE mailbox = ?1")
                .bind(mailbox)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.and_then(|(validity, last)| {
            Some(MailboxState {
                uid_validity: u32::try_from(validity).ok()?,
                last_uid: u32::try_from(last).ok()?,
            })
        }))
    }
}

impl Store {
    /// The stored `position` and message count of the import of `path`, if any.
    pub async fn import_checkpoint(&self, path: &str) -> Result<Option<(String, i64)>> {
        sqlx::query_as("SELECT position, messages FROM import_checkpoints WHERE path = ?1")
            .bind(path)
            .fetch_optional(self.pool())
            .await
            .with_context(|| format!("reading the import checkpoint of {path}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Checkpoint, Store, Writes, apply};

    #[tokio::test]
    async fn checkpoint_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        assert_eq!(store.mailbox_state("support").await.unwrap(), None);
        for last_uid in [41, 42] {
            let mut tx = store.begin_write().await.unwrap();
            let cp = Checkpoint::Imap {
                mailbox: "support".into(),
                uid_validity: 7,
                last_uid,
            };
            apply(&mut tx, Writes::default(), Some(&cp), 0)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let state = store.mailbox_state("support").await.unwrap().unwrap();
        assert_eq!((state.uid_validity, state.last_uid), (7, 42));
        store
            .save_checkpoint(&Checkpoint::Imap {
                mailbox: "support".into(),
                uid_validity: 8,
                last_uid: 0,
            })
            .await
            .unwrap();
        let state = store.mailbox_state("support").await.unwrap().unwrap();
        assert_eq!((state.uid_validity, state.last_uid), (8, 0));
    }

    #[tokio::test]
    async fn a_saved_checkpoint_reads_back_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        assert_eq!(store.import_checkpoint("/a.mbox").await.unwrap(), None);
        for (position, messages) in [("first", 10), ("second", 20)] {
            store
                .save_checkpoint(&Checkpoint::Import {
                    path: "/a.mbox".to_string(),
                    position: position.to_string(),
                    messages,
                })
                .await
                .unwrap();
        }
        assert_eq!(
            store.import_checkpoint("/a.mbox").await.unwrap(),
            Some(("second".to_string(), 20))
        );
    }
}
