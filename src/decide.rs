//! Deciding (SPEC 2.5): from a parsed, classified, threaded mail to a [`Decision`]. Pure: the
//! store is reached only through the lookup traits, so every rule is unit-tested without I/O.

mod escalation;

use crate::config::Role;
use crate::domain::{
    Action, Classification, Decision, IgnoreReason, InboundEmail, MessageId, Priority, Rule,
    Status, TicketRef,
};
use crate::escalation::gate::GateReport;
use crate::escalation::rules::{EscalationRules, TicketLookup};
use crate::thread::{ThreadContext, ThreadLookup, Threading, thread};

/// A Message-ID the installation has already decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub ticket: Option<i64>,
    pub raw_sha256: String,
    /// A mail received and stored (on `ticket`), not one only logged nor one mailgate sent: a
    /// different mail reusing its Message-ID is kept (see [`evaluate`]).
    pub received: bool,
}

/// Everything deciding needs from the store (the escalation gate's ticket lookup included).
pub trait DecideLookup: ThreadLookup + TicketLookup {
    fn seen(&self, id: &MessageId) -> Option<Seen>;
}

pub struct DecideContext<'a> {
    pub thread: ThreadContext<'a>,
    /// `import --archive`: history, so tickets are created closed and never reopened.
    pub archive: bool,
    /// The escalation gate's rules (SPEC 4), for mail at an escalation mailbox.
    pub escalation: &'a EscalationRules,
}

/// A decision plus what the store needs to apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The ticket the mail lands on, for appends and duplicates.
    pub ticket: Option<i64>,
    /// The very same bytes were decided before (a re-run or re-delivery): nothing at all is
    /// stored, not even a decision row, so re-running an import changes nothing.
    pub redelivery: bool,
    /// What the escalation gate found and decided, for mail it judged.
    pub escalation: Option<Box<GateReport>>,
}

pub fn evaluate(
    email: &InboundEmail,
    raw_sha256: &str,
    role: Role,
    lookup: &impl DecideLookup,
    ctx: &DecideContext,
) -> Evaluation {
    let classification = crate::classify::classify(email, role);
    let prefix = ctx.thread.prefix;
    if let Some(seen) = lookup.seen(&email.message_id) {
        return seen_before(
            &email.message_id,
            raw_sha256,
            classification,
            seen,
            lookup,
            prefix,
        );
    }
    if classification == Classification::Escalation {
        return escalation::evaluate(email, classification, lookup, ctx);
    }

    let threading = thread(email, lookup, &ctx.thread);
    let (action, rule, reason, ticket) = match threading {
        Threading::Existing {
            ticket,
            rule,
            detail,
        } => {
            let r = TicketRef::new(prefix, ticket);
            let status = lookup.ticket_status(ticket);
            let reopen = reopens(&classification, status, ctx);
            let mut reason = detail;
            if classification.is_machine_generated() {
                reason.push_str(&format!(
                    "; {} mail is stored on {r} without changing its status",
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
            Classification::Bounce(why) | Classification::Automatic(why) => (
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
    Evaluation {
        decision: Decision {
            action,
            classification,
            rule,
            reason,
        },
        ticket,
        redelivery: false,
        escalation: None,
    }
}

/// A mail whose Message-ID `id` was decided on before (`seen`):
/// - the very same bytes: a re-delivery, nothing stored;
/// - other bytes, where `id` is a mail received and stored on a ticket: a different mail reusing
///   the Message-ID (a mailing-list copy with a footer, a re-delivery with other headers, a
///   client that reuses ids). It is kept: stored under the synthetic id of its bytes
///   ([`MessageId::synthetic_for_sha256`]) on the ticket of that mail, which it claims to be,
///   without changing the ticket's status (never an acknowledgement). Once kept, the same bytes
///   again are a re-delivery of it (the synthetic id is looked up too);
/// - other bytes, where `id` was only logged or is one mailgate sent: a duplicate, logged.
fn seen_before(
    id: &MessageId,
    raw_sha256: &str,
    classification: Classification,
    seen: Seen,
    lookup: &impl DecideLookup,
    prefix: &str,
) -> Evaluation {
    let repeated = |seen: &Seen, kept_as: Option<&MessageId>| {
        let redelivery = seen.raw_sha256 == raw_sha256;
        Evaluation {
            decision: duplicate(
                id,
                classification.clone(),
                seen,
                redelivery,
                kept_as,
                prefix,
            ),
            ticket: seen.ticket,
            redelivery,
            escalation: None,
        }
    };
    let ticket = match seen.ticket {
        Some(t) if seen.received && seen.raw_sha256 != raw_sha256 => t,
        _ => return repeated(&seen, None),
    };
    let synthetic = MessageId::synthetic_for_sha256(raw_sha256);
    if let Some(kept) = lookup.seen(&synthetic) {
        return repeated(&kept, Some(&synthetic));
    }
    let r = TicketRef::new(prefix, ticket);
    Evaluation {
        decision: Decision {
            reason: format!(
                "Message-ID <{id}> is already used by a different stored message; kept under \
                 the synthetic id <{synthetic}> and stored on {r}, the ticket of that message, \
                 without changing its status or notifying anyone"
            ),
            action: Action::AppendToTicket {
                ticket: r,
                new_status: None,
            },
            classification,
            rule: Rule::ReusedMessageId,
        },
        ticket: Some(ticket),
        redelivery: false,
        escalation: None,
    }
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
    let on = seen
        .ticket
        .map(|t| format!(" (on {})", TicketRef::new(prefix, t)))
        .unwrap_or_default();
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
    Decision {
        action: Action::Ignore {
            reason: IgnoreReason::Duplicate,
        },
        classification,
        rule: Rule::Duplicate,
        reason,
    }
}

/// A person's reply to a resolved, closed or pending ticket opens it again; machine mail and
/// imported history never change a status.
pub(crate) fn reopens(
    classification: &Classification,
    status: Option<Status>,
    ctx: &DecideContext,
) -> Option<Status> {
    if classification.is_machine_generated() || ctx.archive {
        return None;
    }
    match status? {
        Status::Resolved | Status::Closed | Status::Pending => Some(Status::Open),
        Status::New | Status::Open => None,
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
