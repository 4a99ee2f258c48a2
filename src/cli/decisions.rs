//! `mailgate decisions [--limit N] [--json]`: newest first, source, Message-ID, decision, rule
//! and reason.

use clap::Args;
use serde::Serialize;

use super::output::{cut, print_json, safe, short_time, time};
use crate::config::Settings;
use crate::domain::TicketRef;
use crate::store::{DecisionRow, Store};

#[derive(Debug, Args)]
pub struct DecisionsArgs {
    /// How many decisions to show, newest first (at least 1).
    #[arg(long, default_value_t = 50, value_parser = parse_limit)]
    pub limit: i64,
    /// Print the decisions as a JSON array.
    #[arg(long)]
    pub json: bool,
}

/// A count of decisions: 0 would show nothing and say there are none.
fn parse_limit(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("the limit must be at least 1 (how many decisions to show)".into()),
        Err(_) => Err("the limit must be a whole number, at least 1".into()),
    }
}

#[derive(Serialize)]
pub struct DecisionJson {
    pub id: i64,
    pub created_at: String,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub decision: String,
    pub rule: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub classification: String,
}

impl DecisionJson {
    pub fn new(d: DecisionRow, prefix: &str) -> Self {
        Self {
            id: d.id,
            created_at: time(d.created_at),
            source: d.source,
            mailbox: d.mailbox,
            message_id: d.message_id,
            decision: d.decision,
            rule: d.rule,
            reason: d.reason,
            ticket: d.ticket_id.map(|n| TicketRef::new(prefix, n).to_string()),
            classification: d.classification,
        }
    }
}

pub async fn run(args: DecisionsArgs, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let rows = store.recent_decisions(args.limit).await?;
    let prefix = &settings.tickets.prefix;
    let rows: Vec<DecisionJson> = rows
        .into_iter()
        .map(|d| DecisionJson::new(d, prefix))
        .collect();
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!("No decisions yet.");
        return Ok(());
    }
    for d in rows {
        print_decision(&d);
    }
    Ok(())
}

pub fn print_decision(d: &DecisionJson) {
    let ticket = d.ticket.as_deref().unwrap_or("-");
    let created = chrono::DateTime::parse_from_rfc3339(&d.created_at)
        .map(|t| short_time(t.timestamp()))
        .unwrap_or_else(|_| d.created_at.clone());
    println!(
        "#{} {created} {:<11} {:<9} {:<13} <{}>",
        d.id,
        d.decision,
        ticket,
        d.rule,
        cut(&safe(d.message_id.as_deref().unwrap_or("-")), 60)
    );
    println!("    from {} ({})", safe(&d.source), d.classification);
    println!("    {}", safe(&d.reason));
}
