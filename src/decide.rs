//! Deciding (SPEC 2.5): from a parsed, classified, threaded mail to a [`Decision`]. Pure: the
//! store is reached only through the lookup traits, so every rule is unit-tested without I/O.

mod alert;
mod escalation;
mod evaluation;
mod redelivery;

pub use evaluation::{AlertNote, Author, DecideContext, DecideLookup, Evaluation};
pub use redelivery::{is_redelivery, needs_synthetic};

use evaluation::reopens;

use crate::alerts::AlertVerdict;
use crate::domain::{
    Action, Classification, Decision, IgnoreReason, InboundEmail, MessageId, Priority, Rule,
    Status, TicketRef,
};
use crate::store::Seen;
use crate::thread::{Standing, Threading, thread};
use crate::trust::SenderTrust;

/// The [`Author`] of a threaded mail, and what the decision's reason says about it.
fn author_of(
    standing: &Standing,
    email: &InboundEmail,
    trust: &SenderTrust,
    ticket: &TicketRef,
    ctx: &DecideContext,
) -> (Author, String) {
    let sender = &email.from.address;
    match standing {
        Standing::NonParticipant { .. }
            if ctx.technicians.contains(sender) && trust.authenticated() =>
        {
            (
                Author::Technician,
                format!(
                    "; technician {sender} authenticated: {}; now involved in {ticket} \
                     (a participant with the technician role)",
                    trust.describe()
                ),
            )
        }
        Standing::NonParticipant { why } => (
            Author::NonParticipant,
            format!(
                "; {why}: stored on {ticket}, flagged as from a non-participant (it makes \
                 nobody a participant and changes no status)"
            ),
        ),
        Standing::AgentByToken => (
            Author::Agent,
            format!("; agent {sender} authenticated by the reply address signed for them"),
        ),
        Standing::Participant if ctx.thread.agents.matches(sender) => {
            if trust.authenticated() {
                (
                    Author::Agent,
                    format!("; agent {sender} authenticated: {}", trust.describe()),
                )
            } else {
                (
                    Author::UnverifiedAgent,
                    format!(
                        "; from agent address {sender}, not authenticated ({}; not sent to an \
                         agent reply address): stored as an internal note marked unverified, \
                         never relayed to the customer",
                        trust.describe()
                    ),
                )
            }
        }
        Standing::Participant => (Author::Participant, String::new()),
    }
}

