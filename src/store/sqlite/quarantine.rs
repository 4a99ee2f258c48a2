//! The quarantine: mail that could not be processed, kept whole (compressed, like a
//! message's bytes) with its reason, or only its header when it was too big to read.

use crate::store::Context;

use crate::store::{QuarantineRow, Result, Store, StoredRaw};

/// The columns of a [`QuarantineRow`]. The size is the mail's as received: the `size` column,
/// or for rows stored before it existed the length of their uncompressed whole bytes; unknown
/// for a mail only known to be over the limit and for older header-only rows.
macro_rules! columns {
    () => {
        "id, created_at, source, mailbox, message_id, reason, status, \
         CASE WHEN size IS NOT NULL THEN size \
              WHEN raw_codec = 'none' AND NOT header_only THEN LENGTH(raw) END AS size, \
         header_only"
    };
}

impl Store {
    /// Entries, newest first; only those still held unless `all`.
    pub async fn quarantine_list(&self, all: bool) -> Result<Vec<QuarantineRow>> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM quarantine WHERE ?1 OR status = 'held' ORDER BY id DESC"
        ))
        .bind(all)
        .fetch_all(self.pool())
        .await?)
    }

    /// Entry `id` and its bytes as received (only the header for a header-only entry).
    pub async fn quarantined_message(&self, id: i64) -> Result<Option<(QuarantineRow, Vec<u8>)>> {
        let row: Option<QuarantineRow> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM quarantine WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (raw, codec): (Vec<u8>, String) =
            sqlx::query_as("SELECT raw, raw_codec FROM quarantine WHERE id = ?1")
                .bind(id)
                .fetch_one(self.pool())
                .await?;
        let raw = StoredRaw::decode(&codec, raw)
            .with_context(|| format!("reading quarantine entry #{id}"))?;
        Ok(Some((row, raw)))
    }

    pub async fn mark_reprocessed(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE quarantine SET status = 'reprocessed' WHERE id = ?1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
