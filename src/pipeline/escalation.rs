//! Applying the escalation gate's decision (SPEC 4), pure like the rest of planning: a refused
//! escalation leaves only its decision row and, for an allowed sender, the refusal; an accepted
//! one hands its ticket to tier 2 (priority, category, the tier-1 mail kept as an internal
//! note), confirms to the sender and, when critical, alerts every technician at once.

use crate::decide::Evaluation;
use crate::domain::{InboundEmail, Mailbox, ParticipantRole, Priority, TicketRef};
use crate::escalation::gate::GateReport;
use crate::escalation::rules::{Accepted, GateVerdict};
use crate::outbox::Participants;
use crate::outbox::enqueue::{Change, Notification, TicketInfo};
use crate::outbox::escalation_mail::{Escalation, confirmation_row, refusal_row};
use crate::outbox::loop_guard::HoldReason;

use super::context::{PlanContext, add_participant, decision_row, push_rows, queue_notification};
use crate::store::{Escalated, NewOutboxRow, Snapshot, Writes};

/// The tier an accepted escalation hands its ticket to.
const ESCALATED_TIER: i64 = 2;

/// The gate's acceptance, when the evaluation is one.
pub fn accepted(ev: &Evaluation) -> Option<(&Accepted, &GateReport)> {
    let report = ev.escalation.as_deref()?;
    match &report.verdict {
        GateVerdict::Accept(a) => Some((a, report)),
        _ => None,
    }
}

/// The requester and subject of a ticket an accepted escalation creates: the customer (else
/// the tier-1 sender), and the forwarded original's subject (else the escalation's).
pub fn new_ticket_for(
    accepted: &Accepted,
    report: &GateReport,
    email: &InboundEmail,
) -> (Mailbox, String) {
    let requester = match &accepted.customer {
        Some(c) => Mailbox {
            name: None,
            address: c.clone(),
        },
        None => email.from.clone(),
    };
    let subject = report
        .forwarded
        .as_ref()
        .and_then(|f| f.subject.clone())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| email.subject.clone());
    (requester, subject)
}

/// A refused (or unauthorised) escalation: its decision row, remembered so a re-delivery is a
/// duplicate, and the refusal for an allowed sender.
#[allow(clippy::too_many_arguments)]
pub fn reject(
    email: &InboundEmail,
    ev: &Evaluation,
    answer: bool,
    source: &str,
    raw_sha256: &str,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) {
    snapshot.record_seen(&email.message_id, None, raw_sha256, None);
    let mid = Some(email.message_id.to_string());
    w.decisions.push(decision_row(
        source,
        mid,
        raw_sha256,
        &ev.decision,
        None,
        ctx,
    ));
    let (Some(settings), true, Some(report)) =
        (ctx.notify.as_ref(), answer, ev.escalation.as_deref())
    else {
        return;
    };
    if !matches!(report.verdict, GateVerdict::Reject { .. }) {
        return;
    }
    let nonce = next_nonce(ctx, w);
    let row = refusal_row(
        escalation(email, ctx),
        report,
        ctx.decide.escalation,
        &snapshot.auto_sent,
        settings,
        &nonce,
    );
    if let (Some(note), Some(decision)) = (held_note(&row, ctx), w.decisions.last_mut()) {
        decision.reason.push_str(&note);
    }
    push_rows(vec![row], snapshot, w);
}

/// What the decision says when the answer to tier 1 is held instead of sent (never silently):
/// the loop guard's reason, and for mail to an address mailgate does not know, how to fix it.
pub fn held_note(row: &NewOutboxRow, ctx: &PlanContext) -> Option<String> {
    let reason = row.held.as_ref()?;
    let to = row
        .recipients
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut note = format!(
        "; the {} to {to} is held, not sent: {reason}",
        row.kind_name()
    );
    if *reason == HoldReason::NotAddressedToUs.to_string() {
        note.push_str(&format!(
            " (set address = \"...\" on mailbox {} to the address tier 1 writes to, so \
             mailgate knows it as its own)",
            ctx.mailbox
        ));
    }
    Some(note)
}

/// After the ticket is written: tier 2, priority and category; the tier-1 sender on the
/// ticket as staff; the confirmation; the critical alert. Returns the note for the decision
/// when the confirmation is held (see [`held_note`]).
#[must_use]
pub fn after_accept(
    ticket: i64,
    email: &InboundEmail,
    accepted: &Accepted,
    report: &GateReport,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) -> Option<String> {
    w.escalated.push(Escalated {
        ticket,
        priority: accepted.priority,
        category: accepted.category.clone(),
        tier: ESCALATED_TIER,
    });
    let sender = &email.from;
    add_participant(
        ticket,
        &sender.address,
        sender.name.clone(),
        ParticipantRole::Agent,
        snapshot,
        w,
    );
    let settings = ctx.notify.as_ref()?;
    let reference = TicketRef::new(ctx.decide.thread.prefix, ticket);
    let (customer, subject) = new_ticket_for(accepted, report, email);
    let nonce = next_nonce(ctx, w);
    let confirmation = confirmation_row(
        escalation(email, ctx),
        &reference,
        &subject,
        accepted,
        &snapshot.auto_sent,
        settings,
        &nonce,
    );
    let note = held_note(&confirmation, ctx);
    push_rows(vec![confirmation], snapshot, w);
    if accepted.priority != Priority::Critical {
        return note;
    }
    let participants = Participants {
        requester: Some(customer.address.clone()),
        ..Participants::default()
    };
    let n = Notification {
        ticket: TicketInfo {
            reference,
            subject,
            status: snapshot
                .tickets
                .get(&ticket)
                .map(|t| t.status)
                .unwrap_or(crate::domain::Status::Open),
            priority: Priority::Critical,
            requester: customer.address.to_string(),
        },
        change: Change::CriticalRaised {
            note: Some(crate::escalation::refusal::acceptance_summary(accepted)),
        },
        participants: &participants,
        answering: None,
        thread: &[],
        now: ctx.now,
    };
    queue_notification(&n, settings, ctx, snapshot, w);
    note
}

fn escalation<'a>(email: &'a InboundEmail, ctx: &'a PlanContext) -> Escalation<'a> {
    Escalation {
        email,
        now: ctx.now,
        prefix: ctx.decide.thread.prefix,
    }
}

/// A nonce unique in this batch (and across batches by the seed).
fn next_nonce(ctx: &PlanContext, w: &Writes) -> String {
    format!("n{}.{:x}.{}", ctx.now, ctx.nonce_seed, w.outbox.len() + 1)
}
