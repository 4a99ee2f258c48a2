//! What an SLA pass must do for one ticket (SPEC 7), purely: from the ticket's clocks, the
//! pings already sent and "now", which ping is due, and when. Each ping is identified by
//! (ticket, kind, due time), and the due time follows from the ticket's stored times, never
//! from "now": a pass repeated, run by two processes at once, or run after the clock jumped
//! back or forward computes the same key, so the store's unique key on it makes every ping
//! happen once.
//!
//! - `open` (and `new`) tickets: an internal reminder each `open_update_every` (or
//!   `critical_update_every` for critical tickets) of counted time without an agent's reply or
//!   note, counted from the last agent activity or from when the ticket became open.
//! - `pending` tickets: one prompt to the customer `pending_reminder_after` without customer
//!   mail; `auto_close_pending_after` without it (and at least the difference of the two after
//!   the prompt, so a customer always has that long to answer), the ticket is resolved.

use super::calendar::Clock;
use crate::domain::{PingKind, Priority, Status, TicketClock};

/// `[sla]`, in seconds, with the clock that counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub open_update_every: Option<u64>,
    pub critical_update_every: Option<u64>,
    pub pending_reminder_after: Option<u64>,
    pub auto_close_pending_after: Option<u64>,
    pub clock: Clock,
}

/// One ping to send: its key is (ticket, kind, due_at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ping {
    pub ticket: i64,
    pub kind: PingKind,
    pub due_at: i64,
}

/// The ping due for `t` at `now`, if any (at most one per ticket and pass: an auto-close wins
/// over the prompt it follows).
pub fn due(t: &TicketClock, now: i64, policy: &Policy) -> Option<Ping> {
    next(t, policy)
        .filter(|p| p.due_at <= now)
        .map(|p| {
            // An open reminder repeats: the latest interval boundary passed is the one due.
            if p.kind == PingKind::OpenReminder {
                latest_open_reminder(t, now, policy).unwrap_or(p)
            } else {
                p
            }
        })
        .filter(|p| p.kind != PingKind::OpenReminder || t.reminded_due.is_none_or(|r| p.due_at > r))
}

/// The next ping of `t` (due or not), for `sla status`.
pub fn next(t: &TicketClock, policy: &Policy) -> Option<Ping> {
    let ping = |kind, due_at| Ping {
        ticket: t.number,
        kind,
        due_at,
    };
    match t.status {
        Status::New | Status::Open => {
            let every = open_interval(t, policy)?;
            let base = open_base(t);
            policy
                .clock
                .after(base, every)
                .map(|at| ping(PingKind::OpenReminder, at))
        }
        Status::Pending => {
            let remind = policy.pending_reminder_after?;
            let base = pending_base(t);
            let prompted = t.prompted_at.filter(|p| *p >= base);
            let Some(prompted) = prompted else {
                return policy
                    .clock
                    .after(base, remind)
                    .map(|at| ping(PingKind::PendingPrompt, at));
            };
            let close = policy.auto_close_pending_after?;
            let after_base = policy.clock.after(base, close)?;
            let after_prompt = policy.clock.after(prompted, close.saturating_sub(remind))?;
            Some(ping(PingKind::AutoClose, after_base.max(after_prompt)))
        }
        Status::Resolved | Status::Closed => None,
    }
}

fn open_interval(t: &TicketClock, policy: &Policy) -> Option<u64> {
    match t.priority {
        Priority::Critical => policy.critical_update_every.or(policy.open_update_every),
        _ => policy.open_update_every,
    }
    .filter(|s| *s > 0)
}

/// An open ticket's clock starts at the later of its last agent activity and when it became
/// open.
fn open_base(t: &TicketClock) -> i64 {
    t.last_agent_at.unwrap_or(i64::MIN).max(t.status_since)
}

/// A pending ticket's clock starts at the later of when it became pending and the customer's
/// last mail.
fn pending_base(t: &TicketClock) -> i64 {
    t.last_customer_at.unwrap_or(i64::MIN).max(t.status_since)
}

