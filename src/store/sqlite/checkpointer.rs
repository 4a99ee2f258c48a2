//! Copying the write-ahead log into the database file in the background.
//!
//! SQLite commits append to the WAL; a checkpoint later copies those pages into the
//! database file. Left to SQLite, the connection that commits does it itself once the WAL
//! is long (on the writer's serial path, while the batch behind it waits), and the last
//! connection to close does the rest (an import of a large archive ends with seconds of
//! copying). The checkpointer instead runs a PASSIVE checkpoint on another connection
//! shortly after commits: it never blocks the writer or readers, copies what is committed
//! while the next batch is decided, and leaves little for the close.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Commits within this window share one checkpoint.
const COALESCE: Duration = Duration::from_millis(50);

/// Wakes the checkpointer: shared by every clone of a [`Store`].
#[derive(Debug, Default, Clone)]
pub(in crate::store) struct CheckpointSignal(Arc<Notify>);

impl CheckpointSignal {
    pub(super) fn committed(&self) {
        self.0.notify_one();
    }
}

impl Store {
    /// Tells the checkpointer (if one runs) that a transaction committed.
    pub fn committed(&self) {
        self.checkpoint_signal.committed();
    }

    /// Starts the background checkpointer; it stops when `stop` is cancelled. Idle while
    /// nothing commits.
    pub fn start_checkpointer(&self, stop: CancellationToken) -> JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = store.checkpoint_signal.0.notified() => {}
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(COALESCE) => {}
                }
                // PASSIVE: copies what no reader still needs and never waits for a lock.
                // Failing is harmless (SQLite checkpoints on its own as a fallback).
                let result: Result<(i64, i64, i64), sqlx::Error> =
                    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                        .fetch_one(store.pool())
                        .await;
                if let Err(e) = result {
                    tracing::debug!(error = %e, "background checkpoint failed");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After commits, the checkpointer copies the WAL into the database file without
    /// anyone closing the database.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_are_copied_into_the_database_file_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let stop = CancellationToken::new();
        let task = store.start_checkpointer(stop.clone());
        let before = std::fs::metadata(dir.path().join("t.db")).unwrap().len();
        assert!(before < 200_000);
        let mut tx = store.begin_write().await.unwrap();
        for sql in [
            "CREATE TABLE filler (b BLOB)",
            "INSERT INTO filler (b) VALUES (zeroblob(200000))",
        ] {
            sqlx::query(sql).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        store.committed();
        // The database file only grows when a checkpoint copies the pages into it.
        let size = || std::fs::metadata(dir.path().join("t.db")).unwrap().len();
        let mut backfilled = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if size() > 200_000 {
                backfilled = true;
                break;
            }
        }
        stop.cancel();
        task.await.unwrap();
        assert!(backfilled, "the database file never received the commit");
    }
}
