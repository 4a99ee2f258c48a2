//! Deciding a monitoring alert (SPEC 7), pure: the verdict of [`crate::alerts::judge`] and the
//! open ticket of the alert's key become the decision. A problem opens a ticket (priority by the
//! state; a critical one alerts every technician) or threads onto the open one of its key
//! (`alert-repeat`); a recovery is stored on that ticket and resolves it (`alert-recovery`).
//! The decision names the rule and the key. Nothing here is ever mailed to the monitoring
//! system: alert mail is classified automatic, which is never acknowledged or answered.

use crate::alerts::{Alert, AlertOutcome, AlertSource, outcome};
use crate::domain::{
    Action, Classification, Decision, IgnoreReason, InboundEmail, Priority, Rule, Status, TicketRef,
};

use super::evaluation::{AlertNote, Author, DecideContext, DecideLookup, Evaluation};

pub(super) fn evaluate(
    email: &InboundEmail,
    source: &AlertSource,
    alert: &Alert,
    lookup: &impl DecideLookup,
    ctx: &DecideContext,
) -> Evaluation {
    let prefix = ctx.thread.prefix;
    let key = alert.key();
    let priority = source.priorities.priority_of(alert);
    let classification = Classification::Automatic(format!(
        "monitoring alert of {:?} ({} format)",
        source.name,
        source.format.name()
    ));
    let what = format!(
        "monitoring alert from {} (alerts entry {:?}): {}; key {key}",
        email.from.address,
        source.name,
        alert.describe()
    );
    let open = lookup.open_alert_ticket(&key);
    let mut raise = None;
    let mut resolves_critical = false;
    let (action, rule, reason, ticket) = match outcome(alert.kind, open, source.on_recovery) {
        AlertOutcome::Open => {
            let status = if ctx.archive {
                Status::Closed
            } else {
                Status::Open
            };
            let paged = if priority == Priority::Critical && !ctx.archive {
                "; every technician is alerted"
            } else {
                ""
            };
            (
                Action::CreateTicket {
                    status,
                    priority,
                    escalation: false,
                },
                Rule::AlertProblem,
                format!(
                    "{what}: no open ticket for it, new ticket with priority {priority}{paged}; \
                     the monitoring system is never mailed back"
                ),
                None,
            )
        }
        AlertOutcome::Repeat { ticket } => {
            let r = TicketRef::new(prefix, ticket);
            let current = lookup.ticket_priority(ticket);
            raise = current
                .filter(|c| priority.is_above(*c) && !ctx.archive)
                .map(|_| priority);
            let raised = match (raise, current) {
                (Some(p), Some(old)) => format!(
                    "; priority raised from {old} to {p}{}",
                    if p == Priority::Critical {
                        ", every technician is alerted"
                    } else {
                        ""
                    }
                ),
                _ => String::new(),
            };
            (
                Action::AppendToTicket {
                    ticket: r.clone(),
                    new_status: None,
                },
                Rule::AlertRepeat,
                format!("{what}: {r} is still open for it, stored there{raised}"),
                Some(ticket),
            )
        }
        AlertOutcome::Recover { ticket, resolve } => {
            let r = TicketRef::new(prefix, ticket);
            let status = lookup.ticket_status(ticket);
            let resolves = resolve && !ctx.archive;
            let critical = lookup.ticket_priority(ticket) == Some(Priority::Critical);
            let (new_status, done) = match (resolves, status) {
                (true, Some(old)) => {
                    resolves_critical = critical;
                    (
                        Some(Status::Resolved),
                        format!(
                            "stored on {r} and {r} resolved (it was {old}){}",
                            if critical {
                                "; every technician is told of the resolution"
                            } else {
                                ""
                            }
                        ),
                    )
                }
                _ => (
                    None,
                    format!("stored on {r} as a note (on_recovery = \"note\"), status unchanged"),
                ),
            };
            (
                Action::AppendToTicket {
                    ticket: r,
                    new_status,
                },
                Rule::AlertRecovery,
                format!("{what}: {done}"),
                Some(ticket),
            )
        }
        AlertOutcome::StrayRecovery => (
            Action::Ignore {
                reason: IgnoreReason::MachineUnthreaded,
            },
            Rule::AlertRecovery,
            format!("{what}: no open ticket for it, logged only"),
            None,
        ),
    };
    let note = AlertNote {
        key,
        source: source.name.clone(),
        priority,
        raise,
        resolves_critical,
    };
    Evaluation {
        alert: Some(note),
        ..Evaluation::new(
            Decision {
                action,
                classification,
                rule,
                reason,
            },
            ticket,
            Author::Participant,
        )
    }
}
