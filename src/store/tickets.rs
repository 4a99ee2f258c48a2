//! Reading tickets with their participants, messages and attachments (for the CLI and API).

use anyhow::Context;
use serde::Serialize;
use sqlx::FromRow;

use super::{RawDecodeError, Store, StoredRaw};

#[derive(Debug, Clone, FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester: String,
    pub mailbox: String,
    pub escalation: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub message_count: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ParticipantRow {
    pub address: String,
    pub name: Option<String>,
    pub role: String,
    pub bouncing: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct MessageRow {
    pub message_id: String,
    pub direction: String,
    pub classification: String,
    pub from_addr: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub sent_date: Option<i64>,
    pub received_at: i64,
    /// `None` for received mail: see [`MessageRow::texts`].
    pub body_text: Option<String>,
    /// `None` for received mail: see [`MessageRow::texts`].
    pub reply_text: Option<String>,
    /// Only loaded when a text must be derived from it; encoded as `raw_codec` says.
    pub raw: Option<Vec<u8>>,
    pub raw_codec: String,
    pub source: String,
    /// `non_participant` / `unverified_agent`: stored with a reservation (SPEC 2, Trust).
    pub flag: Option<String>,
}

/// What a message says: the whole text body and the new part (quotes and signature removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTexts {
    pub full: String,
    pub reply: String,
}

impl MessageRow {
    /// The texts of the message: stored for mail mailgate wrote, derived from the raw bytes
    /// (by the same parser that decided on the message, without its budgets) for received mail.
    pub fn texts(&self) -> MessageTexts {
        if let (Some(full), Some(reply)) = (&self.body_text, &self.reply_text) {
            return MessageTexts {
                full: full.clone(),
                reply: reply.clone(),
            };
        }
        let derived = match self.raw_bytes() {
            Some(Ok(bytes)) => crate::parse::parse_stored(&bytes)
                .map(|e| (e.body_text, e.reply_text))
                .map_err(|e| format!("[the stored mail cannot be parsed: {e}]")),
            Some(Err(e)) => Err(format!("[the stored mail cannot be read: {e}]")),
            None => Err(String::new()),
        };
        let (full, reply) = match derived {
            Ok((full, reply)) => (full, reply),
            Err(note) => (note.clone(), note),
        };
        MessageTexts {
            full: self.body_text.clone().unwrap_or(full),
            reply: self.reply_text.clone().unwrap_or(reply),
        }
    }

