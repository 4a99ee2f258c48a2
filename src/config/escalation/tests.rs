//! `[escalation]` in the config file: the typed rules, and one test per mistake naming its line.

use crate::config::{ConfigError, ConfigIssue, Settings};
use crate::domain::{EmailAddress, Priority};
use crate::escalation::FieldKey;
use crate::escalation::rules::{CriticalGateSource, DEFAULT_CRITICAL_GATE, FieldType, OnViolation};

fn issues_of(text: &str) -> Vec<ConfigIssue> {
    match Settings::from_toml(text, "test.toml") {
        Err(ConfigError::Invalid { issues, .. }) => issues,
        other => panic!("expected invalid config, got {other:?}"),
    }
}

/// The single issue of `text`, whose message must contain `needle`; returns its line.
fn line_of_only_issue(text: &str, needle: &str) -> Option<usize> {
    let issues = issues_of(text);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(issues[0].message.contains(needle), "{issues:?}");
    issues[0].line
}

const ALLOWED: &str = "[escalation]\nallowed_senders = [\"*@tier1.example.test\"]\n";

fn keys(names: &[&str]) -> Vec<FieldKey> {
    names.iter().map(|n| FieldKey::new(n)).collect()
}

#[test]
fn without_the_section_nobody_may_escalate_and_defaults_apply() {
    let s = Settings::from_toml("", "t").unwrap();
    let rules = &s.escalation;
    assert!(rules.allowed_senders.patterns().is_empty());
    assert!(!rules.require_dmarc_pass);
    assert_eq!(rules.require, keys(&["category", "error", "steps_taken"]));
    assert_eq!(rules.default_priority, Priority::Normal);
    assert!(rules.categories.is_empty());
    assert_eq!(rules.priority_gates, [DEFAULT_CRITICAL_GATE]);
    assert!(Settings::unused_sections(ALLOWED).is_empty());
}

#[test]
fn without_a_critical_gate_the_default_one_is_in_force() {
    let s = Settings::from_toml(ALLOWED, "t").unwrap();
    let rules = &s.escalation;
    assert_eq!(rules.critical_gate, CriticalGateSource::Default);
    let gate = rules.gate(Priority::Critical).unwrap();
    assert_eq!(gate.min_affected_customers, 2);
    assert_eq!(gate.on_violation, OnViolation::Downgrade);
    assert_eq!(
        rules.describe_critical_gate(),
        "default: critical needs 2+ affected customers, else downgraded to high, with the \
         reason mailed back; set [escalation.priority.critical] to change it, enabled = false \
         to turn it off"
    );
    // A gate on another priority leaves the default critical gate in force.
    let high = format!("{ALLOWED}[escalation.priority.high]\nmin_affected_customers = 3\n");
    let rules = Settings::from_toml(&high, "t").unwrap().escalation;
    assert_eq!(rules.gate(Priority::Critical), Some(&DEFAULT_CRITICAL_GATE));
    assert_eq!(
        rules.gate(Priority::High).unwrap().min_affected_customers,
        3
    );
    assert_eq!(
        rules.describe(),
        "from *@tier1.example.test; no categories; high needs 3+ affected customers, else \
         refused"
    );
}

#[test]
fn the_critical_gate_can_be_changed_or_turned_off_explicitly() {
    let changed = format!(
        "{ALLOWED}[escalation.priority.critical]\nmin_affected_customers = 5\n\
         on_violation = \"reject\"\n"
    );
    let rules = Settings::from_toml(&changed, "t").unwrap().escalation;
    assert_eq!(rules.critical_gate, CriticalGateSource::Configured);
    assert_eq!(
        rules.describe_critical_gate(),
        "configured: critical needs 5+ affected customers, else refused"
    );
    let off = format!("{ALLOWED}[escalation.priority.critical]\nenabled = false\n");
    let rules = Settings::from_toml(&off, "t").unwrap().escalation;
    assert_eq!(rules.critical_gate, CriticalGateSource::Off);
    assert_eq!(rules.gate(Priority::Critical), None);
    assert!(
        rules.describe_critical_gate().starts_with("off ("),
        "{}",
        rules.describe_critical_gate()
    );
    // enabled = true is the same as leaving it out: a configured gate (reject at 1).
    let on = format!("{ALLOWED}[escalation.priority.critical]\nenabled = true\n");
    let rules = Settings::from_toml(&on, "t").unwrap().escalation;
    assert_eq!(rules.critical_gate, CriticalGateSource::Configured);
    assert_eq!(
        rules
            .gate(Priority::Critical)
            .unwrap()
            .min_affected_customers,
        1
    );
    // Off with values that would be ignored is a mistake, on the line of enabled.
    let both = format!(
        "{ALLOWED}[escalation.priority.critical]\nmin_affected_customers = 5\nenabled = false\n"
    );
    assert_eq!(
        line_of_only_issue(&both, "enabled = false turns the gate off"),
        Some(5)
    );
}