/// The last interval boundary of an open ticket's reminders at or before `now`.
fn latest_open_reminder(t: &TicketClock, now: i64, policy: &Policy) -> Option<Ping> {
    let every = open_interval(t, policy)?;
    let base = open_base(t);
    let elapsed = policy.clock.between(base, now);
    let intervals = elapsed / every;
    if intervals == 0 {
        return None;
    }
    let due_at = policy.clock.after(base, intervals.checked_mul(every)?)?;
    Some(Ping {
        ticket: t.number,
        kind: PingKind::OpenReminder,
        due_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3600;
    const D: u64 = 24 * H;

    fn policy() -> Policy {
        Policy {
            open_update_every: Some(24 * H),
            critical_update_every: Some(2 * H),
            pending_reminder_after: Some(3 * D),
            auto_close_pending_after: Some(7 * D),
            clock: Clock::Always,
        }
    }

    fn open(since: i64, agent: Option<i64>) -> TicketClock {
        TicketClock {
            number: 7,
            status: Status::Open,
            priority: Priority::Normal,
            status_since: since,
            last_agent_at: agent,
            last_customer_at: Some(since),
            prompted_at: None,
            reminded_due: None,
        }
    }

    fn at(hours: u64) -> i64 {
        (hours * H) as i64
    }

    #[test]
    fn an_open_ticket_is_reminded_once_per_interval_without_an_agent() {
        let t = open(0, None);
        let p = policy();
        assert_eq!(due(&t, at(24) - 60, &p), None, "a minute before");
        let first = due(&t, at(24) + 60, &p).unwrap();
        assert_eq!((first.kind, first.due_at), (PingKind::OpenReminder, at(24)));
        // Later in the same interval: the same key, so the store sends it once.
        assert_eq!(due(&t, at(47), &p), Some(first));
        // The next interval: a new key.
        assert_eq!(due(&t, at(49), &p).unwrap().due_at, at(48));
        // A jump far ahead: only the latest boundary, one ping.
        assert_eq!(due(&t, at(24 * 10 + 5), &p).unwrap().due_at, at(240));
        // A clock that jumped back: nothing.
        assert_eq!(due(&t, -at(5), &p), None);
        // Back into an earlier interval after a later one's reminder was sent: nothing.
        let reminded = TicketClock {
            reminded_due: Some(at(240)),
            ..t.clone()
        };
        assert_eq!(due(&reminded, at(49), &p), None);
        assert_eq!(due(&reminded, at(240) + 60, &p), None);
        assert_eq!(due(&reminded, at(264) + 60, &p).unwrap().due_at, at(264));
    }

    #[test]
    fn an_agent_reply_resets_the_open_clock_and_critical_tickets_are_pinged_sooner() {
        let p = policy();
        let t = open(0, Some(at(20)));
        assert_eq!(due(&t, at(30), &p), None);
        assert_eq!(due(&t, at(45), &p).unwrap().due_at, at(44));
        let critical = TicketClock {
            priority: Priority::Critical,
            ..open(0, None)
        };
        assert_eq!(due(&critical, at(3), &p).unwrap().due_at, at(2));
        let no_critical_interval = Policy {
            critical_update_every: None,
            ..policy()
        };
        assert_eq!(due(&critical, at(3), &no_critical_interval), None);
        assert_eq!(
            next(&critical, &no_critical_interval).unwrap().due_at,
            at(24)
        );
    }

    fn pending(since: i64, customer: Option<i64>, prompted: Option<i64>) -> TicketClock {
        TicketClock {
            status: Status::Pending,
            last_customer_at: customer,
            prompted_at: prompted,
            ..open(since, None)
        }
    }

    #[test]
    fn a_quiet_pending_ticket_is_prompted_once_then_closed() {
        let p = policy();
        let t = pending(0, None, None);
        assert_eq!(due(&t, at(72) - 60, &p), None);
        let prompt = due(&t, at(72) + 60, &p).unwrap();
        assert_eq!(
            (prompt.kind, prompt.due_at),
            (PingKind::PendingPrompt, at(72))
        );
        // Not closed before it was prompted, however late the pass.
        assert_eq!(
            due(&t, at(24 * 30), &p).unwrap().kind,
            PingKind::PendingPrompt
        );
        // Prompted on time: closed at 7 days.
        let prompted = pending(0, None, Some(at(72)));
        assert_eq!(due(&prompted, at(24 * 7) - 60, &p), None);
        let close = due(&prompted, at(24 * 7) + 60, &p).unwrap();
        assert_eq!(
            (close.kind, close.due_at),
            (PingKind::AutoClose, at(24 * 7))
        );
        // Prompted late (day 10): the customer still gets 4 days.
        let late = pending(0, None, Some(at(240)));
        assert_eq!(next(&late, &p).unwrap().due_at, at(240 + 96));
    }

    #[test]
    fn customer_mail_restarts_the_pending_clock() {
        let p = policy();
        // Prompted at day 3, the customer wrote on day 4 (the ticket stays pending here: the
        // schedule does not care why): a new prompt is due 3 days after that mail.
        let t = pending(0, Some(at(96)), Some(at(72)));
        let ping = next(&t, &p).unwrap();
        assert_eq!(
            (ping.kind, ping.due_at),
            (PingKind::PendingPrompt, at(96 + 72))
        );
    }

    #[test]
    fn a_zero_interval_pings_nothing() {
        let zero = Policy {
            open_update_every: Some(0),
            critical_update_every: Some(0),
            ..policy()
        };
        let t = open(0, None);
        assert_eq!(next(&t, &zero), None);
        assert_eq!(due(&t, at(1000), &zero), None);
    }

    #[test]
    fn finished_tickets_and_missing_settings_are_never_pinged() {
        let p = policy();
        for status in [Status::Resolved, Status::Closed] {
            let t = TicketClock {
                status,
                ..open(0, None)
            };
            assert_eq!(next(&t, &p), None);
        }
        assert_eq!(due(&open(0, None), at(1000), &Policy::default()), None);
        let no_close = Policy {
            auto_close_pending_after: None,
            ..policy()
        };
        assert_eq!(
            due(&pending(0, None, Some(at(72))), at(1000), &no_close),
            None
        );
    }

    #[test]
    fn kinds_have_stored_names() {
        let names: Vec<&str> = [
            PingKind::OpenReminder,
            PingKind::PendingPrompt,
            PingKind::AutoClose,
        ]
        .iter()
        .map(|k| k.as_str())
        .collect();
        assert_eq!(names, ["open_reminder", "pending_prompt", "auto_close"]);
    }
}