    /// The mail as received, when it was loaded.
    pub fn raw_bytes(&self) -> Option<Result<Vec<u8>, RawDecodeError>> {
        self.raw
            .clone()
            .map(|bytes| StoredRaw::decode(&self.raw_codec, bytes))
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttachmentRow {
    pub message_id: String,
    /// Its place among the message's attachments, from 0 (see [`Store::attachment_content`]).
    pub position: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

const TICKET_COLUMNS: &str = "SELECT t.id, t.subject, t.status, t.priority, t.requester, t.mailbox, \
     t.escalation, t.created_at, t.updated_at, \
     (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id) AS message_count FROM tickets t";

impl Store {
    pub async fn list_tickets(&self, status: Option<&str>) -> anyhow::Result<Vec<TicketRow>> {
        let rows = match status {
            Some(s) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{TICKET_COLUMNS} WHERE t.status = ?1 ORDER BY t.id"
                )))
                .bind(s.to_string())
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{TICKET_COLUMNS} ORDER BY t.id"
                )))
                .fetch_all(self.pool())
                .await?
            }
        };
        Ok(rows)
    }

    pub async fn ticket(&self, number: i64) -> anyhow::Result<Option<TicketRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TICKET_COLUMNS} WHERE t.id = ?1"
        )))
        .bind(number)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn participants(&self, number: i64) -> anyhow::Result<Vec<ParticipantRow>> {
        Ok(sqlx::query_as(
            "SELECT address, name, role, bouncing FROM participants WHERE ticket_id = ?1 \
             ORDER BY CASE role WHEN 'requester' THEN 0 ELSE 1 END, rowid",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn messages(&self, number: i64) -> anyhow::Result<Vec<MessageRow>> {
        Ok(sqlx::query_as(
            "SELECT message_id, direction, classification, from_addr, from_name, subject, sent_date, \
             received_at, body_text, reply_text, source, raw_codec, flag, \
             CASE WHEN body_text IS NULL OR reply_text IS NULL THEN raw END AS raw \
             FROM messages WHERE ticket_id = ?1 ORDER BY id",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn attachments(&self, number: i64) -> anyhow::Result<Vec<AttachmentRow>> {
        Ok(sqlx::query_as(
            "SELECT a.message_id, a.position, a.filename, a.content_type, a.size, a.sha256 \
             FROM attachments a \
             JOIN messages m ON m.message_id = a.message_id WHERE m.ticket_id = ?1 \
             ORDER BY a.message_id, a.position",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }

    /// The content of a message's attachment, read from the stored mail (mailgate keeps each
    /// received mail once; attachments are parts of it), or for a file mailgate sent, from
    /// `outbound_attachment_contents`. Checked against the SHA-256 recorded
    /// when the mail arrived, so what is returned is exactly what was received.
    pub async fn attachment_content(
        &self,
        message_id: &str,
        position: i64,
    ) -> anyhow::Result<Vec<u8>> {
        let row: Option<(String, Option<Vec<u8>>, String)> = sqlx::query_as(
            "SELECT a.sha256, m.raw, m.raw_codec FROM attachments a \
             JOIN messages m ON m.message_id = a.message_id \
             WHERE a.message_id = ?1 AND a.position = ?2",
        )
        .bind(message_id)
        .bind(position)
        .fetch_optional(self.pool())
        .await?;
        let Some((sha256, raw, codec)) = row else {
            anyhow::bail!("message {message_id} has no attachment at position {position}");
        };
        let Some(raw) = raw else {
            // A file mailgate sent (issue 18 item 11): stored by its SHA-256.
            let sent: Option<(Vec<u8>,)> = sqlx::query_as(
                "SELECT content FROM outbound_attachment_contents WHERE sha256 = ?1",
            )
            .bind(&sha256)
            .fetch_optional(self.pool())
            .await?;
            return sent
                .map(|(content,)| content)
                .with_context(|| format!("message {message_id} has no stored mail"));
        };
        let raw = StoredRaw::decode(&codec, raw)
            .with_context(|| format!("reading the stored mail {message_id}"))?;
        let email = crate::parse::parse_stored(&raw)
            .map_err(|e| anyhow::anyhow!("the stored mail {message_id} cannot be parsed: {e}"))?;
        let attachment = usize::try_from(position)
            .ok()
            .and_then(|p| email.attachments.into_iter().nth(p))
            .with_context(|| {
                format!("the stored mail {message_id} has no attachment at position {position}")
            })?;
        anyhow::ensure!(
            attachment.sha256 == sha256,
            "attachment {position} of {message_id} does not match the SHA-256 recorded on arrival"
        );
        Ok(attachment.content)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use crate::config::{Role, Settings};
    use crate::domain::Source;
    use crate::pipeline::{Pipeline, RawMessage, RunOptions};

    use super::*;

    #[tokio::test]
    async fn attachment_contents_are_read_back_from_the_stored_mail() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let mut settings = Settings::from_toml("", "test").unwrap();
        settings.database_url = url;
        let mut pipeline = Pipeline::new(
            store.clone(),
            settings,
            RunOptions::import("support", Role::Support),
        );
        let raw = std::fs::read("fixtures/cases/attachments.eml").unwrap();
        let outcome = pipeline
            .process_message(RawMessage {
                source: Source::Stdin,
                bytes: raw,
            })
            .await
            .unwrap();
        let number = outcome.ticket.unwrap().number();

        let attachments = store.attachments(number).await.unwrap();
        assert_eq!(attachments.len(), 3, "{attachments:?}");
        for a in &attachments {
            let content = store
                .attachment_content(&a.message_id, a.position)
                .await
                .unwrap();
            assert_eq!(content.len() as i64, a.size, "{a:?}");
            assert_eq!(hex::encode(Sha256::digest(&content)), a.sha256, "{a:?}");
        }
        let missing = store
            .attachment_content(&attachments[0].message_id, 3)
            .await
            .unwrap_err();
        assert!(
            missing.to_string().contains("no attachment at position 3"),
            "{missing:#}"
        );
    }
}
