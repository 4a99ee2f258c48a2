//! The escalation rules (from `[escalation]` in the config file) and the pure decision
//! [`judge`]: is the sender allowed, does the evidence block carry every required item, and at
//! which priority is the escalation accepted.
//!
//! The rules are plain data: each part holds only values that were checked when the config was
//! read (address globs, file-name globs, field keys, priorities), so [`judge`] never fails; it
//! only decides.

mod fields;
mod judge;
mod values;

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EvidenceBlock, FieldKey};
use crate::domain::{AddressPatterns, EmailAddress, Priority, TicketRef};

pub use fields::{EvidenceAlternatives, FieldType, FileGlobs, Phrase};
pub use judge::judge;

/// The base fields every escalation needs when the config does not say otherwise.
pub const DEFAULT_REQUIRE: &[&str] = &["category", "error", "steps_taken"];

/// `[escalation.fields.NAME]`: the configured type and hint of one field; `None` keeps the
/// built-in one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRule {
    pub field_type: Option<FieldType>,
    /// What to write, shown in angle brackets in the line to add (`<how many customers …>`).
    pub hint: Option<String>,
}

/// `[escalation.categories.NAME]`: the fields a category requires on top of the base list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryRule {
    pub require: Vec<FieldKey>,
}

/// What happens to an escalation that asks for a gated priority without meeting the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnViolation {
    /// Refused, with the gate named as a problem.
    Reject,
    /// Accepted one priority lower (critical → high), with the reason mailed back.
    Downgrade,
}

/// `[escalation.priority.NAME]`: what a priority needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PriorityGate {
    pub priority: Priority,
    /// Affected-Customers must be given and at least this (≥ 1).
    pub min_affected_customers: u32,
    pub on_violation: OnViolation,
}

/// The critical gate in force when the config says nothing about it (SPEC 1, 4: one customer is
/// never a critical incident): critical needs at least 2 affected customers, else the
/// escalation is accepted as high with the reason mailed back.
pub const DEFAULT_CRITICAL_GATE: PriorityGate = PriorityGate {
    priority: Priority::Critical,
    min_affected_customers: 2,
    on_violation: OnViolation::Downgrade,
};

/// Where the critical gate in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticalGateSource {
    /// No `[escalation.priority.critical]`: [`DEFAULT_CRITICAL_GATE`].
    Default,
    /// `[escalation.priority.critical]` with its own values.
    Configured,
    /// `[escalation.priority.critical]` with `enabled = false`: no gate on critical.
    Off,
}

/// The typed `[escalation]` section. `Default` is the section left out: nobody is allowed to
/// escalate, the base list is [`DEFAULT_REQUIRE`], default priority normal, no categories, the
/// [`DEFAULT_CRITICAL_GATE`].
#[derive(Debug, Clone)]
pub struct EscalationRules {
    /// Who may escalate (address globs); empty: nobody.
    pub allowed_senders: AddressPatterns,
    /// Whether the trusted Authentication-Results must say `dmarc=pass` for the From domain.
    pub require_dmarc_pass: bool,
    /// Fields every escalation needs, whatever its category.
    pub require: Vec<FieldKey>,
    /// The priority of an escalation without a Priority field.
    pub default_priority: Priority,
    /// Category name (lower case) → its extra requirements.
    pub categories: BTreeMap<String, CategoryRule>,
    /// Configured types and hints.
    pub fields: BTreeMap<FieldKey, FieldRule>,
    /// Other forms of evidence, per field.
    pub evidence: BTreeMap<FieldKey, EvidenceAlternatives>,
    /// At most one gate per priority; the critical one is [`DEFAULT_CRITICAL_GATE`] unless
    /// configured or turned off.
    pub priority_gates: Vec<PriorityGate>,
    /// Where the critical gate comes from (for `mailgate config check`).
    pub critical_gate: CriticalGateSource,
}

