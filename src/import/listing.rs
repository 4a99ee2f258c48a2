//! What a dry run lists (SPEC 8): each message's decision, as `mailgate decisions` shows a
//! stored one, numbered in archive order instead of by log id (nothing is stored).

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::output::{cut, safe};
use crate::pipeline::Outcome;

/// One decision of a dry run: the fields of `decisions --json`, `number` in place of `id` and
/// `created_at`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlannedDecision {
    /// 1-based, in the order the messages were read.
    pub number: u64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub decision: String,
    pub rule: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub classification: String,
}

impl PlannedDecision {
    pub fn new(number: u64, mailbox: &str, o: &Outcome) -> Self {
        PlannedDecision {
            number,
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

    /// Three lines, as `decisions` prints a logged decision.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "#{} {:<11} {:<9} {:<13} <{}>",
            self.number,
            self.decision,
            self.ticket.as_deref().unwrap_or("-"),
            self.rule,
            cut(&safe(self.message_id.as_deref().unwrap_or("-")), 60)
        )?;
        writeln!(
            out,
            "    from {} ({})",
            safe(&self.source),
            self.classification
        )?;
        writeln!(out, "    {}", safe(&self.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_lines_like_the_decision_log() {
        let d = PlannedDecision {
            number: 2,
            source: "a.mbox@120".to_string(),
            mailbox: "support".to_string(),
            message_id: Some("x@acme.test".to_string()),
            decision: "created".to_string(),
            rule: "new-ticket".to_string(),
            reason: "a new conversation\u{1b}[31m".to_string(),
            ticket: Some("SUP-1".to_string()),
            classification: "plain".to_string(),
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
    }
}
