//! Planning a monitoring alert's new ticket (SPEC 7), pure: the ticket is stored under its
//! alert key (so a repeat or a recovery finds it, in this batch too), and a critical one
//! alerts every technician at once (`critical_alert`). The monitoring system gets nothing:
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
    let Some(settings) = ctx.notify.as_ref() else {
        return;
    };
    if note.priority != Priority::Critical {
        return;
    }
    // No requester: the monitoring system is not a customer and is never mailed.
    let participants = Participants::default();
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
            priority: Priority::Critical,
            requester: email.from.address.to_string(),
        },
        change: Change::CriticalRaised {
            note: Some(format!(
                "Monitoring alert ({}) for {}: {}",
                note.source, note.key, subject
            )),
        },
        participants: &participants,
        answering: None,
        thread: &[],
        now: ctx.now,
    };
    queue_notification(&n, settings, ctx, snapshot, w);
}
