//! Turning one decided message into rows (pure): the ticket it creates or touches, its
//! participants, the message with its attachments, the decision log row, or a quarantine entry.
//! The snapshot is updated as it goes so later messages of the batch see this one.

use crate::config::Role;
use crate::decide::{DecideContext, Evaluation, evaluate};
use crate::domain::{
    Action, AddressPatterns, Classification, Decision, EmailAddress, InboundEmail, Rule, TicketRef,
};

use super::prepared::{Content, Prepared};
use super::snapshot::{Snapshot, TicketState};
use super::writes::{
    NewAttachment, NewBlob, NewDecision, NewMessage, NewParticipant, NewQuarantine, NewTicket,
    Writes,
};

/// What a batch is applied with.
pub struct PlanContext<'a> {
    pub decide: DecideContext<'a>,
    pub mailbox: &'a str,
    pub role: Role,
    pub now: i64,
    /// Our own addresses: never recorded as customer participants.
    pub own_addresses: &'a [EmailAddress],
    pub agents: &'a AddressPatterns,
}

/// The outcome of one message, for reports and the CLI.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub source: String,
    pub message_id: String,
    pub decision: Decision,
    pub ticket: Option<TicketRef>,
}

pub fn plan_message(
    p: Prepared,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) -> Outcome {
    let source = p.source.to_string();
    match p.content {
        Content::Failed {
            message_id,
            rule,
            reason,
        } => {
            let decision = Decision {
                action: Action::Quarantine,
                classification: Classification::Plain,
                rule,
                reason,
            };
            let header_only = p.header_only;
            quarantine(
                &source,
                Some(message_id.to_string()),
                &p.raw_sha256,
                p.raw,
                &decision,
                ctx,
                w,
            );
            if let Some(entry) = w.quarantine.last_mut() {
                entry.header_only = header_only;
            }
            Outcome {
                source,
                message_id: message_id.to_string(),
                decision,
                ticket: None,
            }
        }
        Content::Parsed(email) => {
            let ev = evaluate(&email, &p.raw_sha256, ctx.role, snapshot, &ctx.decide);
            let message_id = email.message_id.to_string();
            let ticket =
                apply_evaluation(*email, &ev, &source, &p.raw_sha256, p.raw, snapshot, ctx, w);
            Outcome {
                source,
                message_id,
                decision: ev.decision,
                ticket: ticket.map(|n| TicketRef::new(ctx.decide.thread.prefix, n)),
            }
        }
    }
}

/// Records a quarantine entry and its decision row.
pub fn quarantine(
    source: &str,
    message_id: Option<String>,
    raw_sha256: &str,
    raw: Vec<u8>,
    decision: &Decision,
    ctx: &PlanContext,
    w: &mut Writes,
) {
    w.decisions.push(decision_row(
        source,
        message_id.clone(),
        raw_sha256,
        decision,
        None,
        ctx,
    ));
    w.quarantine.push(NewQuarantine {
        created_at: ctx.now,
        source: source.to_string(),
        mailbox: ctx.mailbox.to_string(),
        message_id,
        reason: format!("{}: {}", decision.rule.as_str(), decision.reason),
        raw_sha256: raw_sha256.to_string(),
        raw,
        header_only: false,
    });
}

