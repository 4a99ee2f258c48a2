//! Reading tickets with their participants, messages and attachments (for the CLI and API).

use serde::Serialize;
use sqlx::FromRow;

use super::Store;

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
    /// `None` for received mail: see [`MessageRow::full_text`].
    pub body_text: Option<String>,
    pub reply_text: String,
    pub raw: Option<Vec<u8>>,
    pub source: String,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttachmentRow {
    pub message_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

impl MessageRow {
    /// The whole text body: stored for mail mailgate wrote, derived from the raw bytes (by the
    /// same parser that stored the message) for received mail.
    pub fn full_text(&self) -> String {
        match (&self.body_text, &self.raw) {
            (Some(text), _) => text.clone(),
            (None, Some(raw)) => crate::parse::parse(raw)
                .map(|e| e.body_text)
                .unwrap_or_else(|_| self.reply_text.clone()),
            (None, None) => self.reply_text.clone(),
        }
    }
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
             received_at, body_text, reply_text, source, CASE WHEN body_text IS NULL THEN raw END AS raw FROM messages WHERE ticket_id = ?1 ORDER BY id",
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