impl Default for EscalationRules {
    fn default() -> Self {
        Self {
            allowed_senders: AddressPatterns::empty(),
            require_dmarc_pass: false,
            require: DEFAULT_REQUIRE.iter().map(|k| FieldKey::new(k)).collect(),
            default_priority: Priority::Normal,
            categories: BTreeMap::new(),
            fields: BTreeMap::new(),
            evidence: BTreeMap::new(),
            priority_gates: vec![DEFAULT_CRITICAL_GATE],
            critical_gate: CriticalGateSource::Default,
        }
    }
}

impl EscalationRules {
    /// The type a field is checked as: configured, else built-in.
    pub fn field_type(&self, key: &FieldKey) -> FieldType {
        self.fields
            .get(key)
            .and_then(|f| f.field_type)
            .unwrap_or_else(|| FieldType::builtin(key))
    }

    /// What to write in a field: the configured hint, else the evidence alternatives' hint,
    /// else a built-in one.
    pub fn hint(&self, key: &FieldKey) -> String {
        let configured = self.fields.get(key).and_then(|f| f.hint.clone());
        let alternative = self.evidence.get(key).and_then(|e| e.hint.clone());
        configured
            .or(alternative)
            .unwrap_or_else(|| self.builtin_hint(key))
    }

    fn builtin_hint(&self, key: &FieldKey) -> String {
        let by_name = match key.as_str() {
            "ticket" => "the customer's existing ticket, if there is one",
            "customer" => "the customer's email address",
            "affected_customers" => "how many customers are affected, e.g. 12",
            "error" => "what fails, since when, and the exact error message",
            "steps_taken" => "what you checked and what you found, one '- ' line each",
            _ => "",
        };
        if !by_name.is_empty() {
            return by_name.to_string();
        }
        match self.field_type(key) {
            FieldType::Number => "a whole number, e.g. 3".into(),
            FieldType::Address => "an email address".into(),
            FieldType::Ticket => "a ticket reference".into(),
            FieldType::Priority => format!(
                "low, normal, high or critical; {} when left out",
                self.default_priority
            ),
            FieldType::Category if self.categories.is_empty() => "the kind of problem".into(),
            FieldType::Category => format!("one of: {}", self.category_names().join(", ")),
            FieldType::Text => "what you found".into(),
        }
    }

    /// The configured category names, sorted.
    pub fn category_names(&self) -> Vec<&str> {
        self.categories.keys().map(String::as_str).collect()
    }

    /// The configured category a `Category:` value names (case-insensitive), if any.
    pub fn category(&self, value: &str) -> Option<(&str, &CategoryRule)> {
        let wanted = value.trim().to_lowercase();
        self.categories
            .get_key_value(&wanted)
            .map(|(name, rule)| (name.as_str(), rule))
    }

    /// The required fields for a category (base list, then the category's own), no repeats.
    pub fn required(&self, category: Option<&str>) -> Vec<FieldKey> {
        let extra = category
            .and_then(|c| self.category(c))
            .map(|(_, rule)| rule.require.as_slice())
            .unwrap_or_default();
        let mut out: Vec<FieldKey> = Vec::new();
        for key in self.require.iter().chain(extra) {
            if !out.contains(key) {
                out.push(key.clone());
            }
        }
        out
    }

    /// The gate on a priority, if one is configured.
    pub fn gate(&self, priority: Priority) -> Option<&PriorityGate> {
        self.priority_gates.iter().find(|g| g.priority == priority)
    }

    /// One line for `mailgate config check`: the critical gate in force and where it comes
    /// from.
    pub fn describe_critical_gate(&self) -> String {
        let gate = self.gate(Priority::Critical);
        match (self.critical_gate, gate) {
            (CriticalGateSource::Off, _) | (_, None) => {
                "off ([escalation.priority.critical] enabled = false): a critical escalation \
                 for a single customer alerts every technician"
                    .to_string()
            }
            (CriticalGateSource::Default, Some(gate)) => format!(
                "default: {}; set [escalation.priority.critical] to change it, enabled = false \
                 to turn it off",
                gate.describe()
            ),
            (CriticalGateSource::Configured, Some(gate)) => {
                format!("configured: {}", gate.describe())
            }
        }
    }