#[test]
fn the_example_of_the_design_is_read_into_typed_rules() {
    let text = r#"
[escalation]
allowed_senders = ["*@tier1.example.test"]
require_dmarc_pass = true
default_priority = "low"

[escalation.categories.email]
require = ["Customer", "sent-mail-verified"]

[escalation.categories.Network]
require = ["affected_customers", "site"]

[escalation.fields.affected_customers]
type = "number"
hint = "how many customers are affected, e.g. 12"

[escalation.fields.site]
type = "text"

[escalation.evidence.sent_mail_verified]
attachments = ["*.eml", "sent-mail*.log"]
phrases = [{ field = "Steps-Taken", contains = "confirmed mail was sent" }]
hint = "proof that mail was sent"

[escalation.priority.critical]
min_affected_customers = 10
on_violation = "downgrade"

[[mailboxes]]
name = "escalations"
role = "escalation"

[security]
trusted_authserv_ids = ["mx.example.test"]
"#;
    let s = Settings::from_toml(text, "t").unwrap();
    let rules = &s.escalation;
    let tier1 = EmailAddress::parse("Ann@Tier1.example.test").unwrap();
    assert!(rules.allowed_senders.matches(&tier1));
    assert!(rules.require_dmarc_pass);
    assert_eq!(rules.require, keys(&["category", "error", "steps_taken"]));
    assert_eq!(rules.default_priority, Priority::Low);
    assert_eq!(rules.category_names(), vec!["email", "network"]);
    assert_eq!(
        rules.required(Some("EMAIL")),
        keys(&[
            "category",
            "error",
            "steps_taken",
            "customer",
            "sent_mail_verified"
        ])
    );
    let affected = FieldKey::new("affected_customers");
    assert_eq!(rules.field_type(&affected), FieldType::Number);
    assert_eq!(
        rules.hint(&affected),
        "how many customers are affected, e.g. 12"
    );
    let sent = &rules.evidence[&FieldKey::new("sent_mail_verified")];
    assert!(sent.attachments.matches("Sent-Mail-2026.LOG"));
    assert_eq!(sent.phrases[0].field, FieldKey::new("steps_taken"));
    let gate = rules.gate(Priority::Critical).unwrap();
    assert_eq!(gate.min_affected_customers, 10);
    assert_eq!(gate.on_violation, OnViolation::Downgrade);
    assert_eq!(
        rules.describe(),
        "from *@tier1.example.test; categories email, network; dmarc=pass required"
    );
    assert_eq!(rules.critical_gate, CriticalGateSource::Configured);
    assert_eq!(
        rules.describe_critical_gate(),
        "configured: critical needs 10+ affected customers, else downgraded to high, with the \
         reason mailed back"
    );
}

#[test]
fn an_empty_require_list_is_kept_and_gates_default_to_reject_at_one() {
    let text = format!("{ALLOWED}require = []\n[escalation.priority.high]\n");
    let s = Settings::from_toml(&text, "t").unwrap();
    assert!(s.escalation.require.is_empty());
    let gate = s.escalation.gate(Priority::High).unwrap();
    assert_eq!(gate.min_affected_customers, 1);
    assert_eq!(gate.on_violation, OnViolation::Reject);
}

#[test]
fn an_escalation_mailbox_needs_allowed_senders() {
    let mailbox = "[[mailboxes]]\nname = \"tier2\"\nrole = \"escalation\"\n";
    let line = line_of_only_issue(mailbox, "set [escalation] allowed_senders");
    assert_eq!(line, Some(2));
    let empty = format!("[escalation]\nallowed_senders = []\n\n{mailbox}");
    assert_eq!(line_of_only_issue(&empty, "tier2"), Some(5));
    assert!(Settings::from_toml(&format!("{ALLOWED}\n{mailbox}"), "t").is_ok());
}

#[test]
fn bad_sender_glob() {
    let text = "[escalation]\nallowed_senders = [\n  \"*@tier1.example.test\",\n  \"tier1.example.test\",\n  \"[*@x\",\n]\n";
    let lines: Vec<_> = issues_of(text).iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![Some(4), Some(5)]);
    let one = "[escalation]\nallowed_senders = [\"tier1.example.test\"]\n";
    assert_eq!(line_of_only_issue(one, "needs an '@'"), Some(2));
}

#[test]
fn require_entry_that_is_not_a_field_name() {
    let text = format!("{ALLOWED}require = [\"category\",\n  \"steps taken!\"]\n");
    assert_eq!(line_of_only_issue(&text, "not a field name"), Some(4));
    let category = format!("{ALLOWED}\n[escalation.categories.email]\nrequire = [\"\"]\n");
    assert_eq!(
        line_of_only_issue(&category, "categories.email.require"),
        Some(5)
    );
}

#[test]
fn unknown_field_type() {
    let text = format!("{ALLOWED}\n[escalation.fields.site]\ntype = \"place\"\n");
    assert_eq!(line_of_only_issue(&text, "unknown field type"), Some(5));
}

#[test]
fn bad_and_repeated_category_names() {
    let text = format!("{ALLOWED}\n[escalation.categories.\"e mail\"]\nrequire = []\n");
    assert_eq!(line_of_only_issue(&text, "not a category name"), Some(4));
    let twice =
        format!("{ALLOWED}\n[escalation.categories.email]\n\n[escalation.categories.Email]\n");
    let issues = issues_of(&twice);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(issues[0].message.contains("defined twice"), "{issues:?}");
    assert!(matches!(issues[0].line, Some(4) | Some(6)), "{issues:?}");
}

