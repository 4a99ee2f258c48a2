//! What the agent commands (`tickets reply`, `set-status`, `set-priority`) and the relay of
//! agents' mail read and write, each inside ONE transaction of the caller: the ticket with its
//! participants and thread, the change, and the outbound message stored on the ticket.

use std::collections::HashMap;

use sqlx::FromRow;

use crate::domain::{EmailAddress, MessageId, ParticipantRole, Priority, Status};
use crate::store::{
    MessageRow, NotificationRow, OutboundMessage, Result, Store, StoredParticipant, StoredTicket,
    Tx,
};

#[derive(FromRow)]
struct TicketCore {
    id: i64,
    subject: String,
    status: String,
    priority: String,
    requester: String,
    assignee: Option<String>,
    alert: bool,
}

#[derive(FromRow)]
struct ParticipantCore {
    address: String,
    role: String,
    bouncing: bool,
}

/// The ticket `number` with its participants and thread, read inside `tx`.
pub async fn load_ticket(tx: &mut Tx, number: i64) -> Result<Option<StoredTicket>> {
    let Some(t): Option<TicketCore> = sqlx::query_as(
        "SELECT id, subject, status, priority, requester, assignee, \
         EXISTS (SELECT 1 FROM alert_keys a WHERE a.ticket_id = tickets.id) AS alert \
         FROM tickets WHERE id = ?1",
    )
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let rows: Vec<ParticipantCore> = sqlx::query_as(
        "SELECT address, role, bouncing FROM participants WHERE ticket_id = ?1 ORDER BY rowid",
    )
    .bind(number)
    .fetch_all(&mut **tx)
    .await?;
    let participants = rows.into_iter().filter_map(participant).collect();
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT message_id FROM messages WHERE ticket_id = ?1 ORDER BY id")
            .bind(number)
            .fetch_all(&mut **tx)
            .await?;
    let thread = ids
        .into_iter()
        .filter_map(|(id,)| MessageId::parse(&id).ok())
        .collect();
    let latest_customer: Option<MessageRow> = sqlx::query_as(
        "SELECT message_id, direction, classification, from_addr, from_name, subject, \
         sent_date, received_at, body_text, reply_text, source, raw_codec, flag, \
         CASE WHEN reply_text IS NULL THEN raw END AS raw FROM messages \
         WHERE ticket_id = ?1 AND direction = 'inbound' \
           AND classification IN ('plain', 'escalation') AND flag IS NULL \
           AND lower(from_addr) NOT IN (SELECT lower(address) FROM participants \
             WHERE ticket_id = ?1 AND role IN ('agent', 'technician')) \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    stored(t, participants, thread, latest_customer).map(Some)
}

/// The tickets `numbers` with their participants and threads, without their latest customer
/// mail (`latest_customer` is `None`): what mail about many tickets at once needs (an SLA
/// pass), read inside `tx` in a few queries per 500 tickets.
pub async fn load_tickets_bare(tx: &mut Tx, numbers: &[i64]) -> Result<Vec<StoredTicket>> {
    let mut out = Vec::with_capacity(numbers.len());
    for chunk in numbers.chunks(500) {
        let ids = serde_json::to_string(chunk)?;
        let tickets: Vec<TicketCore> = sqlx::query_as(
            "SELECT id, subject, status, priority, requester, assignee, \
             EXISTS (SELECT 1 FROM alert_keys a WHERE a.ticket_id = tickets.id) AS alert \
             FROM tickets WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
        )
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
        let mut participants: HashMap<i64, Vec<StoredParticipant>> = HashMap::new();
        let rows: Vec<(i64, String, String, bool)> = sqlx::query_as(
            "SELECT ticket_id, address, role, bouncing FROM participants \
             WHERE ticket_id IN (SELECT value FROM json_each(?1)) ORDER BY rowid",
        )
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
        for (ticket, address, role, bouncing) in rows {
            if let Some(p) = participant(ParticipantCore {
                address,
                role,
                bouncing,
            }) {
                participants.entry(ticket).or_default().push(p);
            }
        }
        let mut threads: HashMap<i64, Vec<MessageId>> = HashMap::new();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT ticket_id, message_id FROM messages \
             WHERE ticket_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
        )
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
        for (ticket, id) in rows {
            if let Ok(id) = MessageId::parse(&id) {
                threads.entry(ticket).or_default().push(id);
            }
        }
        for t in tickets {
            let (participants, thread) = (
                participants.remove(&t.id).unwrap_or_default(),
                threads.remove(&t.id).unwrap_or_default(),
            );
            out.push(stored(t, participants, thread, None)?);
        }
    }
    Ok(out)
}

