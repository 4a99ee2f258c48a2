//! `mailgate sla tick [--now RFC3339] [--json]` runs one SLA pass as of a given time and prints
//! what it queued; `mailgate sla status [--now RFC3339] [--json]` lists each open or pending
//! ticket with its next ping and whether it is overdue. `mailgate run` runs the same pass
//! periodically ([`periodic`]). The pass itself is [`pass::tick`].

mod pass;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

pub use pass::{TickReport, tick};

use super::output::{print_json, time};
use crate::config::Settings;
use crate::domain::{PingKind, TicketRef};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Run one SLA pass: queue the reminders, prompts and closing notices that are due.
    ///
    /// Safe to run from cron, from scripts, and next to `mailgate run`: each ping is queued
    /// once however often or concurrently passes run.
    Tick(TickArgs),
    /// Each open or pending ticket with its next ping, and whether it is overdue.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct TickArgs {
    /// Run the pass as of this time (RFC 3339, e.g. 2026-12-07T09:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<i64>,
    /// Print what was queued as one JSON object (arrays reminders, prompts, closed).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Judge what is overdue as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<i64>,
    /// Print the tickets as a JSON array.
    #[arg(long)]
    pub json: bool,
}

fn parse_now(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time like 2026-12-07T09:00:00Z: {e}"))
}

fn now_or(given: Option<i64>) -> i64 {
    given.unwrap_or_else(|| chrono::Utc::now().timestamp())
}

pub async fn run(cmd: SlaCommand, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    match cmd {
        SlaCommand::Tick(args) => {
            if !settings.sla.is_enabled() {
                eprintln!(
                    "no SLA pings are configured ([sla] open_update_every, critical_update_every \
                     or pending_reminder_after in {}): nothing to do",
                    settings.origin
                );
            }
            let report = tick(store, settings, now_or(args.now)).await?;
            if args.json {
                return print_json(&report);
            }
            print_tick(&report);
            Ok(())
        }
        SlaCommand::Status(args) => status(args, settings, store).await,
    }
}

fn print_tick(report: &TickReport) {
    let lines = [
        ("reminder", &report.reminders),
        ("prompt", &report.prompts),
        ("closed", &report.closed),
    ];
    let mut any = false;
    for (what, queued) in lines {
        for q in queued {
            any = true;
            let to = if q.recipients.is_empty() {
                "nobody to tell".to_string()
            } else {
                format!("to {}", super::output::safe(&q.recipients.join(", ")))
            };
            println!("{:<10} {:<12} due {}  {to}", what, q.r#ref, q.due_at);
        }
    }
    if !any {
        println!("nothing due");
    }
}

#[derive(Serialize)]
struct StatusJson {
    r#ref: String,
    status: String,
    priority: String,
    /// The next ping's kind, if any is configured for this ticket.
    next: Option<PingKind>,
    /// When it is due (RFC 3339).
    due_at: Option<String>,
    /// Whether it is due already (the SLA is breached until a pass sends it).
    overdue: bool,
}

async fn status(args: StatusArgs, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let now = now_or(args.now);
    let policy = settings.sla.policy();
    let tickets = store
        .sla_tickets()
        .await
        .context("reading the open and pending tickets")?;
    let rows: Vec<StatusJson> = tickets
        .iter()
        .map(|t| {
            let next = crate::sla::next(&t.clock, &policy);
            StatusJson {
                r#ref: TicketRef::new(&settings.tickets.prefix, t.clock.number).to_string(),
                status: t.clock.status.to_string(),
                priority: t.clock.priority.to_string(),
                next: next.map(|p| p.kind),
                due_at: next.map(|p| time(p.due_at)),
                overdue: next.is_some_and(|p| p.due_at <= now),
            }
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!("no open or pending tickets");
        return Ok(());
    }
    println!(
        "{:<12} {:<8} {:<8} {:<15} {:<25} ",
        "REF", "STATUS", "PRIORITY", "NEXT", "DUE"
    );
    for r in &rows {
        println!(
            "{:<12} {:<8} {:<8} {:<15} {:<25} {}",
            r.r#ref,
            r.status,
            r.priority,
            r.next.map_or("-", PingKind::as_str),
            r.due_at.as_deref().unwrap_or("-"),
            if r.overdue { "OVERDUE" } else { "" }
        );
    }
    Ok(())
}

/// `mailgate run`'s scheduler: one pass now and then every `every` until `cancel`; a pass is
/// never interrupted (it is one transaction), and a failed one is logged and retried at the
/// next interval.
pub async fn periodic(
    settings: std::sync::Arc<Settings>,
    store: Store,
    every: std::time::Duration,
    cancel: tokio_util::sync::CancellationToken,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => {}
        }
        let now = chrono::Utc::now().timestamp();
        match tick(&store, &settings, now).await {
            Ok(r) => {
                let queued = r.reminders.len() + r.prompts.len() + r.closed.len();
                if queued > 0 {
                    tracing::info!(
                        reminders = r.reminders.len(),
                        prompts = r.prompts.len(),
                        closed = r.closed.len(),
                        "SLA pass queued pings"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "SLA pass failed; retrying later"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_rfc3339_with_any_offset() {
        assert_eq!(parse_now("2026-12-07T09:00:00Z"), Ok(1_796_634_000));
        assert_eq!(parse_now("2026-12-07T10:00:00+01:00"), Ok(1_796_634_000));
        let refused = parse_now("yesterday").unwrap_err();
        assert!(refused.contains("RFC 3339"), "{refused}");
    }
}
