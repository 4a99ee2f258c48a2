//! The quarantine: mail that could not be processed, kept whole with its reason.

use sqlx::FromRow;

use super::Store;

#[derive(Debug, Clone, FromRow)]
pub struct QuarantineRow {
    pub id: i64,
    pub created_at: i64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub size: i64,
    /// Only the header is kept (the message was over the size limit).
    pub header_only: bool,
}

impl Store {
    /// Entries, newest first; only those still held unless `all`.
    pub async fn quarantine_list(&self, all: bool) -> anyhow::Result<Vec<QuarantineRow>> {
        Ok(sqlx::query_as(
            "SELECT id, created_at, source, mailbox, message_id, reason, status, LENGTH(raw) AS size, \
             header_only \
             FROM quarantine WHERE ?1 OR status = 'held' ORDER BY id DESC",
        )
        .bind(all)
        .fetch_all(self.pool())
        .await?)
    }

    /// The mailbox and raw bytes of entry `id`.
    pub async fn quarantined_message(
        &self,
        id: i64,
    ) -> anyhow::Result<Option<(QuarantineRow, Vec<u8>)>> {
        let row: Option<QuarantineRow> = sqlx::query_as(
            "SELECT id, created_at, source, mailbox, message_id, reason, status, LENGTH(raw) AS size, \
             header_only \
             FROM quarantine WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (raw,): (Vec<u8>,) = sqlx::query_as("SELECT raw FROM quarantine WHERE id = ?1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(Some((row, raw)))
    }

    pub async fn mark_reprocessed(&self, id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE quarantine SET status = 'reprocessed' WHERE id = ?1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
