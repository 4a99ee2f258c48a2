//! `[escalation]` → [`EscalationRules`]: who may escalate, what evidence each category needs,
//! and the priority gates (SPEC 4, 10). Every mistake names its line.
//!
//! ```toml
//! [escalation]
//! allowed_senders = ["*@tier1.example.test"]
//! require_dmarc_pass = false
//! require = ["category", "error", "steps_taken"]   # the default
//! default_priority = "normal"
//!
//! [escalation.categories.email]
//! require = ["customer", "sent_mail_verified"]
//!
//! [escalation.fields.affected_customers]
//! type = "number"
//! hint = "how many customers are affected, e.g. 12"
//!
//! [escalation.evidence.sent_mail_verified]
//! attachments = ["*.eml"]
//! phrases = [{ field = "steps_taken", contains = "confirmed mail was sent" }]
//!
//! [escalation.priority.critical]
//! min_affected_customers = 10
//! on_violation = "reject"      # or "downgrade"
//! # enabled = false            # no gate on critical at all
//! ```
//!
//! Without `[escalation.priority.critical]` the
//! [`DEFAULT_CRITICAL_GATE`](crate::escalation::rules::DEFAULT_CRITICAL_GATE) is in force:
//! critical needs 2 affected customers, else it is accepted as high with the reason mailed back.

mod checks;

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::AddressPatterns;
use crate::domain::Priority;
use crate::escalation::rules::{
    CategoryRule, CriticalGateSource, DEFAULT_CRITICAL_GATE, EscalationRules, FieldRule,
};
use checks::{
    category_name, evidence_alternatives, field_key, field_keys, hint, priority, priority_gate,
};

/// `[escalation]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationFile {
    #[serde(default)]
    pub allowed_senders: Vec<Spanned<String>>,
    pub require_dmarc_pass: Option<Spanned<bool>>,
    /// Absent: [`DEFAULT_REQUIRE`](crate::escalation::rules::DEFAULT_REQUIRE).
    pub require: Option<Vec<Spanned<String>>>,
    pub default_priority: Option<Spanned<String>>,
    #[serde(default)]
    pub categories: BTreeMap<Spanned<String>, CategoryFile>,
    #[serde(default)]
    pub fields: BTreeMap<Spanned<String>, FieldFile>,
    #[serde(default)]
    pub evidence: BTreeMap<Spanned<String>, EvidenceFile>,
    #[serde(default)]
    pub priority: BTreeMap<Spanned<String>, PriorityGateFile>,
}

/// `[escalation.categories.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryFile {
    #[serde(default)]
    pub require: Vec<Spanned<String>>,
}

/// `[escalation.fields.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldFile {
    #[serde(rename = "type")]
    pub field_type: Option<Spanned<String>>,
    pub hint: Option<Spanned<String>>,
}

/// `[escalation.evidence.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    #[serde(default)]
    pub attachments: Vec<Spanned<String>>,
    #[serde(default)]
    pub phrases: Vec<PhraseFile>,
    pub hint: Option<Spanned<String>>,
}

/// `{ field = "steps_taken", contains = "confirmed mail was sent" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseFile {
    pub field: Spanned<String>,
    pub contains: Spanned<String>,
}

/// `[escalation.priority.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityGateFile {
    /// `false`: no gate on this priority (for critical: the default gate is turned off).
    pub enabled: Option<Spanned<bool>>,
    /// Absent: 1 (Affected-Customers must at least be given).
    pub min_affected_customers: Option<Spanned<i64>>,
    /// `reject` (the default) or `downgrade`.
    pub on_violation: Option<Spanned<String>>,
}

/// Converts `[escalation]` (absent: the defaults) and checks that the escalation mailboxes
/// (their names as written) have someone allowed to write to them. Each mistake goes to
/// `issue` with its span.
pub(super) fn escalation_rules<'a>(
    raw: Option<&EscalationFile>,
    escalation_mailboxes: impl IntoIterator<Item = &'a Spanned<String>>,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> EscalationRules {
    let rules = raw.map(|raw| rules_from(raw, issue)).unwrap_or_default();
    if rules.allowed_senders.patterns().is_empty() {
        for name in escalation_mailboxes {
            issue(
                Some(name.span()),
                format!(
                    "mailbox {}: role escalation, but every escalation would be refused as \
                     unauthorised: set [escalation] allowed_senders",
                    name.get_ref()
                ),
            );
        }
    }
    rules
}

fn rules_from(
    raw: &EscalationFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> EscalationRules {
    let defaults = EscalationRules::default();
    let mut sender_globs = Vec::new();
    for glob in &raw.allowed_senders {
        match AddressPatterns::new(&[glob.get_ref()]) {
            Ok(_) => sender_globs.push(glob.get_ref().as_str()),
            Err(e) => issue(
                Some(glob.span()),
                format!("escalation.allowed_senders: {e}"),
            ),
        }
    }
    let allowed_senders =
        AddressPatterns::new(&sender_globs).unwrap_or_else(|_| AddressPatterns::empty());
    let require = match &raw.require {
        Some(list) => field_keys(list, "escalation.require", issue),
        None => defaults.require,
    };
    let default_priority = raw
        .default_priority
        .as_ref()
        .and_then(|p| priority(p, "escalation.default_priority", issue))
        .unwrap_or(defaults.default_priority);

    let mut categories = BTreeMap::new();
    for (name, category) in &raw.categories {
        let Some(lower) = category_name(name, issue) else {
            continue;
        };
        let context = format!("escalation.categories.{lower}.require");
        let rule = CategoryRule {
            require: field_keys(&category.require, &context, issue),
        };
        if categories.insert(lower.clone(), rule).is_some() {
            issue(
                Some(name.span()),
                format!("escalation.categories: {lower:?} is defined twice (names ignore case)"),
            );
        }
    }

    let mut fields = BTreeMap::new();
    for (name, field) in &raw.fields {
        let Some(key) = field_key(name, "escalation.fields", issue) else {
            continue;
        };
        let field_type = field.field_type.as_ref().and_then(|t| {
            t.get_ref()
                .parse()
                .map_err(|e| issue(Some(t.span()), format!("escalation.fields.{key}.type: {e}")))
                .ok()
        });
        let hint = hint(&field.hint, &format!("escalation.fields.{key}.hint"), issue);
        fields.insert(key, FieldRule { field_type, hint });
    }

    let mut evidence = BTreeMap::new();
    for (name, alternatives) in &raw.evidence {
        if let Some(key) = field_key(name, "escalation.evidence", issue) {
            let converted = evidence_alternatives(&key, name, alternatives, issue);
            evidence.insert(key, converted);
        }
    }

    let mut priority_gates = Vec::new();
    let mut critical_gate = CriticalGateSource::Default;
    for (name, gate) in &raw.priority {
        if name.get_ref().parse::<Priority>().ok() == Some(Priority::Critical) {
            critical_gate = if gate.enabled.as_ref().is_some_and(|e| !*e.get_ref()) {
                CriticalGateSource::Off
            } else {
                CriticalGateSource::Configured
            };
        }
        priority_gates.extend(priority_gate(name, gate, issue));
    }
    if critical_gate == CriticalGateSource::Default {
        priority_gates.push(DEFAULT_CRITICAL_GATE);
    }

    EscalationRules {
        allowed_senders,
        require_dmarc_pass: raw
            .require_dmarc_pass
            .as_ref()
            .is_some_and(|r| *r.get_ref()),
        require,
        default_priority,
        categories,
        fields,
        evidence,
        priority_gates,
        critical_gate,
    }
}

#[cfg(test)]
mod tests;
