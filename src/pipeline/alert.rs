//! Planning a monitoring alert (SPEC 7), pure: a new ticket is stored under its alert key (so
//! a repeat or a recovery finds it, in this batch too), and a critical one alerts every
//! technician at once (`critical_alert`); a repeat at a higher state raises the priority
//! (critical: the technicians are alerted), and a recovery that resolves a critical ticket
//! tells them (`critical_resolution`). The monitoring system gets nothing:
//! alert mail is automatic, which is never acknowledged.

use crate::decide::AlertNote;
use crate::domain::{InboundEmail, Priority, Status, TicketRef};
use crate::outbox::Participants;
use crate::outbox::enqueue::{Change, Notification, TicketInfo};

use super::context::{PlanContext, queue_notification};
use crate::store::{NewAlertKey, Snapshot, Writes};

/// After the alert's ticket `number` is planned: its key, and the technicians' alert.
pub fn after_new_ticket(
    number: i64,
    email: &InboundEmail,
    note: &AlertNote,
    status: Status,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) {
    w.alert_keys.push(NewAlertKey {
        key: note.key.clone(),
        ticket: number,
        source: note.source.clone(),
        created_at: ctx.now,
    });
    snapshot.alert_tickets.insert(note.key.clone(), number);
    if note.priority == Priority::Critical {
        page_technicians(
            number,
            email,
            note,
            status,
            |n| Change::CriticalRaised { note: Some(n) },
            snapshot,
            ctx,
            w,
        );
    }
}

/// After an alert is stored on its key's open ticket `number`: a repeat at a higher state
/// raises the ticket's priority (critical: every technician is alerted); a recovery that
/// resolved a critical ticket tells every technician (SPEC 6).
pub fn after_append(
    number: i64,
    email: &InboundEmail,
    note: &AlertNote,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) {
    let status = snapshot.ticket_mut(number).status;
    if let Some(p) = note.raise {
        w.set_priority(number, p);
        snapshot.ticket_mut(number).priority = p;
        if p == Priority::Critical {
            page_technicians(
                number,
                email,
                note,
                status,
                |n| Change::CriticalRaised { note: Some(n) },
                snapshot,
                ctx,
                w,
            );
        }
    }
    if note.resolves_critical {
        page_technicians(
            number,
            email,
            note,
            status,
            |n| Change::CriticalResolved { note: n },
            snapshot,
            ctx,
            w,
        );
    }
}

/// Queues `change` (made from the alert's description) about the alert ticket `number` to
/// every technician. No requester: the monitoring system is not a customer and is never
/// mailed.
#[allow(clippy::too_many_arguments)]
fn page_technicians(
    number: i64,
    email: &InboundEmail,
    note: &AlertNote,
    status: Status,
    change: fn(String) -> Change,
    snapshot: &mut Snapshot,
    ctx: &PlanContext,
    w: &mut Writes,
) {
    let Some(settings) = ctx.notify.as_ref() else {
        return;
    };
    let participants = Participants {
        technicians: settings.audience.technicians.to_vec(),
        ..Participants::default()
    };
    let subject = email.subject.trim();
    let n = Notification {
        ticket: TicketInfo {
            reference: TicketRef::new(ctx.decide.thread.prefix, number),
            subject: if subject.is_empty() {
                format!("monitoring alert {}", note.key)
            } else {
                subject.to_string()
            },
            status,
            priority: snapshot.ticket_mut(number).priority,
            requester: email.from.address.to_string(),
        },
        change: change(format!(
            "Monitoring alert ({}) for {}: {}",
            note.source, note.key, subject
        )),
        participants: &participants,
        answering: None,
        thread: &[],
        now: ctx.now,
    };
    queue_notification(&n, settings, ctx, snapshot, w);
}
