//! The files mailgate sends (issue 18 item 11, migration 0009): each content once in
//! `outbound_attachment_contents` (keyed by SHA-256), which outbox rows carry it in
//! `outbox_attachments` (by the row's Message-ID), and the outbound message stored on the ticket
//! listing them in `attachments` like a received mail's (what `tickets show` prints).

use crate::domain::{MessageId, OutgoingAttachment};

use crate::store::{NewOutboxRow, Result, Store, Tx};

/// Stores `files` once, links them to every row of `rows` that is sent (not held: a held row may
/// be retried by hand, so it carries them too), and lists them on the ticket's outbound message
/// `listed_on` (already inserted). Inside the transaction that enqueues the rows.
pub async fn store_outbound_files(
    tx: &mut Tx,
    files: &[OutgoingAttachment],
    rows: &[NewOutboxRow],
    listed_on: Option<&MessageId>,
) -> Result<()> {
    for (position, file) in files.iter().enumerate() {
        let sha256 = file.sha256();
        sqlx::query(
            "INSERT INTO outbound_attachment_contents (sha256, content) VALUES (?1, ?2) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(&file.content)
        .execute(&mut **tx)
        .await?;
        let position = i64::try_from(position)?;
        for row in rows {
            sqlx::query(
                "INSERT INTO outbox_attachments \
                 (outbox_message_id, position, filename, content_type, sha256) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(row.message_id.as_str())
            .bind(position)
            .bind(&file.filename)
            .bind(&file.content_type)
            .bind(&sha256)
            .execute(&mut **tx)
            .await?;
        }
        if let Some(message_id) = listed_on {
            sqlx::query(
                "INSERT INTO attachments (message_id, position, filename, content_type, size, \
                 sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(message_id.as_str())
            .bind(position)
            .bind(&file.filename)
            .bind(&file.content_type)
            .bind(i64::try_from(file.size())?)
            .bind(&sha256)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// The files the outbox row with Message-ID `message_id` carries, in order.
    pub async fn outbox_files(&self, message_id: &str) -> Result<Vec<OutgoingAttachment>> {
        let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT a.filename, a.content_type, c.content FROM outbox_attachments a \
             JOIN outbound_attachment_contents c ON c.sha256 = a.sha256 \
             WHERE a.outbox_message_id = ?1 ORDER BY a.position",
        )
        .bind(message_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(filename, content_type, content)| OutgoingAttachment {
                filename,
                content_type,
                content,
            })
            .collect())
    }
}
