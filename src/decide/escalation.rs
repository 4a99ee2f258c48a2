//! Deciding mail at an escalation mailbox (SPEC 4), pure: the gate's verdict becomes the
//! decision. An accepted escalation lands on the ticket it names, else on the ticket of the
//! customer's forwarded original (by its Message-ID), else on a new ticket for the customer.
//! A refused one escalates nothing; only an allowed sender is told why.

use crate::domain::TicketRef;
use crate::domain::{Action, Classification, Decision, InboundEmail, Priority, Rule, Status};
use crate::escalation::gate::run_gate;
use crate::escalation::rules::{Accepted, GateVerdict};
use crate::trust::SenderTrust;

use super::evaluation::{Author, DecideContext, DecideLookup, Evaluation, reopens};

pub(super) fn evaluate(
    email: &InboundEmail,
    trust: &SenderTrust,
    classification: Classification,
    lookup: &impl DecideLookup,
    ctx: &DecideContext,
) -> Evaluation {
    let prefix = ctx.thread.prefix;
    let report = run_gate(email, trust, ctx.escalation, lookup, prefix);
    let (action, rule, reason, ticket) = match &report.verdict {
        GateVerdict::Unauthorised { reason } => (
            Action::RejectEscalation { answer: false },
            Rule::EscalationUnauthorised,
            format!("not escalated: {reason}; logged, not answered"),
            None,
        ),
        GateVerdict::Reject { problems, .. } => {
            let items: Vec<String> = problems
                .iter()
                .map(|p| format!("{} ({:?})", p.field, p.kind).to_lowercase())
                .collect();
            (
                Action::RejectEscalation { answer: true },
                Rule::EscalationRefused,
                format!(
                    "escalation refused, {} item(s) missing or invalid: {}; the sender is told \
                     what to add",
                    problems.len(),
                    items.join(", ")
                ),
                None,
            )
        }
        GateVerdict::Accept(accepted) => {
            let existing = accepted.ticket.as_ref().map(TicketRef::number).or_else(|| {
                report
                    .forwarded
                    .as_ref()
                    .and_then(|f| f.message_id.as_ref())
                    .and_then(|id| lookup.ticket_of_message(id))
            });
            accept(accepted, existing, lookup, ctx)
        }
    };
    Evaluation {
        escalation: Some(Box::new(report)),
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

fn accept(
    accepted: &Accepted,
    existing: Option<i64>,
    lookup: &impl DecideLookup,
    ctx: &DecideContext,
) -> (Action, Rule, String, Option<i64>) {
    let prefix = ctx.thread.prefix;
    let critical = if accepted.priority == Priority::Critical {
        "; every technician is alerted"
    } else {
        ""
    };
    let lowered = accepted
        .downgraded
        .as_ref()
        .map(|why| format!(" (lowered from {}: {why})", accepted.requested_priority))
        .unwrap_or_default();
    let what = format!(
        "escalation accepted: {}, priority {}{lowered}",
        if accepted.category.is_empty() {
            "no category"
        } else {
            &accepted.category
        },
        accepted.priority
    );
    match existing {
        Some(number) => {
            let r = TicketRef::new(prefix, number);
            let status = lookup.ticket_status(number);
            // The gate is a person's request for work: a resolved ticket opens again.
            let reopen = reopens(&Classification::Plain, status, ctx);
            let mut reason = format!("{what}; escalated {r}, tier 2{critical}");
            if let (Some(new), Some(old)) = (reopen, status) {
                reason.push_str(&format!("; {r} was {old}: now {new}"));
            }
            let action = Action::AppendToTicket {
                ticket: r,
                new_status: reopen,
            };
            (action, Rule::EscalationAccepted, reason, Some(number))
        }
        None => {
            let status = if ctx.archive {
                Status::Closed
            } else {
                Status::Open
            };
            let customer = accepted
                .customer
                .as_ref()
                .map(|c| format!(" for {c}"))
                .unwrap_or_default();
            let action = Action::CreateTicket {
                status,
                priority: accepted.priority,
                escalation: true,
            };
            let reason = format!("{what}; new tier-2 ticket{customer}{critical}");
            (action, Rule::EscalationAccepted, reason, None)
        }
    }
}