fn participant(r: ParticipantCore) -> Option<StoredParticipant> {
    Some(StoredParticipant {
        address: EmailAddress::parse(&r.address).ok()?,
        // A role this version does not know is read as a Cc'd customer's.
        role: r.role.parse().unwrap_or(ParticipantRole::Cc),
        bouncing: r.bouncing,
    })
}

fn stored(
    t: TicketCore,
    participants: Vec<StoredParticipant>,
    thread: Vec<MessageId>,
    latest_customer: Option<MessageRow>,
) -> Result<StoredTicket> {
    Ok(StoredTicket {
        number: t.id,
        subject: t.subject,
        status: t.status.parse()?,
        priority: t.priority.parse()?,
        requester: t.requester,
        assignee: t.assignee.and_then(|a| EmailAddress::parse(&a).ok()),
        participants,
        thread,
        latest_customer,
        alert: t.alert,
    })
}

pub async fn insert_outbound(tx: &mut Tx, m: &OutboundMessage) -> Result<()> {
    use sha2::{Digest, Sha256};
    let sha = hex::encode(Sha256::digest(m.body.as_bytes()));
    let to =
        m.to.iter()
            .map(EmailAddress::as_str)
            .collect::<Vec<_>>()
            .join(", ");
    let references = m
        .references
        .iter()
        .map(MessageId::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    sqlx::query(
        "INSERT INTO messages (ticket_id, message_id, direction, classification, from_addr, \
         from_name, to_addrs, cc_addrs, subject, sent_date, received_at, in_reply_to, \
         references_ids, body_text, reply_text, source, raw_sha256, raw) \
         VALUES (?1, ?2, ?13, 'plain', ?3, ?4, ?5, '', ?6, ?7, ?7, ?8, ?9, ?10, ?10, ?11, ?12, NULL)",
    )
    .bind(m.ticket)
    .bind(m.message_id.as_str())
    .bind(&m.from_addr)
    .bind(&m.from_name)
    .bind(to)
    .bind(&m.subject)
    .bind(m.at)
    .bind(m.in_reply_to.as_ref().map(MessageId::as_str))
    .bind(references)
    .bind(&m.body)
    .bind(&m.source)
    .bind(sha)
    .bind(m.direction.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets the status (and `resolved_at` when resolved), touching `updated_at`.
/// The SLA clocks of the new status start at `at`; `note` is what the agent said with it (for a
/// pending ticket: what the customer must do, quoted in the SLA prompt).
pub async fn update_status(
    tx: &mut Tx,
    number: i64,
    status: Status,
    note: Option<&str>,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE tickets SET status = ?2, updated_at = MAX(updated_at, ?3), \
         resolved_at = CASE WHEN ?2 IN ('resolved', 'closed') THEN COALESCE(resolved_at, ?3) ELSE NULL END, \
         status_since = ?3, status_note = ?4 \
         WHERE id = ?1",
    )
    .bind(number)
    .bind(status.as_str())
    .bind(at)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Assigns the ticket to `assignee` (`None`: unassigned), touching `updated_at`.
pub async fn set_assignee(
    tx: &mut Tx,
    number: i64,
    assignee: Option<&EmailAddress>,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE tickets SET assignee = ?2, updated_at = MAX(updated_at, ?3) WHERE id = ?1")
        .bind(number)
        .bind(assignee.map(EmailAddress::as_str))
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records an agent's activity (a reply).
pub async fn touch_agent(tx: &mut Tx, number: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE tickets SET updated_at = MAX(updated_at, ?2), last_agent_at = ?2 WHERE id = ?1",
    )
    .bind(number)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_priority(tx: &mut Tx, number: i64, priority: Priority, at: i64) -> Result<()> {
    sqlx::query("UPDATE tickets SET priority = ?2, updated_at = MAX(updated_at, ?3) WHERE id = ?1")
        .bind(number)
        .bind(priority.as_str())
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// The outbox rows of a ticket, oldest first.
    pub async fn ticket_notifications(&self, number: i64) -> Result<Vec<NotificationRow>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, recipients, subject, message_id, status, created_at, sent_at, \
             last_error FROM outbox WHERE ticket_id = ?1 ORDER BY id",
        )
        .bind(number)
        .fetch_all(self.pool())
        .await?)
    }
}
