//! One SLA pass (issue 14, SPEC 7), the imperative shell around `sla::schedule`: in ONE write
//! transaction, read the tickets that can have a ping due, decide which ping each is due
//! (pure), take the keys (ticket, kind, due time) not taken yet, and queue the mail of those,
//! and for an auto-close resolve the ticket. A ping's key and its mail commit together,
//! so no pass, second process or clock jump ever queues a ping twice. No network I/O happens
//! inside the transaction: the outbox sender delivers the mail later.

use anyhow::Context;
use serde::Serialize;

use crate::cli::outgoing::Outgoing;
use crate::config::Settings;
use crate::domain::{PingKind, Status, TicketClock, TicketRef};
use crate::outbox::enqueue::{Change, Notification, TicketInfo, enqueue};
use crate::pipeline::{AgentTicket, load_agent_tickets};
use crate::sla::{Ping, Policy};
use crate::store::agent::update_status;
use crate::store::sla::{Candidates, last_agent_replies, sla_tickets, take_pings};
use crate::store::{NewOutboxRow, SentCounts, SlaTicket, Store};

/// What one pass queued, by ticket reference.
#[derive(Debug, Default, Serialize)]
pub struct TickReport {
    /// Internal reminders of open tickets.
    pub reminders: Vec<Queued>,
    /// Prompts to customers of pending tickets.
    pub prompts: Vec<Queued>,
    /// Pending tickets resolved, with their closing notice.
    pub closed: Vec<Queued>,
}

/// One ping of the report.
#[derive(Debug, Serialize)]
pub struct Queued {
    pub r#ref: String,
    /// When it was due (RFC 3339).
    pub due_at: String,
    /// Who its mail went to (empty: nobody to tell; still recorded, so not retried).
    pub recipients: Vec<String>,
}

/// Which tickets can have a ping due at `now` under `policy` (see [`Candidates`]).
fn candidates(policy: &Policy, now: i64) -> Candidates {
    let before =
        |secs: Option<u64>| secs.map(|s| now.saturating_sub(i64::try_from(s).unwrap_or(i64::MAX)));
    let shortest_open = [policy.open_update_every, policy.critical_update_every]
        .into_iter()
        .flatten()
        .filter(|s| *s > 0)
        .min();
    Candidates {
        open_quiet_since: before(shortest_open),
        pending_quiet_since: before(policy.pending_reminder_after),
        prompted_quiet_since: before(policy.auto_close_pending_after),
    }
}

/// Runs one pass as of `now` (Unix seconds): reads the candidate tickets, takes the keys of
/// the pings due, loads the tickets they are for, and queues their mail, in a handful of
/// statements per 500 tickets, all in one write transaction.
pub async fn tick(store: &Store, settings: &Settings, now: i64) -> anyhow::Result<TickReport> {
    let policy = settings.sla.policy();
    let mut report = TickReport::default();
    if !settings.sla.is_enabled() {
        return Ok(report);
    }
    let outgoing = Outgoing::new(settings);
    let es = outgoing.settings(settings);
    let prefix = &settings.tickets.prefix;
    let mut tx = store.begin_write().await?;
    let tickets = sla_tickets(&mut tx, candidates(&policy, now)).await?;
    let due: Vec<(Ping, &SlaTicket)> = tickets
        .iter()
        .filter_map(|t| crate::sla::due(&t.clock, now, &policy).map(|p| (p, t)))
        .collect();
    let keys: Vec<(i64, PingKind, i64)> = due
        .iter()
        .map(|(p, _)| (p.ticket, p.kind, p.due_at))
        .collect();
    let taken = take_pings(&mut tx, &keys, now).await?;
    let due: Vec<(Ping, &SlaTicket)> = due
        .into_iter()
        .filter(|(p, _)| taken.contains(&(p.ticket, p.kind, p.due_at)))
        .collect();
    let numbers: Vec<i64> = due.iter().map(|(p, _)| p.ticket).collect();
    let mut loaded = load_agent_tickets(&mut tx, &numbers).await?;
    let unnoted: Vec<i64> = due
        .iter()
        .filter(|(p, t)| {
            p.kind == PingKind::PendingPrompt
                && t.status_note.as_deref().is_none_or(|n| n.trim().is_empty())
        })
        .map(|(p, _)| p.ticket)
        .collect();
    let replies = last_agent_replies(&mut tx, &unnoted).await?;

    let seed = fastrand::u64(..);
    let mut i = 0;
    let mut nonce = || {
        i += 1;
        format!("s{now}.{seed:x}.{i}")
    };
    let mut rows = Vec::new();
    for (ping, sla_ticket) in due {
        let Some(mut t) = loaded.remove(&ping.ticket) else {
            continue;
        };
        let change = match ping.kind {
            PingKind::OpenReminder => Change::SlaReminder {
                note: waited(&policy, &sla_ticket.clock, now),
            },
            PingKind::PendingPrompt => Change::PendingPrompt {
                note: action_needed(
                    sla_ticket.status_note.as_deref(),
                    replies.get(&t.number).map(String::as_str),
                ),
            },
            PingKind::AutoClose => {
                update_status(&mut tx, t.number, Status::Resolved, None, now).await?;
                t.status = Status::Resolved;
                Change::AutoClosed
            }
        };
        let queued_rows = queue(&t, change, prefix, &es, now, &mut nonce);
        let queued = Queued {
            r#ref: TicketRef::new(prefix, t.number).to_string(),
            due_at: crate::cli::output::time(ping.due_at),
            recipients: queued_rows
                .iter()
                .filter(|r| r.held.is_none())
                .flat_map(|r| r.recipients.iter().map(ToString::to_string))
                .collect(),
        };
        rows.extend(queued_rows);
        match ping.kind {
            PingKind::OpenReminder => report.reminders.push(queued),
            PingKind::PendingPrompt => report.prompts.push(queued),
            PingKind::AutoClose => report.closed.push(queued),
        }
    }
    crate::store::insert_outbox(&mut tx, &rows).await?;
    tx.commit().await.context("committing an SLA pass")?;
    Ok(report)
}

