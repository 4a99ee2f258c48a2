//! `mailgate escalations check FILE|- [--json]`: runs the escalation gate (SPEC 4) on one mail
//! without storing anything and prints the verdict, so tier-1 leads can try the rules.
//!
//! The mail is parsed and classified as if it had arrived at an escalation mailbox. Machine
//! mail (a bounce, an auto-reply) is not judged: it would be logged and never answered. Other
//! mail goes through [`run_gate`] with `[escalation]` of the config; the tickets the mail names
//! are read from the database first (read-only), because the gate itself is pure. A refusal is
//! shown exactly as the refusal mail would carry it: the numbered problem list and the evidence
//! block to copy. Exit status 0 whatever the verdict, 1 when the mail cannot be read or parsed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{print_json, safe, safe_lines};
use crate::config::{Role, Settings};
use crate::domain::{EmailAddress, InboundEmail, MessageId, TicketRef};
use crate::escalation::gate::{named_tickets, run_gate};
use crate::escalation::refusal::{acceptance_summary, prefilled_block, problem_list};
use crate::escalation::rules::{Accepted, GateVerdict, Problem, TicketLookup};
use crate::escalation::{EvidenceField, ForwardForm, ForwardedOriginal};
use crate::store::Store;
use crate::trust::SenderTrust;

