//! What a batch is planned with ([`PlanContext`]), and the rows every planner of a message
//! (`plan`, `escalation`, `bounce`) writes the same way: its decision row, a participant.

use crate::config::Role;
use crate::decide::DecideContext;
use crate::domain::{AddressPatterns, Decision, EmailAddress, ParticipantRole};
use crate::outbox::enqueue::{EnqueueSettings, Notification, count_planned, enqueue};
use crate::outbox::{OwnAddresses, OwnMessageIds};

use crate::store::{NewDecision, NewOutboxRow, NewParticipant, Snapshot, Writes};

/// What a batch is applied with.
pub struct PlanContext<'a> {
    pub decide: DecideContext<'a>,
    pub mailbox: &'a str,
    pub role: Role,
    pub now: i64,
    pub agents: &'a AddressPatterns,
    /// `[security] trusted_authserv_ids`: whose Authentication-Results are believed.
    pub trusted_authserv_ids: &'a [String],
    /// `limits.max_new_participants`: Cc addresses one mail may make participants.
    pub max_new_participants: usize,
    /// Our own addresses: never recorded as customer participants; mail from them is our own
    /// mail coming back in (never a customer's message).
    pub own: &'a OwnAddresses,
    pub own_ids: Option<&'a OwnMessageIds>,
    /// `Some`: acknowledge new tickets (live mail only: never archive, import or dry run).
    pub notify: Option<EnqueueSettings<'a>>,
    /// Makes the nonces of this batch's Message-IDs unique across batches and processes.
    pub nonce_seed: u64,
}

/// Queues the mail of `n` with the batch's other outbox rows: Message-ID nonces unique in the
/// batch and across batches, each recipient counted against the batch's automatic-mail cap.
pub(super) fn queue_notification(
    n: &Notification,
    settings: &EnqueueSettings,
    ctx: &PlanContext,
    snapshot: &mut Snapshot,
    w: &mut Writes,
) {
    let base = w.outbox.len();
    let mut i = 0;
    let mut nonce = || {
        i += 1;
        format!("n{}.{:x}.{}", ctx.now, ctx.nonce_seed, base + i)
    };
    let rows = enqueue(n, &snapshot.auto_sent, settings, &mut nonce);
    push_rows(rows, snapshot, w);
}

/// Adds planned outbox rows, counting their recipients against the batch's cap.
pub(super) fn push_rows(rows: Vec<NewOutboxRow>, snapshot: &mut Snapshot, w: &mut Writes) {
    count_planned(&rows, &mut snapshot.auto_sent);
    w.outbox.extend(rows);
}

/// Makes `address` a participant of `ticket` with `role`, unless it is one already.
pub(super) fn add_participant(
    ticket: i64,
    address: &EmailAddress,
    name: Option<String>,
    role: ParticipantRole,
    snapshot: &mut Snapshot,
    w: &mut Writes,
) {
    if snapshot
        .ticket_mut(ticket)
        .participants
        .insert(address.clone())
    {
        w.add_participant(NewParticipant {
            ticket,
            address: address.clone(),
            name,
            role,
        });
    }
}

/// The decision log row of a message.
pub(super) fn decision_row(
    source: &str,
    message_id: Option<String>,
    raw_sha256: &str,
    d: &Decision,
    ticket: Option<i64>,
    ctx: &PlanContext,
) -> NewDecision {
    NewDecision {
        created_at: ctx.now,
        source: source.to_string(),
        mailbox: ctx.mailbox.to_string(),
        message_id,
        raw_sha256: raw_sha256.to_string(),
        classification: d.classification.clone(),
        decision: d.action.clone(),
        rule: d.rule,
        reason: d.reason.clone(),
        ticket,
    }
}
