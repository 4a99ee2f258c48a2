//! The escalation gate (SPEC 4), pure: what a tier-1 escalation mail says, and whether it
//! carries the evidence the rules require.
//!
//! ```text
//! InboundEmail ──► evidence::parse_evidence (the `Field: value` block at the top)
//!              ──► forwarded::find_forwarded (the customer's original, inline or attached)
//!              ──► rules::judge (evidence + original + rules + ticket lookup) ──► GateVerdict
//!                                                  refusal:: renders the problems for tier 1
//! ```
//!
//! - [`evidence`]: the evidence block parser (case-insensitive field names, `-`/`_`/space
//!   alike, indented or `- ` list continuation lines, `> ` quoting, HTML-only mail).
//! - [`forwarded`]: the forwarded original (Gmail, Outlook, Apple Mail, Thunderbird inline
//!   forwards, or a message/rfc822 attachment): its sender and Message-ID.
//! - [`rules`]: the typed rules (from `[escalation]` in the config) and the pure decision.
//! - [`placeholder`]: values that fill a field without saying anything (`n/a`, `-`, `TBD`):
//!   counted as missing.
//! - [`refusal`]: the text of a refusal (every problem with the line to add, and the evidence
//!   block pre-filled with what was given).
//!
//! The pipeline (`crate::pipeline`) calls the gate for mail that arrives at a mailbox whose role
//! is `escalation`; `mailgate escalations check FILE` runs it without storing anything.

pub mod evidence;
pub mod forwarded;
pub mod gate;
pub mod placeholder;
pub mod refusal;
pub mod rules;

use std::fmt;

use serde::Serialize;

use crate::domain::{EmailAddress, MessageId};

/// A normalised evidence field name: lower case, `-`, `_` and spaces all become `_`, so
/// `Steps-Taken`, `steps taken` and `STEPS_TAKEN` are the same key `steps_taken`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct FieldKey(String);

impl FieldKey {
    /// Normalises a field name as written (`Steps-Taken`) or as configured (`steps_taken`).
    /// Runs of separators collapse to one `_`; leading and trailing separators are dropped.
    pub fn new(name: &str) -> Self {
        let mut key = String::with_capacity(name.len());
        for c in name.trim().chars() {
            if c == '-' || c == '_' || c.is_whitespace() {
                if !key.is_empty() && !key.ends_with('_') {
                    key.push('_');
                }
            } else {
                key.extend(c.to_lowercase());
            }
        }
        while key.ends_with('_') {
            key.pop();
        }
        Self(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional way to write the field in a mail: `steps_taken` → `Steps-Taken`.
    pub fn label(&self) -> String {
        self.0
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(first) => first.to_uppercase().chain(c).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Display for FieldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `Field: value` of the evidence block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceField {
    pub key: FieldKey,
    /// The field name as the sender wrote it (`Steps-Taken`).
    pub label: String,
    /// The whole value: the text after the colon and every continuation line, joined with
    /// `\n`, each line trimmed (list markers kept off, see `items`).
    pub value: String,
    /// The `- ` / `* ` / `• ` list items of a multi-line value, markers removed; empty when the
    /// value is not a list.
    pub items: Vec<String>,
    /// 1-based line of the field name in the text the block was read from.
    pub line: usize,
}

/// The evidence block at the top of an escalation mail, fields in the order written.
/// A field written twice keeps both entries; `get` returns the first non-empty one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceBlock {
    pub fields: Vec<EvidenceField>,
}

impl EvidenceBlock {
    /// The first field with this key whose value is not blank (then the first at all).
    pub fn get(&self, key: &FieldKey) -> Option<&EvidenceField> {
        let mut matching = self.fields.iter().filter(|f| &f.key == key);
        let first = matching.clone().next();
        matching.find(|f| !f.value.trim().is_empty()).or(first)
    }

    /// The trimmed value of a field, `None` when absent or blank.
    pub fn value(&self, key: &FieldKey) -> Option<&str> {
        self.get(key)
            .map(|f| f.value.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// How the customer's original mail was forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardForm {
    /// `---------- Forwarded message ---------` (Gmail and others).
    InlineGmail,
    /// `-------- Forwarded Message --------` / `-------- Original Message --------`
    /// (Thunderbird).
    InlineThunderbird,
    /// `Begin forwarded message:` (Apple Mail).
    InlineApple,
    /// Outlook's `From: … Sent: … To: … Subject: …` block, with or without
    /// `-----Original Message-----` above it.
    InlineOutlook,
    /// A message/rfc822 attachment.
    Attached,
}

/// The customer's original mail found inside the escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardedOriginal {
    pub form: ForwardForm,
    /// The original sender: the customer.
    pub from: Option<EmailAddress>,
    /// The original Message-ID, when the forward carries it (attachments always do;
    /// inline forwards rarely).
    pub message_id: Option<MessageId>,
    pub subject: Option<String>,
    /// The Date line as written.
    pub date: Option<String>,
    /// The original's text, as far as it can be told apart.
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_keys_normalise_separators_and_case() {
        for written in [
            "Steps-Taken",
            "steps_taken",
            "STEPS TAKEN",
            " Steps -- Taken ",
            "steps__taken_",
        ] {
            assert_eq!(
                FieldKey::new(written).as_str(),
                "steps_taken",
                "{written:?}"
            );
        }
        assert_eq!(
            FieldKey::new("affected_customers").label(),
            "Affected-Customers"
        );
        assert_eq!(FieldKey::new("ticket").label(), "Ticket");
    }

    #[test]
    fn get_prefers_the_first_non_blank_entry() {
        let field = |value: &str, line| EvidenceField {
            key: FieldKey::new("error"),
            label: "Error".into(),
            value: value.into(),
            items: Vec::new(),
            line,
        };
        let block = EvidenceBlock {
            fields: vec![field("", 1), field("timeout", 2)],
        };
        let key = FieldKey::new("Error");
        assert_eq!(block.get(&key).map(|f| f.line), Some(2));
        assert_eq!(block.value(&key), Some("timeout"));
        assert_eq!(block.value(&FieldKey::new("ticket")), None);
        let blank = EvidenceBlock {
            fields: vec![field(" ", 1)],
        };
        assert_eq!(blank.get(&key).map(|f| f.line), Some(1));
        assert_eq!(blank.value(&key), None);
    }
}