    /// One line for `mailgate config check`: who may escalate, which categories exist, and the
    /// gates on priorities other than critical (see [`Self::describe_critical_gate`]).
    pub fn describe(&self) -> String {
        let senders = if self.allowed_senders.patterns().is_empty() {
            "nobody may escalate (no allowed_senders)".to_string()
        } else {
            format!("from {}", self.allowed_senders.patterns().join(", "))
        };
        let categories = if self.categories.is_empty() {
            "no categories".to_string()
        } else {
            format!("categories {}", self.category_names().join(", "))
        };
        let mut out = format!("{senders}; {categories}");
        if self.require_dmarc_pass {
            out.push_str("; dmarc=pass required");
        }
        for gate in self
            .priority_gates
            .iter()
            .filter(|g| g.priority != Priority::Critical)
        {
            out.push_str(&format!("; {}", gate.describe()));
        }
        out
    }
}

impl PriorityGate {
    /// "critical needs 2+ affected customers, else downgraded to high".
    pub fn describe(&self) -> String {
        let action = match (self.on_violation, self.priority) {
            (OnViolation::Downgrade, Priority::Critical) => {
                "else downgraded to high, with the reason mailed back".to_string()
            }
            (OnViolation::Downgrade, _) => "else downgraded one step".to_string(),
            (OnViolation::Reject, _) => "else refused".to_string(),
        };
        format!(
            "{} needs {}+ affected customers, {action}",
            self.priority, self.min_affected_customers
        )
    }
}

/// Who asked for a ticket: the gate's view of the ticket store.
pub trait TicketLookup {
    /// `None`: no such ticket; `Some(requester)`: the ticket exists (its requester may be
    /// unknown).
    fn requester(&self, ticket: &TicketRef) -> Option<Option<EmailAddress>>;
}

/// Everything [`judge`] looks at, borrowed from the inbound mail and its parsed parts.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    /// The envelope/From sender of the escalation mail.
    pub sender: &'a EmailAddress,
    /// How far the sender is proven: its origin and the trusted Authentication-Results.
    pub trust: &'a crate::trust::SenderTrust,
    pub evidence: &'a EvidenceBlock,
    pub forwarded: Option<&'a super::ForwardedOriginal>,
    /// File names of the mail's attachments.
    pub attachment_names: &'a [String],
    /// This installation's ticket prefix (`SUP`).
    pub prefix: &'a str,
}

/// The gate's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum GateVerdict {
    /// Not from an allowed sender (or DMARC did not pass): logged, never answered.
    Unauthorised {
        reason: String,
    },
    /// Something is missing or wrong: every problem, for the refusal mail.
    Reject {
        problems: Vec<Problem>,
        /// The category the mail named, when it is a configured one.
        category: Option<String>,
    },
    Accept(Accepted),
}

/// What is wrong with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Required and neither given nor stood in for by other evidence.
    Missing,
    /// Given, but not a valid value of its type.
    Invalid,
    /// The priority asked for needs more (affected customers) than was given.
    PriorityGate,
}

/// One missing or invalid item of an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: FieldKey,
    pub kind: ProblemKind,
    /// What is wrong, one sentence.
    pub message: String,
    /// The exact line to add, e.g. `Affected-Customers: <how many customers are affected, e.g. 12>`.
    pub line_to_add: String,
}

/// An escalation that passed the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// The existing ticket to escalate; `None`: create one for `customer`.
    pub ticket: Option<TicketRef>,
    /// The Customer field, else the ticket's requester, else the forwarded original's sender.
    pub customer: Option<EmailAddress>,
    /// The configured category (lower case); empty only when the rules require no category
    /// and none was given.
    pub category: String,
    /// The priority after the gates.
    pub priority: Priority,
    /// The priority the mail asked for (or the default).
    pub requested_priority: Priority,
    /// Why `priority` is lower than `requested_priority`.
    pub downgraded: Option<String>,
    pub affected_customers: Option<u32>,
    /// One line for the decision log.
    pub summary: String,
}

#[cfg(test)]
mod tests;
