//! Turning one decided message into rows (pure): the ticket it creates or touches, its
//! participants, the message with its attachments, the decision log row, or a quarantine entry.
//! The snapshot is updated as it goes so later messages of the batch see this one.

use crate::config::Role;
use crate::decide::{Author, DecideLookup, Evaluation, evaluate};
use crate::domain::{
    Action, Classification, Decision, EmailAddress, IgnoreReason, InboundEmail, MessageDirection,
    MessageId, ParticipantRole, Rule, TicketRef,
};
use crate::outbox::Participants;
use crate::outbox::agent_mail::AgentRelay;
use crate::outbox::enqueue::{Answering, Change, Notification, TicketInfo};
use crate::outbox::loop_guard::{OwnMail, recognise_own_mail};
use crate::trust::SenderTrust;

use super::context::{PlanContext, add_participant, decision_row, queue_notification};
use super::prepared::{Content, Prepared};
use crate::store::{
    NewAttachment, NewMessage, NewQuarantine, NewTicket, Snapshot, StoredRaw, TicketState, Writes,
};

/// The outcome of one message, for reports and the CLI.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub source: String,
    pub message_id: String,
    pub decision: Decision,
    pub ticket: Option<TicketRef>,
}

/// Decides one prepared mail against the snapshot and adds what it writes to `w`, and an
/// authenticated agent's mail to relay to `relays` (enqueued once the batch's rows are stored).
pub fn plan_message(
    p: Prepared,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
    relays: &mut Vec<AgentRelay>,
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
                (p.stored_raw, p.size),
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
            let trust = SenderTrust::of(&email, ctx.trusted_authserv_ids);
            let content = content_if_needed(
                &email.message_id,
                &p.raw,
                &p.stored_raw,
                &p.raw_sha256,
                snapshot,
            );
            let classification = p.classification;
            let ev = match own_mail(&email, &classification, snapshot, ctx) {
                Some(own) => own,
                None => evaluate(
                    &email,
                    &trust,
                    &p.raw_sha256,
                    content.as_deref(),
                    classification,
                    snapshot,
                    &ctx.decide,
                ),
            };
            let mut ev = match &p.bounce {
                Some(report) => super::bounce::bounce_of_own_mail(report, ev, snapshot, ctx, w),
                None => ev,
            };
            if let Action::CreateTicket {
                escalation: false, ..
            } = ev.decision.action
            {
                let left_out = new_participants(&email.cc, &email, ctx).1;
                if left_out > 0 {
                    ev.decision.reason.push_str(&format!(
                        "; {left_out} more Cc address(es) are recorded on the message but not \
                         made participants and never mailed (limits.max_new_participants = {})",
                        ctx.max_new_participants
                    ));
                }
            }
            let message_id = email.message_id.to_string();
            let stored = p.stored_raw;
            let ticket = apply_evaluation(
                *email,
                &trust,
                &ev,
                &source,
                &p.raw_sha256,
                stored,
                content,
                snapshot,
                ctx,
                w,
                relays,
            );
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
    (raw, size): (StoredRaw, Option<u64>),
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
        size,
        header_only: false,
    });
}

