//! Reading tickets with their participants, messages and attachments (for the CLI and API).

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
}

/// What a message says: the whole text body and the new part (quotes and signature removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTexts {
    pub full: String,
    pub reply: String,
}

impl MessageRow {
    /// The texts of the message: stored for mail mailgate wrote, derived from the raw bytes
    /// (by the same parser that decided on the message) for received mail.
    pub fn texts(&self) -> MessageTexts {
        if let (Some(full), Some(reply)) = (&self.body_text, &self.reply_text) {
            return MessageTexts {
                full: full.clone(),
                reply: reply.clone(),
            };
        }
        let derived = match self.raw_bytes() {
            Some(Ok(bytes)) => crate::parse::parse(&bytes)
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
             received_at, body_text, reply_text, source, raw_codec, \
             CASE WHEN body_text IS NULL OR reply_text IS NULL THEN raw END AS raw \
             FROM messages WHERE ticket_id = ?1 ORDER BY id",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn attachments(&self, number: i64) -> anyhow::Result<Vec<AttachmentRow>> {
        Ok(sqlx::query_as(
            "SELECT a.message_id, a.filename, a.content_type, a.size, a.sha256 FROM attachments a \
             JOIN messages m ON m.message_id = a.message_id WHERE m.ticket_id = ?1 \
             ORDER BY a.message_id, a.position",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }
}
