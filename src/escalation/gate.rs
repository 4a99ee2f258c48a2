//! The whole gate over one parsed mail (pure): evidence block, forwarded original, verdict.
//! Used by the pipeline for mail at an escalation mailbox and by `mailgate escalations check`.

use serde::Serialize;

use crate::domain::{InboundEmail, TicketRef};
use crate::trust::SenderTrust;

use super::evidence::parse_evidence;
use super::forwarded::find_forwarded;
use super::rules::{EscalationRules, GateInput, GateVerdict, TicketLookup, judge};
use super::{EvidenceBlock, FieldKey, ForwardedOriginal};

/// What the gate found in one escalation mail and what it decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateReport {
    pub evidence: EvidenceBlock,
    pub forwarded: Option<ForwardedOriginal>,
    pub verdict: GateVerdict,
}

/// Runs the gate over `email`. Machine-generated mail (an out-of-office of a tier-1 person,
/// a bounce) is not judged: the caller never answers it.
pub fn run_gate(
    email: &InboundEmail,
    trust: &SenderTrust,
    rules: &EscalationRules,
    tickets: &dyn TicketLookup,
    prefix: &str,
) -> GateReport {
    let evidence = parse_evidence(&email.body_text);
    let forwarded = find_forwarded(email);
    let attachment_names: Vec<String> = email
        .attachments
        .iter()
        .map(|a| a.filename.clone())
        .collect();
    let input = GateInput {
        sender: &email.from.address,
        trust,
        evidence: &evidence,
        forwarded: forwarded.as_ref(),
        attachment_names: &attachment_names,
        prefix,
    };
    let verdict = judge(&input, rules, tickets);
    GateReport {
        evidence,
        forwarded,
        verdict,
    }
}

/// The tickets an escalation mail names in its `Ticket:` field (to load before judging).
pub fn named_tickets(email: &InboundEmail, prefix: &str) -> Vec<TicketRef> {
    let evidence = parse_evidence(&email.body_text);
    evidence
        .get(&FieldKey::new("ticket"))
        .and_then(|f| TicketRef::parse(f.value.trim(), prefix).ok())
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    struct NoTickets;
    impl TicketLookup for NoTickets {
        fn requester(&self, _: &TicketRef) -> Option<Option<EmailAddress>> {
            None
        }
    }

    #[test]
    fn a_parsed_mail_goes_through_the_whole_gate() {
        let raw = b"From: Tom <tom@tier1.example.test>\r\nTo: escalations@example.test\r\n\
            Subject: esc\r\nMessage-ID: <g1@tier1.example.test>\r\n\r\n\
            Customer: jane@acme.test\r\nError: no mail\r\n\r\n\
            ---------- Forwarded message ---------\r\nFrom: Jane <jane@acme.test>\r\n\
            Subject: help\r\n\r\nNo mail since Monday.\r\n";
        let email = crate::parse::parse(raw).unwrap();
        let rules = EscalationRules {
            allowed_senders: crate::domain::AddressPatterns::new(&["*@tier1.example.test"])
                .unwrap(),
            ..Default::default()
        };
        let report = run_gate(
            &email,
            &SenderTrust::of(&email, &[]),
            &rules,
            &NoTickets,
            "SUP",
        );
        assert_eq!(report.evidence.fields.len(), 2);
        let from = report.forwarded.as_ref().and_then(|f| f.from.as_ref());
        assert_eq!(from.map(|a| a.as_str()), Some("jane@acme.test"));
        match &report.verdict {
            GateVerdict::Reject { problems, .. } => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                assert_eq!(fields, ["category", "steps_taken"], "{problems:#?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(named_tickets(&email, "SUP").is_empty());
    }
}
