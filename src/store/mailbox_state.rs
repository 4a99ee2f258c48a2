//! IMAP sync checkpoints: UIDVALIDITY and the last handled UID per mailbox. Written with the
//! batch that handled those UIDs (`store::source_checkpoint`); read here to plan a sync.

use super::Result;
use super::Store;

/// What the store remembers of a mailbox (written in the same transaction as its mail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    pub uid_validity: u32,
    pub last_uid: u32,
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
}
