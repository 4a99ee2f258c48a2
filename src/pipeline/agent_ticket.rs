//! A ticket as an agent's action needs it, and the relay of agents' mail (SPEC 6): read from the
//! store inside the action's transaction, turned into what `outbox::enqueue` decides with (the
//! participants by role, the customer mail being answered), and the resulting rows and files
//! written back in the same transaction. Used by the agent commands (`tickets reply`,
//! `set-status`, `set-priority`) and by a batch that carries agents' mail.

use crate::domain::{
    Classification, MessageDirection, MessageId, ParticipantRole, Priority, Status, TicketRef,
};
use crate::outbox::Participants;
use crate::outbox::agent_mail::AgentRelay;
use crate::outbox::attachments::relayed;
use crate::outbox::enqueue::{
    Answering, Change, EnqueueSettings, Notification, TicketInfo, enqueue,
};
use crate::store::agent::{insert_outbound, load_ticket, set_assignee, touch_agent};
use crate::store::{self, MessageRow, NewOutboxRow, OutboundMessage, SentCounts, StoredTicket, Tx};

/// A ticket as the agent commands need it.
#[derive(Debug, Clone)]
pub struct AgentTicket {
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: String,
    pub participants: Participants,
    /// Every Message-ID of the ticket, oldest first.
    pub thread: Vec<MessageId>,
    /// The newest mail a customer wrote (what an agent's reply answers).
    pub latest_customer: Option<Answering>,
}

impl AgentTicket {
    /// The stored ticket, with its participants sorted by role and its latest customer mail's
    /// new text derived from the stored mail.
    pub fn from_stored(t: StoredTicket) -> AgentTicket {
        let mut participants = Participants::default();
        for p in t.participants {
            if p.bouncing {
                participants.bouncing.push(p.address.clone());
            }
            match p.role {
                ParticipantRole::Requester => participants.requester = Some(p.address),
                ParticipantRole::Agent => participants.agents.push(p.address),
                ParticipantRole::Technician => participants.technicians.push(p.address),
                ParticipantRole::Cc => participants.cc.push(p.address),
            }
        }
        if participants.requester.is_none() {
            participants.requester = crate::domain::EmailAddress::parse(&t.requester).ok();
        }
        if t.alert {
            // The monitoring system that opened it is never mailed back (SPEC 7): an alert
            // ticket has no customers, only staff.
            participants.requester = None;
            participants.cc.clear();
        }
        participants.assignee = t.assignee;
        AgentTicket {
            number: t.number,
            subject: t.subject,
            status: t.status,
            priority: t.priority,
            requester: t.requester,
            participants,
            thread: t.thread,
            latest_customer: if t.alert {
                None
            } else {
                t.latest_customer.as_ref().and_then(answering)
            },
        }
    }
}

/// The customer mail an agent's action answers.
fn answering(m: &MessageRow) -> Option<Answering> {
    Some(Answering {
        message_id: MessageId::parse(&m.message_id).ok()?,
        classification: if m.classification == "escalation" {
            Classification::Escalation
        } else {
            Classification::Plain
        },
        reply_text: super::message_texts(m).reply,
        // An agent's action answers it, not an automatic response to the mail.
        addressed_to_us: true,
    })
}

/// The ticket `number` as the agent commands need it, read inside `tx`.
pub async fn load_agent_ticket(tx: &mut Tx, number: i64) -> store::Result<Option<AgentTicket>> {
    Ok(load_ticket(tx, number).await?.map(AgentTicket::from_stored))
}

/// The tickets `numbers` as mail about many of them at once needs them (an SLA pass): like
/// [`load_agent_ticket`], without the latest customer mail (nothing answers it).
pub async fn load_agent_tickets(
    tx: &mut Tx,
    numbers: &[i64],
) -> store::Result<std::collections::HashMap<i64, AgentTicket>> {
    Ok(crate::store::agent::load_tickets_bare(tx, numbers)
        .await?
        .into_iter()
        .map(|t| (t.number, AgentTicket::from_stored(t)))
        .collect())
}