/// The mail of one ping.
fn queue(
    t: &AgentTicket,
    change: Change,
    prefix: &str,
    es: &crate::outbox::enqueue::EnqueueSettings<'_>,
    now: i64,
    nonce: &mut dyn FnMut() -> String,
) -> Vec<NewOutboxRow> {
    let n = Notification {
        ticket: TicketInfo {
            reference: TicketRef::new(prefix, t.number),
            subject: t.subject.clone(),
            status: t.status,
            priority: t.priority,
            requester: t.requester.clone(),
        },
        change,
        participants: &t.participants,
        answering: None,
        thread: &t.thread,
        now,
    };
    // SLA mail is the desk's own schedule, never an answer to a mail: not capped per customer.
    enqueue(&n, &SentCounts::new(), es, nonce)
}

/// How long an open ticket has waited, for its reminder.
fn waited(policy: &Policy, t: &TicketClock, now: i64) -> String {
    let since = t
        .last_agent_at
        .unwrap_or(t.status_since)
        .max(t.status_since);
    let counted = policy.clock.between(since, now);
    let what = if t.last_agent_at.is_some_and(|a| a >= t.status_since) {
        "since an agent's last answer"
    } else {
        "without an agent's answer"
    };
    format!(
        "It has waited {} {what}{}.",
        crate::config::show_duration(std::time::Duration::from_secs(counted)),
        if matches!(policy.clock, crate::sla::Clock::Working(_)) {
            " (working time)"
        } else {
            ""
        }
    )
}

/// What a pending ticket waits for: the agent's note given with `set-status pending`, else the
/// agent's last answer, quoted.
fn action_needed(note: Option<&str>, last_reply: Option<&str>) -> Option<String> {
    fn given(t: Option<&str>) -> Option<&str> {
        t.map(str::trim).filter(|t| !t.is_empty())
    }
    if let Some(note) = given(note) {
        return Some(format!("What we need from you:\n{note}"));
    }
    let reply = given(last_reply)?;
    let quoted: String = reply.lines().map(|l| format!("> {l}\n")).collect();
    Some(format!(
        "We are waiting for your answer to our last message:\n{quoted}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_judged_by_the_shortest_interval_in_wall_time() {
        let policy = Policy {
            open_update_every: Some(86_400),
            critical_update_every: Some(7200),
            pending_reminder_after: Some(3 * 86_400),
            auto_close_pending_after: None,
            clock: crate::sla::Clock::Always,
        };
        assert_eq!(
            candidates(&policy, 1_000_000),
            Candidates {
                open_quiet_since: Some(1_000_000 - 7200),
                pending_quiet_since: Some(1_000_000 - 3 * 86_400),
                prompted_quiet_since: None,
            }
        );
        let none = candidates(&Policy::default(), 5);
        assert_eq!(none.open_quiet_since, None);
        assert_eq!(none.pending_quiet_since, None);
    }

    #[test]
    fn the_action_is_the_note_else_the_last_reply_quoted() {
        assert_eq!(
            action_needed(Some(" Send the log file. "), Some("ignored")).as_deref(),
            Some("What we need from you:\nSend the log file.")
        );
        assert_eq!(
            action_needed(Some("  "), Some("Which version?\nAnd the log.")).as_deref(),
            Some(
                "We are waiting for your answer to our last message:\n> Which version?\n> And the log.\n"
            )
        );
        assert_eq!(action_needed(None, None), None);
    }
}