#[allow(clippy::too_many_arguments)]
fn apply_evaluation(
    email: InboundEmail,
    trust: &SenderTrust,
    ev: &Evaluation,
    source: &str,
    raw_sha256: &str,
    raw: StoredRaw,
    content: Option<String>,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
    relays: &mut Vec<AgentRelay>,
) -> Option<i64> {
    let d = &ev.decision;
    let mid = email.message_id.to_string();
    // A different mail reusing a stored Message-ID is stored under the synthetic id of its bytes.
    let reused =
        (d.rule == Rule::ReusedMessageId).then(|| MessageId::synthetic_for_sha256(raw_sha256));
    let at = if ctx.decide.archive {
        email.date.unwrap_or(ctx.now)
    } else {
        ctx.now
    };
    let accepted = super::escalation::accepted(ev);
    let ticket = match &d.action {
        Action::Ignore { .. } if ev.redelivery => return ev.ticket,
        Action::RejectEscalation { answer } => {
            super::escalation::reject(&email, ev, *answer, source, raw_sha256, snapshot, ctx, w);
            return None;
        }
        Action::Ignore { .. } | Action::Quarantine => {
            if matches!(d.rule, Rule::Unthreaded | Rule::OwnMail) {
                snapshot.record_seen(&email.message_id, None, raw_sha256, None);
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
            let (requester, subject) = match accepted {
                Some((a, report)) => super::escalation::new_ticket_for(a, report, &email),
                None => (email.from.clone(), email.subject.trim().to_string()),
            };
            let subject = subject.trim();
            w.add_ticket(NewTicket {
                number,
                subject: if subject.is_empty() {
                    "(no subject)".into()
                } else {
                    subject.to_string()
                },
                status: *status,
                priority: *priority,
                requester: requester.address.clone(),
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
                    priority: *priority,
                    participants: Default::default(),
                    requester: Some(requester.address.clone()),
                },
            );
            add_participant(
                number,
                &requester.address,
                requester.name.clone(),
                ParticipantRole::Requester,
                snapshot,
                w,
            );
            let customer_cc = if accepted.is_some() || ev.alert.is_some() {
                &[][..]
            } else {
                &email.cc[..]
            };
            for cc in new_participants(customer_cc, &email, ctx).0 {
                let role = if ctx.agents.matches(&cc.address) {
                    ParticipantRole::Agent
                } else {
                    ParticipantRole::Cc
                };
                add_participant(number, &cc.address, cc.name.clone(), role, snapshot, w);
            }
            if !*escalation && d.classification == Classification::Plain {
                acknowledge(number, &email, trust, *status, *priority, snapshot, ctx, w);
            }
            if let Some(note) = &ev.alert {
                super::alert::after_new_ticket(number, &email, note, *status, snapshot, ctx, w);
            }
            number
        }
        Action::AppendToTicket { ticket, new_status } => {
            let number = ticket.number();
            let customer = !d.classification.is_machine_generated()
                && accepted.is_none()
                && ev.author == Author::Participant
                && !ctx.agents.matches(&email.from.address);
            w.touch_ticket(number, *new_status, at, customer);
            if let Some(s) = new_status {
                snapshot.ticket_mut(number).status = *s;
            }
            if let Some(note) = &ev.alert {
                super::alert::after_append(number, &email, note, snapshot, ctx, w);
            }
            // An authenticated technician writing is involved from now on (SPEC 6).
            if ev.author == Author::Technician {
                add_participant(
                    number,
                    &email.from.address,
                    email.from.name.clone(),
                    ParticipantRole::Technician,
                    snapshot,
                    w,
                );
            }
            // Only an authenticated agent's mail is relayed to the customers (SPEC 6).
            if ev.author == Author::Agent {
                add_participant(
                    number,
                    &email.from.address,
                    email.from.name.clone(),
                    ParticipantRole::Agent,
                    snapshot,
                    w,
                );
                if ctx.notify.is_some()
                    && d.rule != Rule::ReusedMessageId
                    && let Some(relay) = crate::outbox::agent_mail::agent_relay(
                        &email,
                        &d.classification,
                        number,
                        ctx.agents,
                    )
                {
                    relays.push(relay);
                }
            }
            number
        }
    };
    let held = accepted.and_then(|(a, report)| {
        super::escalation::after_accept(ticket, &email, a, report, snapshot, ctx, w)
    });
    snapshot.record_seen(
        reused.as_ref().unwrap_or(&email.message_id),
        Some(ticket),
        raw_sha256,
        content,
    );
    let mut decision = decision_row(source, Some(mid.clone()), raw_sha256, d, Some(ticket), ctx);
    decision
        .reason
        .push_str(held.as_deref().unwrap_or_default());
    w.decisions.push(decision);
    // The decision names the mail's own Message-ID; the message is stored under the one above.
    let mid = reused.map_or(mid, |id| id.to_string());
    let to_addrs = join_addresses(email.to.iter().map(|m| &m.address));
    let cc_addrs = join_addresses(email.cc.iter().map(|m| &m.address));
    let references_ids = email
        .references
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for (i, a) in email.attachments.into_iter().enumerate() {
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
        direction: if ev.escalation.is_some() || ev.author == Author::UnverifiedAgent {
            MessageDirection::Note
        } else {
            MessageDirection::Inbound
        },
        flag: ev.author.flag(),
        message_id: mid,
        classification: d.classification.clone(),
        from_addr: email.from.address.to_string(),
        from_name: email.from.name.clone(),
        to_addrs,
        cc_addrs,
        subject: email.subject,
        sent_date: email.date,
        received_at: at,
        in_reply_to: email.in_reply_to.first().map(|m| m.to_string()),
        references_ids,
        source: source.to_string(),
        raw_sha256: raw_sha256.to_string(),
        raw,
    });
    Some(ticket)
}

/// The Cc addresses of `email` that become participants of the ticket it opens: not ours, not
/// the sender, at most `limits.max_new_participants` of them; and how many more were left out
/// (they stay recorded on the message, and are never mailed).
fn new_participants<'m>(
    cc: &'m [crate::domain::Mailbox],
    email: &InboundEmail,
    ctx: &PlanContext,
) -> (Vec<&'m crate::domain::Mailbox>, usize) {
    let eligible = cc
        .iter()
        .filter(|m| !ctx.own.contains(&m.address) && m.address != email.from.address);
    let mut kept = Vec::new();
    let mut left_out = 0;
    for m in eligible {
        if kept.len() < ctx.max_new_participants {
            kept.push(m);
        } else {
            left_out += 1;
        }
    }
    (kept, left_out)
}

