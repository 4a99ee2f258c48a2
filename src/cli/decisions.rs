//! `mailgate decisions [--limit N] [--json]`: newest first, source, Message-ID, decision, rule
//! and reason.

use std::io::{self, Write};

use clap::Args;
use serde::Serialize;

use super::output::{cut, print_json, safe, short_time, time};
use crate::config::Settings;
use crate::domain::TicketRef;
use crate::pipeline::Outcome;
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

/// What `decisions` and `import --dry-run` show of one decision (the JSON fields after its
/// number).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DecisionFields {
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub decision: String,
    pub rule: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub classification: String,
}

impl DecisionFields {
    /// A decision as the pipeline took it for a mail of `mailbox` (nothing stored yet).
    pub fn of_outcome(mailbox: &str, o: &Outcome) -> Self {
        DecisionFields {
            source: o.source.clone(),
            mailbox: mailbox.to_string(),
            message_id: (!o.message_id.is_empty()).then(|| o.message_id.clone()),
            decision: o.decision.action.name().to_string(),
            rule: o.decision.rule.as_str().to_string(),
            reason: o.decision.reason.clone(),
            ticket: o.ticket.as_ref().map(ToString::to_string),
            classification: o.decision.classification.as_str().to_string(),
        }
    }

    /// The three lines of the decision log, after `head` (`#id time` or `#number`).
    fn lines(&self, head: &str) -> [String; 3] {
        [
            format!(
                "{head} {:<11} {:<9} {:<13} <{}>",
                self.decision,
                self.ticket.as_deref().unwrap_or("-"),
                self.rule,
                cut(&safe(self.message_id.as_deref().unwrap_or("-")), 60)
            ),
            format!("    from {} ({})", safe(&self.source), self.classification),
            format!("    {}", safe(&self.reason)),
        ]
    }
}

/// A logged decision (`decisions --json`, `tickets show --json`).
#[derive(Serialize)]
pub struct DecisionJson {
    pub id: i64,
    pub created_at: String,
    #[serde(flatten)]
    pub fields: DecisionFields,
}

impl DecisionJson {
    pub fn new(d: DecisionRow, prefix: &str) -> Self {
        Self {
            id: d.id,
            created_at: time(d.created_at),
            fields: DecisionFields {
                source: d.source,
                mailbox: d.mailbox,
                message_id: d.message_id,
                decision: d.decision,
                rule: d.rule,
                reason: d.reason,
                ticket: d.ticket_id.map(|n| TicketRef::new(prefix, n).to_string()),
                classification: d.classification,
            },
        }
    }
}

/// One decision of a dry run (`import --dry-run`): numbered in archive order in place of a log
/// id and time, since nothing is stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlannedDecision {
    /// 1-based, in the order the messages were read.
    pub number: u64,
    #[serde(flatten)]
    pub fields: DecisionFields,
}

impl PlannedDecision {
    pub fn new(number: u64, mailbox: &str, o: &Outcome) -> Self {
        PlannedDecision {
            number,
            fields: DecisionFields::of_outcome(mailbox, o),
        }
    }

    /// Three lines, as `decisions` prints a logged decision.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        for line in self.fields.lines(&format!("#{}", self.number)) {
            writeln!(out, "{line}")?;
        }
        Ok(())
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
    let created = chrono::DateTime::parse_from_rfc3339(&d.created_at)
        .map(|t| short_time(t.timestamp()))
        .unwrap_or_else(|_| d.created_at.clone());
    for line in d.fields.lines(&format!("#{} {created}", d.id)) {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_decision_prints_the_three_lines_of_the_decision_log() {
        let d = PlannedDecision {
            number: 2,
            fields: DecisionFields {
                source: "a.mbox@120".to_string(),
                mailbox: "support".to_string(),
                message_id: Some("x@acme.test".to_string()),
                decision: "created".to_string(),
                rule: "new-ticket".to_string(),
                reason: "a new conversation\u{1b}[31m".to_string(),
                ticket: Some("SUP-1".to_string()),
                classification: "plain".to_string(),
            },
        };
        let mut out = Vec::new();
        d.write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("#2 created     SUP-1     new-ticket"));
        assert!(lines[0].ends_with("<x@acme.test>"));
        assert_eq!(lines[1], "    from a.mbox@120 (plain)");
        assert!(
            !lines[2].contains('\u{1b}'),
            "terminal escapes are shown safely"
        );
        // The JSON: the number, then the fields of `decisions --json` after its id and time.
        let json = serde_json::to_string(&d).unwrap();
        assert!(
            json.starts_with("{\"number\":2,\"source\":\"a.mbox@120\",\"mailbox\""),
            "{json}"
        );
    }
}
