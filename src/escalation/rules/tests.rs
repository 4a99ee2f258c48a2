//! `judge` tested on stories: evidence text (read with `parse_evidence`), the forwarded
//! original, attachments, and the verdict expected. The fixtures are here; the table of stories
//! is in `table`, the finer points in `details`.

use super::*;
use crate::config::Settings;
use crate::escalation::evidence::parse_evidence;
use crate::escalation::{ForwardForm, ForwardedOriginal};

/// The rules of the design example; `gate` is the critical gate's `on_violation`, `extra` is
/// added to `[escalation]`.
fn rules_with(gate: &str, extra: &str) -> EscalationRules {
    let text = format!(
        r#"[escalation]
allowed_senders = ["*@tier1.example.test"]
{extra}

[escalation.categories.email]
require = ["customer", "sent_mail_verified"]

[escalation.categories.network]
require = ["affected_customers", "site"]

[escalation.fields.affected_customers]
type = "number"
hint = "how many customers are affected, e.g. 12"

[escalation.evidence.sent_mail_verified]
attachments = ["*.eml", "sent-mail*.log"]
phrases = [{{ field = "steps_taken", contains = "confirmed mail was sent" }}]

[escalation.priority.critical]
min_affected_customers = 10
on_violation = "{gate}"

[security]
trusted_authserv_ids = ["mx.example.test"]
"#
    );
    match Settings::from_toml(&text, "rules test") {
        Ok(settings) => settings.escalation,
        Err(e) => panic!("{e}"),
    }
}

fn rules() -> EscalationRules {
    rules_with("reject", "")
}

/// SUP-1042 (requested by jane@acme.test) and SUP-7 (requester unknown) exist.
struct Tickets;

impl TicketLookup for Tickets {
    fn requester(&self, ticket: &TicketRef) -> Option<Option<EmailAddress>> {
        match ticket.number() {
            1042 => Some(Some(addr("jane@acme.test"))),
            7 => Some(None),
            _ => None,
        }
    }
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn forwarded_from(from: &str) -> ForwardedOriginal {
    ForwardedOriginal {
        form: ForwardForm::InlineGmail,
        from: Some(addr(from)),
        message_id: None,
        subject: Some("no mail since Tuesday".into()),
        date: None,
        body: "Hello, I get no mail.".into(),
    }
}

/// One story of the table.
struct Case {
    name: &'static str,
    sender: &'static str,
    evidence: &'static str,
    forwarded: Option<&'static str>,
    attachments: &'static [&'static str],
    expect: Expect,
}

enum Expect {
    /// The reason contains this.
    Unauthorised(&'static str),
    /// Exactly these problems, in this order.
    Reject(&'static [(&'static str, ProblemKind)]),
    Accept {
        ticket: Option<&'static str>,
        customer: &'static str,
        category: &'static str,
        priority: Priority,
        downgraded: bool,
        affected: Option<u32>,
    },
}

use Expect::{Accept, Reject, Unauthorised};
use ProblemKind::{Invalid, Missing, PriorityGate as Gate};

const TIER1: &str = "bob@tier1.example.test";

/// The complete block of the design (SPEC 4).
const COMPLETE: &str = "Ticket: SUP-1042
Customer: jane@acme.test
Category: email
Affected-Customers: 1
Error: no message received since 2026-11-12; no bounce, no client error
Steps-Taken:
 - confirmed mail was sent to the customer in the last 7 days (it was not)
 - checked the client's error log: no errors
Priority: high
";

const NO_MAIL_UNPROVEN: &str = "Customer: jane@acme.test
Category: email
Error: no message received since 2026-11-12
Steps-Taken:
 - checked the client's error log: no errors
";

const NO_MAIL_WITH_PHRASE: &str = "Customer: jane@acme.test
Category: Email
Error: no message received since 2026-11-12
Steps-Taken:
 - Confirmed mail was SENT to her on 2026-11-13
";

const CRITICAL_FOR_ONE: &str = "Customer: jane@acme.test
Category: email
Priority: critical
Affected-Customers: 1
Error: no message received
Steps-Taken: confirmed mail was sent
";

/// A story from a tier-1 sender, with no forwarded original and no attachments.
fn story(name: &'static str, evidence: &'static str, expect: Expect) -> Case {
    Case {
        name,
        sender: TIER1,
        evidence,
        forwarded: None,
        attachments: &[],
        expect,
    }
}

fn email_accept(priority: Priority, downgraded: bool, affected: Option<u32>) -> Expect {
    Accept {
        ticket: None,
        customer: "jane@acme.test",
        category: "email",
        priority,
        downgraded,
        affected,
    }
}

fn run(case: &Case, rules: &EscalationRules, authentication_results: &[String]) -> GateVerdict {
    let evidence = parse_evidence(case.evidence);
    let forwarded = case.forwarded.map(forwarded_from);
    let attachment_names: Vec<String> = case.attachments.iter().map(|a| a.to_string()).collect();
    let mut mail = crate::domain::test_support::email(case.sender, "Fwd: escalation");
    mail.headers.authentication_results = authentication_results.to_vec();
    let trust = crate::trust::SenderTrust::of(&mail, &["mx.example.test".to_string()]);
    let input = GateInput {
        sender: &addr(case.sender),
        trust: &trust,
        evidence: &evidence,
        forwarded: forwarded.as_ref(),
        attachment_names: &attachment_names,
        prefix: "SUP",
    };
    judge(&input, rules, &Tickets)
}

fn check(case: &Case, verdict: &GateVerdict) {
    let name = case.name;
    match (&case.expect, verdict) {
        (Unauthorised(needle), GateVerdict::Unauthorised { reason }) => {
            assert!(reason.contains(needle), "{name}: {reason}");
        }
        (Reject(expected), GateVerdict::Reject { problems, .. }) => {
            let got: Vec<(&str, ProblemKind)> = problems
                .iter()
                .map(|p| (p.field.as_str(), p.kind))
                .collect();
            assert_eq!(got, *expected, "{name}: {problems:#?}");
            for p in problems {
                let label = p.field.label();
                assert!(
                    p.line_to_add.starts_with(&format!("{label}: <")),
                    "{name}: {p:?}"
                );
                assert!(p.message.ends_with('.'), "{name}: {p:?}");
            }
        }
        (
            Accept {
                ticket,
                customer,
                category,
                priority,
                downgraded,
                affected,
            },
            GateVerdict::Accept(accepted),
        ) => {
            let got_ticket = accepted.ticket.as_ref().map(|t| t.to_string());
            assert_eq!(got_ticket.as_deref(), *ticket, "{name}");
            assert_eq!(accepted.customer, Some(addr(customer)), "{name}");
            assert_eq!(accepted.category, *category, "{name}");
            assert_eq!(accepted.priority, *priority, "{name}");
            assert_eq!(accepted.downgraded.is_some(), *downgraded, "{name}");
            assert_eq!(accepted.affected_customers, *affected, "{name}");
        }
        (_, verdict) => panic!("{name}: unexpected verdict {verdict:#?}"),
    }
}

mod details;
mod placeholders;
mod table;
