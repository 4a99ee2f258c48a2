//! IMAP sync checkpoints: UIDVALIDITY and the last handled UID per mailbox. Written by
//! `apply` in the transaction of the batch that handled those UIDs; read here to plan a sync.

use anyhow::Context;

use crate::imap::StoredState;
use crate::pipeline::Writes;

use super::{Checkpoint, Store, apply};

impl Store {
    pub async fn mailbox_state(&self, mailbox: &str) -> anyhow::Result<Option<StoredState>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT uid_validity, last_uid FROM mailbox_state WHERE mailbox = ?1")
                .bind(mailbox)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.and_then(|(validity, last)| {
            Some(StoredState {
                uid_validity: u32::try_from(validity).ok()?,
                last_uid: u32::try_from(last).ok()?,
            })
        }))
    }

    /// Stores a checkpoint that no message comes with (an empty folder seen under a new
    /// UIDVALIDITY), so the next sync does not re-scan it.
    pub async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        apply(
            &mut tx,
            Writes::default(),
            Some(checkpoint),
            crate::pipeline::now(),
        )
        .await?;
        tx.commit().await.context("committing a mailbox checkpoint")
    }
}

#[cfg(test)]
mod tests {
    use crate::pipeline::Writes;
    use crate::store::{Checkpoint, Store, apply};

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
    }
}