#[allow(clippy::too_many_arguments)]
fn apply_evaluation(
    email: InboundEmail,
    ev: &Evaluation,
    source: &str,
    raw_sha256: &str,
    raw: Vec<u8>,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) -> Option<i64> {
    let d = &ev.decision;
    let mid = email.message_id.to_string();
    let at = if ctx.decide.archive {
        email.date.unwrap_or(ctx.now)
    } else {
        ctx.now
    };
    let ticket = match &d.action {
        Action::Ignore { .. } if ev.redelivery => return ev.ticket,
        Action::Ignore { .. } | Action::Quarantine => {
            if d.rule == Rule::Unthreaded {
                snapshot.record_seen(&email.message_id, None, raw_sha256);
            }
            w.decisions.push(decision_row(
                source,
                Some(mid),
                raw_sha256,
                d,
                ev.ticket,
                ctx,
            ));
            return ev.ticket;
        }
        Action::CreateTicket {
            status,
            priority,
            escalation,
        } => {
            let number = snapshot.next_ticket();
            let subject = email.subject.trim();
            w.add_ticket(NewTicket {
                number,
                subject: if subject.is_empty() {
                    "(no subject)".into()
                } else {
                    subject.to_string()
                },
                status: *status,
                priority: *priority,
                requester: email.from.address.to_string(),
                mailbox: ctx.mailbox.to_string(),
                escalation: *escalation,
                created_at: at,
                updated_at: at,
                last_customer_at: Some(at),
            });
            snapshot.tickets.insert(
                number,
                TicketState {
                    status: *status,
                    participants: Default::default(),
                },
            );
            add_participant(
                number,
                &email.from.address,
                email.from.name.clone(),
                "requester",
                snapshot,
                w,
            );
            for cc in &email.cc {
                if is_own(&cc.address, ctx.own_addresses) || cc.address == email.from.address {
                    continue;
                }
                let role = if ctx.agents.matches(&cc.address) {
                    "agent"
                } else {
                    "cc"
                };
                add_participant(number, &cc.address, cc.name.clone(), role, snapshot, w);
            }
            number
        }
        Action::AppendToTicket { ticket, new_status } => {
            let number = ticket.number();
            let customer = !d.classification.is_machine_generated()
                && !ctx.agents.matches(&email.from.address);
            w.touch_ticket(number, *new_status, at, customer);
            if let Some(s) = new_status {
                snapshot.ticket_mut(number).status = *s;
            }
            if ctx.agents.matches(&email.from.address) {
                add_participant(
                    number,
                    &email.from.address,
                    email.from.name.clone(),
                    "agent",
                    snapshot,
                    w,
                );
            }
            number
        }
    };
    snapshot.record_seen(&email.message_id, Some(ticket), raw_sha256);
    w.decisions.push(decision_row(
        source,
        Some(mid.clone()),
        raw_sha256,
        d,
        Some(ticket),
        ctx,
    ));
    let to_addrs = join_addresses(email.to.iter().map(|m| &m.address));
    let cc_addrs = join_addresses(email.cc.iter().map(|m| &m.address));
    let references_ids = email
        .references
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for (i, a) in email.attachments.into_iter().enumerate() {
        if !w.blobs.iter().any(|b| b.sha256 == a.sha256) {
            w.blobs.push(NewBlob {
                sha256: a.sha256.clone(),
                content: a.content,
            });
        }
        w.attachments.push(NewAttachment {
            message_id: mid.clone(),
            position: i as i64,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size as i64,
            sha256: a.sha256,
        });
    }
    w.messages.push(NewMessage {
        ticket,
        message_id: mid,
        classification: d.classification.as_str(),
        from_addr: email.from.address.to_string(),
        from_name: email.from.name.clone(),
        to_addrs,
        cc_addrs,
        subject: email.subject,
        sent_date: email.date,
        received_at: at,
        in_reply_to: email.in_reply_to.first().map(|m| m.to_string()),
        references_ids,
        body_text: None,
        reply_text: email.reply_text,
        source: source.to_string(),
        raw_sha256: raw_sha256.to_string(),
        raw,
    });
    Some(ticket)
}

fn add_participant(
    ticket: i64,
    address: &EmailAddress,
    name: Option<String>,
    role: &'static str,
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
            address: address.to_string(),
            name,
            role,
        });
    }
}

fn is_own(address: &EmailAddress, own: &[EmailAddress]) -> bool {
    own.contains(address)
        || address
            .plus_token()
            .is_some_and(|(base, _)| own.contains(&base))
}

fn join_addresses<'a>(addrs: impl Iterator<Item = &'a EmailAddress>) -> String {
    addrs.map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
}

fn decision_row(
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
        classification: d.classification.as_str(),
        decision: d.action.name(),
        rule: d.rule.as_str(),
        reason: d.reason.clone(),
        ticket,
    }
}