/// `classification`: what the mail is, as it was classified when it was prepared
/// (`pipeline::Preparer`, for the mailbox it arrived at). `content`: the mail's
/// [`crate::parse::content_fingerprint`], given only when its Message-ID is stored with other
/// bytes and that mail's content is known (see [`Seen::content`]).
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    email: &InboundEmail,
    trust: &SenderTrust,
    raw_sha256: &str,
    content: Option<&str>,
    classification: Classification,
    lookup: &impl DecideLookup,
    ctx: &DecideContext,
) -> Evaluation {
    let prefix = ctx.thread.prefix;
    if let Some(seen) = lookup.seen(&email.message_id) {
        let bytes = Bytes {
            sha256: raw_sha256,
            content,
        };
        return seen_before(email, trust, bytes, classification, seen, lookup, ctx);
    }
    if classification == Classification::Escalation {
        return escalation::evaluate(email, trust, classification, lookup, ctx);
    }
    // Monitoring (SPEC 7): a configured, authenticated system's alert opens, threads onto or
    // resolves its ticket; other monitoring mail and alert-shaped mail from anyone else is
    // machine mail, whatever its headers say.
    let classification = if matches!(
        classification,
        Classification::Plain | Classification::Automatic(_)
    ) {
        match crate::alerts::judge(email, trust, ctx.alerts) {
            AlertVerdict::Alert { source, alert } => {
                return alert::evaluate(email, source, &alert, lookup, ctx);
            }
            AlertVerdict::Machine(why) => Classification::Automatic(why),
            AlertVerdict::NotAlert => classification,
        }
    } else {
        classification
    };

    let threading = thread(email, trust, lookup, &ctx.thread);
    let mut author = Author::Participant;
    let (action, rule, reason, ticket) = match threading {
        Threading::Existing {
            ticket,
            rule,
            detail,
            standing,
        } => {
            let r = TicketRef::new(prefix, ticket);
            let status = lookup.ticket_status(ticket);
            let (who, about) = author_of(&standing, email, trust, &r, ctx);
            author = who;
            let reopen = reopens(&classification, status, ctx).filter(|_| who.may_change_status());
            let mut reason = detail;
            reason.push_str(&about);
            if let Some(why) = classification.why() {
                reason.push_str(&format!(
                    "; {} mail ({why}) is stored on {r} without changing its status",
                    classification.as_str()
                ));
            } else if let (Some(new), Some(old)) = (reopen, status) {
                reason.push_str(&format!("; {r} was {old}: now {new}"));
            }
            let action = Action::AppendToTicket {
                ticket: r,
                new_status: reopen,
            };
            (action, rule, reason, Some(ticket))
        }
        Threading::New { rule, detail } => match &classification {
            Classification::Bounce(why)
            | Classification::Report(why)
            | Classification::Automatic(why) => (
                Action::Ignore {
                    reason: IgnoreReason::MachineUnthreaded,
                },
                Rule::Unthreaded,
                format!(
                    "{} mail ({why}) that belongs to no ticket: logged, no ticket created",
                    classification.as_str()
                ),
                None,
            ),
            _ => {
                let status = if ctx.archive {
                    Status::Closed
                } else {
                    Status::New
                };
                let priority = priority_of(email);
                let mut reason = detail;
                if !trust.origin.is_from() {
                    reason.push_str(&format!(
                        "; requester {} is unverified ({}): it authorises nothing",
                        email.from.address,
                        trust.origin.header()
                    ));
                }
                if ctx.archive {
                    reason.push_str(", closed because it is imported as history");
                }
                (
                    Action::CreateTicket {
                        status,
                        priority,
                        escalation: false,
                    },
                    rule,
                    reason,
                    None,
                )
            }
        },
    };
    Evaluation::new(
        Decision {
            action,
            classification,
            rule,
            reason,
        },
        ticket,
        author,
    )
}

/// A mail whose Message-ID `id` was decided on before (`seen`):
/// - the very same bytes: a re-delivery, nothing stored;
/// - other bytes, where `id` is a mail received and stored on a ticket: a different mail reusing
///   the Message-ID (a mailing-list copy with a footer, a client that reuses ids). It is kept: stored under the synthetic id of its bytes
///   ([`MessageId::synthetic_for_sha256`]) on the ticket of that mail, which it claims to be,
///   without changing the ticket's status (never an acknowledgement). Once kept, the same bytes
///   again are a re-delivery of it (the synthetic id is looked up too);
///   Unless its content is the same ([`crate::parse::content_fingerprint`]): the same mail
///   delivered by another route (only trace headers differ) is a duplicate, logged;
/// - other bytes, where `id` was only logged or is one mailgate sent: a duplicate, logged.
fn seen_before(
    email: &InboundEmail,
    trust: &SenderTrust,
    bytes: Bytes,
    classification: Classification,
    seen: Seen,
    lookup: &impl DecideLookup,
    ctx: &DecideContext,
) -> Evaluation {
    let (id, prefix) = (&email.message_id, ctx.thread.prefix);
    let raw_sha256 = bytes.sha256;
    let repeated = |seen: &Seen, kept_as: Option<&MessageId>, redelivery: bool| Evaluation {
        redelivery,
        ..Evaluation::new(
            duplicate(
                id,
                classification.clone(),
                seen,
                redelivery,
                kept_as,
                prefix,
            ),
            seen.ticket,
            Author::Participant,
        )
    };
    let ticket = match seen.ticket {
        Some(t) if needs_synthetic(&seen, raw_sha256) => t,
        _ => return repeated(&seen, None, is_redelivery(raw_sha256, &seen, None)),
    };
    // The same mail as the stored one with other trace headers: a duplicate.
    let trace = |redelivery: bool| Evaluation {
        redelivery,
        ..Evaluation::new(
            trace_copy(id, classification.clone(), &seen, prefix),
            seen.ticket,
            Author::Participant,
        )
    };
    let synthetic = MessageId::synthetic_for_sha256(raw_sha256);
    if let Some(kept) = lookup.seen(&synthetic) {
        let redelivery = is_redelivery(raw_sha256, &seen, Some(&kept));
        if !kept.received && redelivery {
            // These bytes were logged before as such a copy.
            return trace(true);
        }
        return repeated(&kept, Some(&synthetic), redelivery);
    }
    if bytes.content.is_some() && bytes.content == seen.content.as_deref() {
        return trace(false);
    }
    let r = TicketRef::new(prefix, ticket);
    // Anybody can reuse a Message-ID: from someone who is not a participant it is flagged,
    // like a mail threaded by Message-ID (SPEC 2.4.1).
    let sender = &email.from.address;
    let participant = trust.may_authorise()
        && (lookup.is_participant(ticket, sender) || ctx.thread.agents.matches(sender));
    let (author, flagged) = if participant {
        (Author::Participant, String::new())
    } else {
        (
            Author::NonParticipant,
            format!("; {sender} is not a participant of {r}: flagged as from a non-participant"),
        )
    };
    Evaluation::new(
        Decision {
            reason: format!(
                "Message-ID <{id}> is already used by a different stored message; kept under \
                 the synthetic id <{synthetic}> and stored on {r}, the ticket of that message, \
                 without changing its status or notifying anyone{flagged}"
            ),
            action: Action::AppendToTicket {
                ticket: r,
                new_status: None,
            },
            classification,
            rule: Rule::ReusedMessageId,
        },
        Some(ticket),
        author,
    )
}

