//! Reading tickets with their participants, messages and attachments (for the CLI and API).

use crate::domain::EmailAddress;
use crate::store::Context;

use crate::store::{
    AttachmentRow, AttachmentSource, Error, MessageRow, ParticipantRow, Result, Store, StoredRaw,
    TicketRow,
};

const TICKET_COLUMNS: &str = "SELECT t.id, t.subject, t.status, t.priority, t.requester, t.mailbox, \
     t.escalation, t.created_at, t.updated_at, \
     (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id) AS message_count, t.assignee \
     FROM tickets t";

impl Store {
    /// The tickets in number order, only those with `status` and those assigned to
    /// `assignee` (compared without case) when given.
    pub async fn list_tickets(
        &self,
        status: Option<&str>,
        assignee: Option<&EmailAddress>,
    ) -> Result<Vec<TicketRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TICKET_COLUMNS} WHERE (?1 IS NULL OR t.status = ?1) \
             AND (?2 IS NULL OR t.assignee = ?2 COLLATE NOCASE) ORDER BY t.id"
        )))
        .bind(status)
        .bind(assignee.map(EmailAddress::as_str))
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn ticket(&self, number: i64) -> Result<Option<TicketRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TICKET_COLUMNS} WHERE t.id = ?1"
        )))
        .bind(number)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn participants(&self, number: i64) -> Result<Vec<ParticipantRow>> {
        Ok(sqlx::query_as(
            "SELECT address, name, role, bouncing FROM participants WHERE ticket_id = ?1 \
             ORDER BY CASE role WHEN 'requester' THEN 0 ELSE 1 END, rowid",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn messages(&self, number: i64) -> Result<Vec<MessageRow>> {
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

    pub async fn attachments(&self, number: i64) -> Result<Vec<AttachmentRow>> {
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

    /// Where the content of a message's attachment is: in the stored mail (mailgate keeps each
    /// received mail once; attachments are parts of it), or for a file mailgate sent, in
    /// `outbound_attachment_contents`; with the SHA-256 recorded when the mail arrived.
    /// `None`: the message has no attachment at `position`.
    pub async fn attachment_source(
        &self,
        message_id: &str,
        position: i64,
    ) -> Result<Option<(String, AttachmentSource)>> {
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
            return Ok(None);
        };
        let source = match raw {
            Some(raw) => AttachmentSource::StoredMail(
                StoredRaw::decode(&codec, raw)
                    .with_context(|| format!("reading the stored mail {message_id}"))?,
            ),
            None => {
                let sent: Option<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT content FROM outbound_attachment_contents WHERE sha256 = ?1",
                )
                .bind(&sha256)
                .fetch_optional(self.pool())
                .await?;
                match sent {
                    Some((content,)) => AttachmentSource::Sent(content),
                    None => {
                        return Err(Error::refused(anyhow::anyhow!(
                            "message {message_id} has no stored mail"
                        )));
                    }
                }
            }
        };
        Ok(Some((sha256, source)))
    }
}