/// The content fingerprint of a mail ([`crate::parse::content_fingerprint`]), computed only
/// when it may be compared: its Message-ID is stored with other bytes and that mail's content is
/// known, or another mail of the batch carries it with other bytes ([`Snapshot::rivals`]).
/// Other mail (nearly all) costs nothing more.
fn content_if_needed(
    id: &MessageId,
    raw: &[u8],
    stored: &StoredRaw,
    raw_sha256: &str,
    snapshot: &Snapshot,
) -> Option<String> {
    let stored_other = snapshot
        .seen
        .get(id)
        .is_some_and(|s| s.content.is_some() && s.raw_sha256 != raw_sha256);
    if !(stored_other || snapshot.rivals.contains(id)) {
        return None;
    }
    if raw.is_empty() {
        // The raw bytes moved into a retry copy: those compressed for storage are used.
        StoredRaw::decode(stored.codec.as_str(), stored.bytes.clone())
            .ok()
            .map(|raw| crate::parse::content_fingerprint(&raw))
    } else {
        Some(crate::parse::content_fingerprint(raw))
    }
}

fn join_addresses<'a>(addrs: impl Iterator<Item = &'a EmailAddress>) -> String {
    addrs.map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
}

/// Our own mail coming back in (SPEC 5): a Message-ID we signed, or a From that is one of our
/// addresses. Checked before threading, after the duplicate check (a re-delivery stays a
/// duplicate); never a new ticket, never a notification.
fn own_mail(
    email: &InboundEmail,
    classification: &Classification,
    snapshot: &Snapshot,
    ctx: &PlanContext,
) -> Option<Evaluation> {
    if snapshot.seen(&email.message_id).is_some() {
        return None;
    }
    let own = recognise_own_mail(&email.message_id, &email.from.address, ctx.own_ids, ctx.own)?;
    let why = match own {
        OwnMail::OurMessageId { ticket } => format!(
            "its Message-ID <{}> is one mailgate generated (signature verified, {})",
            email.message_id,
            TicketRef::new(ctx.decide.thread.prefix, ticket)
        ),
        OwnMail::FromOwnAddress(a) => format!("it is from {a}, one of mailgate's own addresses"),
    };
    Some(Evaluation::new(
        Decision {
            action: Action::Ignore {
                reason: IgnoreReason::OwnMail,
            },
            classification: classification.clone(),
            rule: Rule::OwnMail,
            reason: format!(
                "mailgate's own mail coming back: {why}; logged, never a customer's message"
            ),
        },
        None,
        Author::Participant,
    ))
}

/// The acknowledgement of a ticket a customer's mail just opened (pure): rows into `w.outbox`,
/// the batch's per-recipient counts updated so the rate cap sees them.
#[allow(clippy::too_many_arguments)]
fn acknowledge(
    number: i64,
    email: &InboundEmail,
    trust: &SenderTrust,
    status: crate::domain::Status,
    priority: crate::domain::Priority,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) {
    let Some(settings) = ctx.notify.as_ref() else {
        return;
    };
    if ctx.role != Role::Support {
        return;
    }
    let prefix = ctx.decide.thread.prefix;
    let mut participants = Participants {
        requester: Some(email.from.address.clone()),
        ..Participants::default()
    };
    for cc in new_participants(&email.cc, email, ctx).0 {
        let a = &cc.address;
        if ctx.agents.matches(a) {
            participants.agents.push(a.clone());
        } else {
            participants.cc.push(a.clone());
        }
    }
    let subject = email.subject.trim();
    let answering = Answering {
        message_id: email.message_id.clone(),
        classification: Classification::Plain,
        // The sender's own words are quoted back only to a sender that is the From address
        // and not reported forged; never to anyone else (see `enqueue`).
        reply_text: if trust.may_authorise() {
            email.reply_text.clone()
        } else {
            String::new()
        },
        addressed_to_us: email.recipients().any(|r| ctx.own.contains(r)),
    };
    let n = Notification {
        ticket: TicketInfo {
            reference: TicketRef::new(prefix, number),
            subject: if subject.is_empty() {
                "(no subject)".into()
            } else {
                subject.to_string()
            },
            status,
            priority,
            requester: email.from.address.to_string(),
        },
        change: Change::Created,
        participants: &participants,
        answering: Some(&answering),
        thread: &email.references,
        now: ctx.now,
    };
    queue_notification(&n, settings, ctx, snapshot, w);
}

#[cfg(test)]
mod tests;
