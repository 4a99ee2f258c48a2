//! A bounce of our own mail (SPEC 5, pure): when a bounce refers to a mail mailgate sent (its
//! In-Reply-To / References, or the returned original), it is stored on that mail's ticket
//! like other machine mail (never a new ticket, never a reopening, never answered), and the
//! recipients whose delivery failed are marked bouncing on that ticket, so notifications skip
//! them from then on. A report (a feedback loop's complaint about our mail) is stored the
//! same way, marking nobody.
//!
//! "Our mail": a Message-ID that verifies with the installation's key when a secret is
//! configured, else one found in the outbox.

use crate::bounce::BounceReport;
use crate::decide::Evaluation;
use crate::domain::{Action, Classification, EmailAddress, MessageId, Rule, TicketRef};
use crate::thread::ThreadLookup;

use super::context::PlanContext;
use crate::store::{SentMail, Snapshot, Writes};

/// Turns the evaluation of a bounce that refers to our mail into one that stores it on that
/// mail's ticket, and plans the bouncing marks. Any other evaluation is returned unchanged.
pub(super) fn bounce_of_own_mail(
    report: &BounceReport,
    mut ev: Evaluation,
    snapshot: &Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) -> Evaluation {
    let is_report = matches!(ev.decision.classification, Classification::Report(_));
    if !(is_report || matches!(ev.decision.classification, Classification::Bounce(_)))
        || ev.redelivery
        || matches!(ev.decision.rule, Rule::Duplicate | Rule::OwnMail)
    {
        return ev;
    }
    let Some((id, ticket, sent)) = report
        .referenced
        .iter()
        .find_map(|id| ours(id, snapshot, ctx).map(|(t, s)| (id, t, s)))
    else {
        return ev;
    };
    // A report is about mail that was delivered: nobody is marked bouncing.
    let failed = if is_report {
        Vec::new()
    } else {
        failed_recipients(report, sent)
    };
    let r = TicketRef::new(ctx.decide.thread.prefix, ticket);
    let (kind, why) = (
        ev.decision.classification.as_str(),
        ev.decision.classification.why().unwrap_or_default(),
    );
    let what = format!("{kind} of our notification <{id}> ({why})");
    let marks = if is_report {
        "a report marks no one bouncing".to_string()
    } else if failed.is_empty() {
        "names no failed recipient (no delivery-status report, and the notification had \
         several recipients), so no one is marked bouncing"
            .to_string()
    } else {
        let list: Vec<&str> = failed.iter().map(EmailAddress::as_str).collect();
        format!("marks {} bouncing on {r}", list.join(", "))
    };
    match &ev.decision.action {
        Action::AppendToTicket { .. } => {
            ev.decision.reason.push_str(&format!("; {what} {marks}"));
        }
        Action::Ignore { .. } => {
            ev.decision.action = Action::AppendToTicket {
                ticket: r.clone(),
                new_status: None,
            };
            ev.decision.rule = Rule::ReturnedMail;
            ev.decision.reason = format!(
                "{what}, which mailgate sent for {r}: stored on {r} without changing its \
                 status; {marks}"
            );
            ev.ticket = Some(ticket);
        }
        Action::CreateTicket { .. } | Action::RejectEscalation { .. } | Action::Quarantine => {
            return ev;
        }
    }
    for a in failed {
        w.bouncing.push((ticket, a.clone()));
    }
    ev
}

/// The ticket of one of our Message-IDs, and its outbox row when there is one.
fn ours<'s>(
    id: &MessageId,
    snapshot: &'s Snapshot,
    ctx: &PlanContext,
) -> Option<(i64, Option<&'s SentMail>)> {
    let sent = snapshot.sent.get(id);
    match ctx.own_ids {
        Some(ids) => {
            let n = ids.verify(id)?;
            snapshot.ticket_status(n)?;
            Some((n, sent.filter(|s| s.ticket == n)))
        }
        None => sent.map(|s| (s.ticket, Some(s))),
    }
}

/// The DSN's failed recipients; without any, the notification's only recipient.
fn failed_recipients(report: &BounceReport, sent: Option<&SentMail>) -> Vec<EmailAddress> {
    if !report.failed.is_empty() {
        return report.failed.clone();
    }
    match sent {
        Some(s) if s.recipients.len() == 1 => s.recipients.clone(),
        _ => Vec::new(),
    }
}