#[test]
fn on_violation_must_be_reject_or_downgrade() {
    let text = format!("{ALLOWED}\n[escalation.priority.critical]\non_violation = \"drop\"\n");
    assert_eq!(
        line_of_only_issue(&text, "\"reject\" or \"downgrade\""),
        Some(5)
    );
    let low = format!("{ALLOWED}\n[escalation.priority.low]\non_violation = \"downgrade\"\n");
    assert_eq!(line_of_only_issue(&low, "no priority below low"), Some(5));
}

#[test]
fn min_affected_customers_below_one() {
    for value in ["0", "-3"] {
        let text = format!(
            "{ALLOWED}\n[escalation.priority.critical]\nmin_affected_customers = {value}\n"
        );
        assert_eq!(line_of_only_issue(&text, "at least 1"), Some(5), "{value}");
    }
}

#[test]
fn priority_table_that_is_not_a_priority() {
    let text = format!("{ALLOWED}\n[escalation.priority.urgent]\nmin_affected_customers = 2\n");
    assert_eq!(
        line_of_only_issue(&text, "\"urgent\" is not a priority"),
        Some(4)
    );
    let both = format!("{ALLOWED}\n[escalation.priority.Urgent]\non_violation = \"drop\"\n");
    let lines: Vec<_> = issues_of(&both).iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![Some(4), Some(5)]);
}

#[test]
fn evidence_alternatives_with_a_bad_glob_or_an_empty_phrase_field() {
    let glob =
        format!("{ALLOWED}\n[escalation.evidence.log]\nattachments = [\"*.log\", \"[a-\"]\n");
    assert_eq!(
        line_of_only_issue(&glob, "invalid file name pattern"),
        Some(5)
    );
    let phrase = format!(
        "{ALLOWED}\n[escalation.evidence.sent]\nphrases = [\n  {{ field = \"\", contains = \"sent\" }},\n]\n"
    );
    assert_eq!(line_of_only_issue(&phrase, "not a field name"), Some(6));
    let contains = format!(
        "{ALLOWED}\n[escalation.evidence.sent]\nphrases = [{{ field = \"steps\", contains = \" \" }}]\n"
    );
    assert_eq!(line_of_only_issue(&contains, "contains is empty"), Some(5));
    let nothing = format!("{ALLOWED}\n[escalation.evidence.sent]\nhint = \"proof\"\n");
    assert_eq!(
        line_of_only_issue(&nothing, "neither attachments nor phrases"),
        Some(4)
    );
}

#[test]
fn empty_hints() {
    let field = format!("{ALLOWED}\n[escalation.fields.site]\nhint = \"  \"\n");
    assert_eq!(
        line_of_only_issue(&field, "fields.site.hint is empty"),
        Some(5)
    );
    let evidence =
        format!("{ALLOWED}\n[escalation.evidence.sent]\nattachments = [\"*.eml\"]\nhint = \"\"\n");
    assert_eq!(
        line_of_only_issue(&evidence, "evidence.sent.hint is empty"),
        Some(6)
    );
}

#[test]
fn invalid_default_priority() {
    let text = format!("{ALLOWED}default_priority = \"asap\"\n");
    assert_eq!(line_of_only_issue(&text, "asap"), Some(3));
}

#[test]
fn unknown_keys_in_the_section_name_their_line() {
    let text = format!("{ALLOWED}require_dkim = true\n");
    assert_eq!(line_of_only_issue(&text, "require_dkim"), Some(3));
    let nested = format!("{ALLOWED}\n[escalation.priority.critical]\nmin_customers = 3\n");
    assert_eq!(line_of_only_issue(&nested, "min_customers"), Some(5));
}

#[test]
fn every_mistake_of_the_section_is_collected() {
    let text = r#"[escalation]
allowed_senders = ["*@tier1.example.test"]
default_priority = "asap"
require = ["?"]

[escalation.fields.site]
type = "place"

[escalation.priority.critical]
min_affected_customers = 0
on_violation = "drop"
"#;
    let mut lines: Vec<_> = issues_of(text).iter().map(|i| i.line).collect();
    lines.sort();
    assert_eq!(lines, vec![Some(3), Some(4), Some(7), Some(10), Some(11)]);
}

#[test]
fn requiring_dmarc_without_a_trusted_authserv_id_is_a_mistake() {
    let text =
        "[escalation]\nallowed_senders = [\"*@tier1.example.test\"]\nrequire_dmarc_pass = true\n";
    let Err(ConfigError::Invalid { issues, .. }) = Settings::from_toml(text, "t") else {
        panic!("accepted")
    };
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].line, Some(3));
    assert!(
        issues[0]
            .message
            .contains("[security] trusted_authserv_ids"),
        "{issues:?}"
    );
    let with = format!("{text}[security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n");
    let s = Settings::from_toml(&with, "t").unwrap();
    assert_eq!(s.security.trusted_authserv_ids, ["mx.example.test"]);
}