#[derive(Debug, Subcommand)]
pub enum EscalationsCommand {
    /// Run the escalation gate on one mail without storing it and print the verdict.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The escalation mail (RFC 5322 file), or - for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
    /// Print the verdict as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The result of `escalations check`, as printed with `--json`.
#[derive(Debug, Serialize)]
pub struct CheckJson {
    /// `accept`, `reject`, `unauthorised` or `automatic`.
    pub verdict: &'static str,
    /// The classification before the gate: `escalation`, `automatic` or `bounce`.
    pub classification: &'static str,
    /// Why the mail is unauthorised or automatic; `null` for accept and reject.
    pub reason: Option<String>,
    pub message_id: MessageId,
    pub from: EmailAddress,
    pub subject: String,
    /// Every missing or invalid item (reject only; empty otherwise).
    pub problems: Vec<Problem>,
    /// What the escalation became (accept only).
    pub accepted: Option<Accepted>,
    /// The refusal mail's text (reject only).
    pub refusal: Option<RefusalJson>,
    /// The evidence block's fields in the order written.
    pub evidence: Vec<EvidenceJson>,
    /// The customer's original mail found inside the escalation.
    pub forwarded: Option<ForwardedJson>,
}

/// The two parts of a refusal mail, exactly as the outbox template inserts them.
#[derive(Debug, Serialize)]
pub struct RefusalJson {
    pub problem_list: String,
    pub prefilled_block: String,
}

/// One `Field: value` of the evidence block.
#[derive(Debug, Serialize)]
pub struct EvidenceJson {
    /// The normalised field name (`steps_taken`).
    pub name: String,
    /// The field name as written (`Steps-Taken`).
    pub label: String,
    /// 1-based line in the mail's text body.
    pub line: usize,
    pub value: String,
    pub items: Vec<String>,
}

/// The forwarded original, without its body.
#[derive(Debug, Serialize)]
pub struct ForwardedJson {
    pub form: ForwardForm,
    pub from: Option<EmailAddress>,
    pub message_id: Option<MessageId>,
    pub subject: Option<String>,
    pub date: Option<String>,
}

impl From<&EvidenceField> for EvidenceJson {
    fn from(f: &EvidenceField) -> Self {
        Self {
            name: f.key.to_string(),
            label: f.label.clone(),
            line: f.line,
            value: f.value.clone(),
            items: f.items.clone(),
        }
    }
}

impl From<&ForwardedOriginal> for ForwardedJson {
    fn from(f: &ForwardedOriginal) -> Self {
        Self {
            form: f.form,
            from: f.from.clone(),
            message_id: f.message_id.clone(),
            subject: f.subject.clone(),
            date: f.date.clone(),
        }
    }
}

/// The tickets a mail names with their requesters, read before judging: the gate's
/// [`TicketLookup`] is synchronous and must not touch the database itself.
pub struct LoadedTickets(HashMap<TicketRef, Option<EmailAddress>>);

impl LoadedTickets {
    /// Reads every ticket `email` names in its evidence block (nothing is written).
    pub async fn load(store: &Store, email: &InboundEmail, prefix: &str) -> anyhow::Result<Self> {
        let mut found = HashMap::new();
        for reference in named_tickets(email, prefix) {
            if let Some(row) = store.ticket(reference.number()).await? {
                found.insert(reference, EmailAddress::parse(&row.requester).ok());
            }
        }
        Ok(Self(found))
    }
}

impl TicketLookup for LoadedTickets {
    fn requester(&self, ticket: &TicketRef) -> Option<Option<EmailAddress>> {
        self.0.get(ticket).cloned()
    }
}

pub async fn run(
    cmd: EscalationsCommand,
    settings: &Settings,
    store: &Store,
) -> anyhow::Result<()> {
    match cmd {
        EscalationsCommand::Check(args) => {
            let (shown, bytes) = read_input(&args.file)?;
            let email = crate::parse::parse(&bytes)
                .with_context(|| format!("cannot parse {shown} as an email"))?;
            let prefix = settings.tickets.prefix.as_str();
            let tickets = LoadedTickets::load(store, &email, prefix).await?;
            let report = check(&email, settings, &tickets);
            if args.json {
                print_json(&report)
            } else {
                print_human(&report);
                Ok(())
            }
        }
    }
}

/// The file's bytes (or standard input's for `-`), with the name to show in errors.
fn read_input(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        return Ok(("standard input".to_string(), buf));
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((path.display().to_string(), bytes))
}

/// Classifies `email` as arriving at an escalation mailbox and, unless it is machine mail,
/// runs the gate with the configured rules. Pure apart from `tickets`.
pub fn check(email: &InboundEmail, settings: &Settings, tickets: &dyn TicketLookup) -> CheckJson {
    let classification = crate::classify::classify(email, Role::Escalation);
    let mut out = CheckJson {
        verdict: "automatic",
        classification: classification.as_str(),
        reason: None,
        message_id: email.message_id.clone(),
        from: email.from.address.clone(),
        subject: email.subject.clone(),
        problems: Vec::new(),
        accepted: None,
        refusal: None,
        evidence: Vec::new(),
        forwarded: None,
    };
    if let Some(why) = classification.why() {
        out.reason = Some(why.to_string());
        return out;
    }
    let rules = &settings.escalation;
    let trust = SenderTrust::of(email, &settings.security.trusted_authserv_ids);
    let report = run_gate(email, &trust, rules, tickets, &settings.tickets.prefix);
    out.evidence = report
        .evidence
        .fields
        .iter()
        .map(EvidenceJson::from)
        .collect();
    out.forwarded = report.forwarded.as_ref().map(ForwardedJson::from);
    match report.verdict {
        GateVerdict::Unauthorised { reason } => {
            out.verdict = "unauthorised";
            out.reason = Some(reason);
        }
        GateVerdict::Reject { problems, category } => {
            out.verdict = "reject";
            out.refusal = Some(RefusalJson {
                problem_list: problem_list(&problems),
                prefilled_block: prefilled_block(
                    &report.evidence,
                    rules,
                    category.as_deref(),
                    report.forwarded.as_ref(),
                ),
            });
            out.problems = problems;
        }
        GateVerdict::Accept(accepted) => {
            out.verdict = "accept";
            out.accepted = Some(accepted);
        }
    }
    out
}

/// The report for people: headline, what tier 1 would be told, evidence, forwarded original.
fn print_human(r: &CheckJson) {
    println!(
        "Mail <{}> from {}: {:?}",
        safe(r.message_id.as_str()),
        safe(r.from.as_str()),
        r.subject
    );
    println!();
    match (r.verdict, &r.accepted, &r.refusal) {
        ("accept", Some(accepted), _) => {
            println!("ACCEPTED: {}", safe(&accepted.summary));
            println!();
            print!("{}", safe_lines(&acceptance_summary(accepted)));
        }
        ("reject", _, Some(refusal)) => {
            let n = r.problems.len();
            let s = if n == 1 { "" } else { "s" };
            println!("REFUSED: {n} problem{s}; the refusal mail would say:");
            println!();
            print!("{}", safe_lines(&refusal.problem_list));
            println!();
            println!("Evidence block to copy, completed, into a resend:");
            println!();
            print!("{}", safe_lines(&refusal.prefilled_block));
        }
        ("unauthorised", _, _) => {
            println!("UNAUTHORISED: {}", safe(r.reason.as_deref().unwrap_or("-")));
            println!("The mail would be logged and never answered.");
        }
        _ => {
            println!(
                "AUTOMATIC ({}): {}",
                r.classification,
                safe(r.reason.as_deref().unwrap_or("-"))
            );
            println!("The mail would be logged and never answered; the gate does not judge it.");
            return;
        }
    }
    println!();
    print_evidence(&r.evidence);
    println!();
    print_forwarded(r.forwarded.as_ref());
}

fn print_evidence(evidence: &[EvidenceJson]) {
    if evidence.is_empty() {
        println!("Evidence: no `Field: value` block found at the top of the mail.");
        return;
    }
    let s = if evidence.len() == 1 { "" } else { "s" };
    println!("Evidence ({} field{s}):", evidence.len());
    for f in evidence {
        let mut lines = f.value.lines();
        let first = lines.next().unwrap_or_default();
        let marker = |line: &str| {
            if f.items.iter().any(|i| i == line) {
                "- "
            } else {
                ""
            }
        };
        println!(
            "  line {:>3}  {} ({}): {}{}",
            f.line,
            safe(&f.label),
            f.name,
            marker(first),
            safe_lines(first)
        );
        for more in lines {
            println!("            {}{}", marker(more), safe_lines(more));
        }
    }
}

fn print_forwarded(forwarded: Option<&ForwardedJson>) {
    let Some(f) = forwarded else {
        println!("Forwarded original: none found.");
        return;
    };
    let form = match f.form {
        ForwardForm::InlineGmail => "inline (Gmail style)",
        ForwardForm::InlineThunderbird => "inline (Thunderbird style)",
        ForwardForm::InlineApple => "inline (Apple Mail style)",
        ForwardForm::InlineOutlook => "inline (Outlook style)",
        ForwardForm::Attached => "attached (message/rfc822)",
    };
    let from = f
        .from
        .as_ref()
        .map_or("unknown".to_string(), |a| a.to_string());
    let id = f
        .message_id
        .as_ref()
        .map_or("none".to_string(), |m| format!("<{m}>"));
    println!(
        "Forwarded original: {form}, from {}, Message-ID {}",
        safe(&from),
        safe(&id)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (Settings, InboundEmail) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/escalations");
        let settings = Settings::load(Some(&dir.join("mailgate.toml"))).unwrap();
        let raw = std::fs::read(dir.join(name)).unwrap();
        (settings, crate::parse::parse(&raw).unwrap())
    }

    fn tickets(known: &[(i64, &str)]) -> LoadedTickets {
        LoadedTickets(
            known
                .iter()
                .map(|(n, r)| (TicketRef::new("SUP", *n), EmailAddress::parse(r).ok()))
                .collect(),
        )
    }

    #[test]
    fn a_named_ticket_is_looked_up_and_its_requester_is_the_customer() {
        let (settings, email) = fixture("02-ticket-only-outlook-original-message.eml");
        let report = check(&email, &settings, &tickets(&[(12, "jane@acme.test")]));
        assert_eq!(report.verdict, "accept");
        let accepted = report.accepted.unwrap();
        assert_eq!(
            accepted.ticket.map(|t| t.to_string()).as_deref(),
            Some("SUP-12")
        );
        assert_eq!(accepted.customer.unwrap().as_str(), "jane@acme.test");
        assert_eq!(report.evidence[0].name, "ticket");

        let report = check(&email, &settings, &tickets(&[]));
        assert_eq!(report.verdict, "reject");
        let fields: Vec<&str> = report.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["ticket"]);
        let refusal = report.refusal.unwrap();
        assert!(
            refusal.problem_list.contains("Add: Ticket: <"),
            "{refusal:?}"
        );
        assert!(
            refusal.prefilled_block.starts_with("Ticket: SUP-12\n"),
            "{refusal:?}"
        );
    }

    #[test]
    fn machine_mail_is_not_judged() {
        let (settings, email) = fixture("50-out-of-office-tier1.eml");
        let report = check(&email, &settings, &tickets(&[]));
        assert_eq!(
            (report.verdict, report.classification),
            ("automatic", "automatic")
        );
        assert!(report.reason.unwrap().contains("Auto-Submitted"));
        assert!(report.problems.is_empty() && report.evidence.is_empty());
    }
}
