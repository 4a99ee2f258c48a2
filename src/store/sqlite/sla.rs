//! What an SLA pass reads and writes (issue 14): the tickets it looks at, and the ping rows
//! that make every ping happen once, written in the pass's transaction with the ping's mail.

use crate::domain::{PingKind, Priority, Status};
use crate::store::{PingRow, Result, SlaTicket, Store, Tx};

#[derive(sqlx::FromRow)]
struct SlaTicketRow {
    id: i64,
    status: String,
    priority: String,
    status_since: Option<i64>,
    updated_at: i64,
    last_agent_at: Option<i64>,
    last_customer_at: Option<i64>,
    prompted_at: Option<i64>,
    reminded_due: Option<i64>,
    status_note: Option<String>,
}

/// Open, new and pending tickets with their clocks and the time of their latest prompt.
const SLA_TICKETS: &str = "SELECT t.id, t.status, t.priority, t.status_since, t.updated_at, \
     t.last_agent_at, t.last_customer_at, t.status_note, \
     (SELECT MAX(p.sent_at) FROM sla_pings p WHERE p.ticket_id = t.id AND p.kind = 'pending_prompt') \
       AS prompted_at, \
     (SELECT MAX(p.due_at) FROM sla_pings p WHERE p.ticket_id = t.id AND p.kind = 'open_reminder') \
       AS reminded_due \
     FROM tickets t WHERE t.status IN ('new', 'open', 'pending') ORDER BY t.id";

fn ticket(r: SlaTicketRow) -> Result<SlaTicket> {
    Ok(SlaTicket {
        number: r.id,
        status: r.status.parse::<Status>()?,
        priority: r.priority.parse::<Priority>()?,
        // Tickets from before migration 0013 that never changed status since: updated_at.
        status_since: r.status_since.unwrap_or(r.updated_at),
        last_agent_at: r.last_agent_at,
        last_customer_at: r.last_customer_at,
        prompted_at: r.prompted_at,
        reminded_due: r.reminded_due,
        status_note: r.status_note,
    })
}

/// The tickets an SLA pass looks at, read inside its transaction.
pub async fn sla_tickets(tx: &mut Tx) -> Result<Vec<SlaTicket>> {
    let rows: Vec<SlaTicketRow> = sqlx::query_as(SLA_TICKETS).fetch_all(&mut **tx).await?;
    rows.into_iter().map(ticket).collect()
}

/// Records the ping (ticket, kind, due_at) as sent at `sent_at`; `false` when it already was
/// (by an earlier pass or another process): then nothing of it may be sent again.
pub async fn record_ping(
    tx: &mut Tx,
    ticket: i64,
    kind: PingKind,
    due_at: i64,
    sent_at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO sla_pings (ticket_id, kind, due_at, sent_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (ticket_id, kind, due_at) DO NOTHING",
    )
    .bind(ticket)
    .bind(kind.as_str())
    .bind(due_at)
    .bind(sent_at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The new text of the agent's latest reply to the customer on `ticket`, if any (what a
/// pending ticket's prompt quotes when the agent gave no note).
pub async fn last_agent_reply(tx: &mut Tx, ticket: i64) -> Result<Option<String>> {
    let text: Option<Option<String>> = sqlx::query_scalar(
        "SELECT COALESCE(reply_text, body_text) FROM messages \
         WHERE ticket_id = ?1 AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
    )
    .bind(ticket)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(text.flatten())
}

impl Store {
    /// The tickets an SLA pass would look at, read outside any transaction (`sla status`).
    pub async fn sla_tickets(&self) -> Result<Vec<SlaTicket>> {
        let rows: Vec<SlaTicketRow> = sqlx::query_as(SLA_TICKETS).fetch_all(self.pool()).await?;
        rows.into_iter().map(ticket).collect()
    }

    /// The SLA pings of a ticket, oldest first (`tickets show`).
    pub async fn ticket_pings(&self, number: i64) -> Result<Vec<PingRow>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT kind, due_at, sent_at FROM sla_pings WHERE ticket_id = ?1 \
             ORDER BY sent_at, due_at",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(kind, due_at, sent_at)| {
                Ok(PingRow {
                    kind: kind.parse::<PingKind>()?,
                    due_at,
                    sent_at,
                })
            })
            .collect()
    }
}