/// How agents' mail is relayed (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct RelaySettings<'a> {
    /// The ticket prefix (`SUP`).
    pub prefix: &'a str,
    /// The most bytes of an agent's files relayed with one mail.
    pub max_files_bytes: usize,
    /// `notify.assign_on_first_reply`.
    pub assign_on_first_reply: bool,
}

/// Relays the agents' mail of a batch (SPEC 6), inside the batch's transaction once its
/// messages and participants are stored: one `agent_reply` per relay, from the support address
/// to the ticket's customers (never staff), In-Reply-To the newest customer mail, with the
/// agent's files (at most `max_files_bytes`), stored on the ticket as an outbound message.
/// With `assign_on_first_reply`, the agent becomes the assignee of a ticket that has none.
/// Returns how many rows were enqueued.
pub async fn relay_agent_mail(
    tx: &mut Tx,
    relays: Vec<AgentRelay>,
    settings: &EnqueueSettings<'_>,
    relay_settings: &RelaySettings<'_>,
    now: i64,
) -> store::Result<usize> {
    let (prefix, max_files_bytes) = (relay_settings.prefix, relay_settings.max_files_bytes);
    let seed = fastrand::u64(..);
    let mut i = 0;
    let mut nonce = || {
        i += 1;
        format!("a{now}.{seed:x}.{i}")
    };
    let mut enqueued = 0;
    for relay in relays {
        let Some(t) = load_agent_ticket(tx, relay.ticket).await? else {
            continue;
        };
        let n = Notification {
            ticket: TicketInfo {
                reference: TicketRef::new(prefix, t.number),
                subject: t.subject.clone(),
                status: t.status,
                priority: t.priority,
                requester: t.requester.clone(),
            },
            change: Change::AgentReply {
                body: relay.body.clone(),
            },
            participants: &t.participants,
            answering: t.latest_customer.as_ref(),
            thread: &t.thread,
            now,
        };
        let rows = enqueue(&n, &SentCounts::new(), settings, &mut nonce);
        crate::store::insert_outbox(tx, &rows).await?;
        record_relay(tx, &t, &relay, &rows, settings, max_files_bytes).await?;
        touch_agent(tx, t.number, now).await?;
        if relay_settings.assign_on_first_reply && t.participants.assignee.is_none() {
            set_assignee(tx, t.number, Some(&relay.agent), now).await?;
        }
        enqueued += rows.len();
    }
    Ok(enqueued)
}

/// What an agent's relayed mail sent, on its ticket: the relay's rows carry the agent's files
/// (not their signature images, at most `max_files_bytes`), and an outbound message (the text
/// the customers read, with exactly those files) records it, as `tickets reply` does. A relay
/// without files stores no outbound message (the agent's own mail is on the ticket).
async fn record_relay(
    tx: &mut Tx,
    t: &AgentTicket,
    relay: &AgentRelay,
    rows: &[NewOutboxRow],
    settings: &EnqueueSettings<'_>,
    max_files_bytes: usize,
) -> store::Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let (files, left_out) = relayed(&relay.attachments, max_files_bytes);
    for l in &left_out {
        tracing::info!(
            ticket = t.number,
            file = %l.filename,
            reason = %l.reason,
            "an agent's file is not relayed"
        );
    }
    if files.is_empty() {
        // Text only: the agent's stored mail and the outbox row say what was sent, as before.
        return Ok(());
    }
    insert_outbound(
        tx,
        &OutboundMessage {
            ticket: t.number,
            message_id: first.message_id.clone(),
            direction: MessageDirection::Outbound,
            from_addr: settings.support.address.to_string(),
            from_name: settings.support.name.clone(),
            to: rows.iter().flat_map(|r| r.recipients.clone()).collect(),
            subject: first.subject.clone(),
            in_reply_to: first.in_reply_to.clone(),
            references: first.references.clone(),
            body: relay.body.clone(),
            source: format!("relay:{}", relay.agent),
            at: first.created_at,
        },
    )
    .await?;
    crate::store::store_outbound_files(tx, &files, rows, Some(&first.message_id)).await?;
    Ok(())
}
