//! What an SLA pass reads and writes (issue 14): the tickets it looks at, and the ping rows
//! that make every ping happen once, written in the pass's transaction with the ping's mail.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Sqlite};

use crate::domain::{PingKind, Priority, Status, TicketClock};
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

/// Open, new and pending tickets with their clocks, the time of their latest prompt and the
/// due time of their latest reminder; the argument is the outer WHERE (a literal: the
/// statement stays static).
macro_rules! sla_tickets_sql {
    ($filter:literal) => {
        concat!(
            "SELECT * FROM (SELECT t.id, t.status, t.priority, t.status_since, t.updated_at, \
               t.last_agent_at, t.last_customer_at, t.status_note, \
               COALESCE(t.status_since, t.updated_at) AS since, \
               (SELECT MAX(p.sent_at) FROM sla_pings p \
                 WHERE p.ticket_id = t.id AND p.kind = 'pending_prompt') AS prompted_at, \
               (SELECT MAX(p.due_at) FROM sla_pings p \
                 WHERE p.ticket_id = t.id AND p.kind = 'open_reminder') AS reminded_due \
             FROM tickets t WHERE t.status IN ('new', 'open', 'pending')) WHERE ",
            $filter,
            " ORDER BY id"
        )
    };
}

fn ticket(r: SlaTicketRow) -> Result<SlaTicket> {
    Ok(SlaTicket {
        clock: TicketClock {
            number: r.id,
            status: r.status.parse::<Status>()?,
            priority: r.priority.parse::<Priority>()?,
            // Tickets from before migration 0013 that never changed status since: updated_at.
            status_since: r.status_since.unwrap_or(r.updated_at),
            last_agent_at: r.last_agent_at,
            last_customer_at: r.last_customer_at,
            prompted_at: r.prompted_at,
            reminded_due: r.reminded_due,
        },
        status_note: r.status_note,
    })
}

/// Which tickets an SLA pass reads: those whose next ping can be due by now, judged in wall
/// time. Working time never runs faster than the wall clock, so no ticket that is due is left
/// out; the pure schedule decides on the rest. `None`: no such ping is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidates {
    /// Open tickets quiet since at or before this (now minus the shortest open interval).
    pub open_quiet_since: Option<i64>,
    /// Pending tickets quiet since at or before this (now minus `pending_reminder_after`).
    pub pending_quiet_since: Option<i64>,
    /// Prompted pending tickets quiet since at or before this (now minus
    /// `auto_close_pending_after`).
    pub prompted_quiet_since: Option<i64>,
}

/// The tickets an SLA pass looks at (see [`Candidates`]), read inside its transaction.
pub async fn sla_tickets(tx: &mut Tx, c: Candidates) -> Result<Vec<SlaTicket>> {
    // An open ticket's clock starts at its last agent activity or when it became open; after
    // a reminder, the next comes at least one interval of wall time later. A pending
    // ticket's starts at the customer's last mail or when it became pending; once prompted,
    // only the auto-close can follow.
    let sql = sla_tickets_sql!(
        "(status IN ('new', 'open') AND MAX(COALESCE(last_agent_at, since), since) <= ?1 \
           AND (reminded_due IS NULL OR reminded_due <= ?1)) \
         OR (status = 'pending' AND MAX(COALESCE(last_customer_at, since), since) <= ?2 \
           AND (prompted_at IS NULL \
             OR prompted_at < MAX(COALESCE(last_customer_at, since), since) \
             OR MAX(COALESCE(last_customer_at, since), since) <= ?3))"
    );
    let rows: Vec<SlaTicketRow> = sqlx::query_as(sql)
        .bind(c.open_quiet_since.unwrap_or(i64::MIN))
        .bind(c.pending_quiet_since.unwrap_or(i64::MIN))
        .bind(c.prompted_quiet_since.unwrap_or(i64::MIN))
        .fetch_all(&mut **tx)
        .await?;
    rows.into_iter().map(ticket).collect()
}

/// Takes the keys of `pings` (ticket, kind, due time), sent at `sent_at`, and returns those
/// that were free: a key already taken (by an earlier pass or another process) must not be
/// sent again.
pub async fn take_pings(
    tx: &mut Tx,
    pings: &[(i64, PingKind, i64)],
    sent_at: i64,
) -> Result<HashSet<(i64, PingKind, i64)>> {
    let mut taken = HashSet::new();
    for chunk in pings.chunks(500) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO sla_pings (ticket_id, kind, due_at, sent_at) ");
        q.push_values(chunk, |mut b, (ticket, kind, due_at)| {
            b.push_bind(*ticket)
                .push_bind(kind.as_str())
                .push_bind(*due_at)
                .push_bind(sent_at);
        });
        q.push(
            " ON CONFLICT (ticket_id, kind, due_at) DO NOTHING RETURNING ticket_id, kind, due_at",
        );
        let rows: Vec<(i64, String, i64)> = q.build_query_as().fetch_all(&mut **tx).await?;
        for (ticket, kind, due_at) in rows {
            taken.insert((ticket, kind.parse::<PingKind>()?, due_at));
        }
    }
    Ok(taken)
}

/// The new text of the agent's latest reply to the customer on each of `tickets` that has one
/// (what a pending ticket's prompt quotes when the agent gave no note).
pub async fn last_agent_replies(tx: &mut Tx, tickets: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in tickets.chunks(500) {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT ticket_id, COALESCE(reply_text, body_text) FROM messages WHERE id IN \
             (SELECT MAX(id) FROM messages WHERE direction = 'outbound' \
                AND ticket_id IN (SELECT value FROM json_each(?1)) GROUP BY ticket_id)",
        )
        .bind(serde_json::to_string(chunk)?)
        .fetch_all(&mut **tx)
        .await?;
        out.extend(rows.into_iter().filter_map(|(t, text)| Some((t, text?))));
    }
    Ok(out)
}

impl Store {
    /// The tickets an SLA pass would look at, read outside any transaction (`sla status`).
    pub async fn sla_tickets(&self) -> Result<Vec<SlaTicket>> {
        let rows: Vec<SlaTicketRow> = sqlx::query_as(sla_tickets_sql!("1"))
            .fetch_all(self.pool())
            .await?;
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
