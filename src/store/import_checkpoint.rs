//! Import checkpoints (SPEC 8): how far the import of an archive got. Written by `apply` in
//! the transaction of each batch; read here when the same archive is imported again
//! (the end of an archive is stored with `save_checkpoint`).

use super::error::Context;

use super::Result;
use super::Store;

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
    use crate::store::{Checkpoint, Store};

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