/// The raw bytes of a mail, as deciding compares them with a stored mail's.
#[derive(Debug, Clone, Copy)]
struct Bytes<'a> {
    sha256: &'a str,
    content: Option<&'a str>,
}

/// The decision for the same mail as a stored one delivered by another route: other bytes,
/// the same content (only its trace headers differ). A duplicate, logged; nothing stored.
pub fn trace_copy(
    message_id: &MessageId,
    classification: Classification,
    seen: &Seen,
    prefix: &str,
) -> Decision {
    let on = on_ticket(seen, prefix);
    duplicate_of(
        classification,
        format!(
            "the same mail as <{message_id}> (only its trace headers differ) was already \
             processed{on}"
        ),
    )
}

/// The decision for a Message-ID already decided on. `redelivery`: the very same bytes (see
/// [`Evaluation::redelivery`]; import recognises those before parsing and only counts them).
/// `kept_as`: they were decided on under this synthetic id, because `message_id` belongs to
/// a different stored message.
pub fn duplicate(
    message_id: &MessageId,
    classification: Classification,
    seen: &Seen,
    redelivery: bool,
    kept_as: Option<&MessageId>,
    prefix: &str,
) -> Decision {
    let on = on_ticket(seen, prefix);
    let what = if redelivery {
        "the same message"
    } else {
        "a message with this Message-ID"
    };
    let reason = match kept_as {
        None => format!("{what} <{message_id}> was already processed{on}"),
        Some(synthetic) => format!(
            "{what} was already processed{on}: Message-ID <{message_id}> is used by a different \
             stored message, so it was kept under the synthetic id <{synthetic}>"
        ),
    };
    duplicate_of(classification, reason)
}

/// ` (on SUP-n)` for the ticket a seen mail is on, else nothing.
fn on_ticket(seen: &Seen, prefix: &str) -> String {
    seen.ticket
        .map(|t| format!(" (on {})", TicketRef::new(prefix, t)))
        .unwrap_or_default()
}

/// A mail already decided on: ignored as a duplicate, with `reason`.
fn duplicate_of(classification: Classification, reason: String) -> Decision {
    Decision {
        action: Action::Ignore {
            reason: IgnoreReason::Duplicate,
        },
        classification,
        rule: Rule::Duplicate,
        reason,
    }
}

/// X-Priority 1–2 asks for high priority; a customer's header alone never makes a ticket
/// critical (SPEC 3).
fn priority_of(email: &InboundEmail) -> Priority {
    let level = email
        .headers
        .x_priority
        .as_deref()
        .and_then(|p| p.trim().chars().next())
        .and_then(|c| c.to_digit(10));
    match level {
        Some(1 | 2) => Priority::High,
        _ => Priority::Normal,
    }
}

#[cfg(test)]
mod tests;
