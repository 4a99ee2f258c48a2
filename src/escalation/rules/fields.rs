//! How a field is checked ([`FieldType`]) and what else can stand in for it
//! ([`EvidenceAlternatives`]: an attachment whose name matches a glob, a phrase in a field).

use std::fmt;
use std::str::FromStr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::escalation::{EvidenceBlock, FieldKey};

/// What kind of value an evidence field holds, and so how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A whole number of 1 or more (`Affected-Customers: 12`).
    Number,
    /// An email address.
    Address,
    /// An existing ticket of this installation (`SUP-1042`).
    Ticket,
    /// `low`, `normal`, `high` or `critical`.
    Priority,
    /// One of the configured categories (any text when none are configured).
    Category,
    /// Any text that is not blank.
    Text,
}

/// A field type name in the config that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field type {0:?}: use number, address, ticket, priority, category or text")]
pub struct UnknownFieldType(pub String);

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Number => "number",
            FieldType::Address => "address",
            FieldType::Ticket => "ticket",
            FieldType::Priority => "priority",
            FieldType::Category => "category",
            FieldType::Text => "text",
        }
    }

    /// The type of a field the config says nothing about: the five built-in fields have
    /// their own type, everything else is text.
    pub fn builtin(key: &FieldKey) -> FieldType {
        match key.as_str() {
            "ticket" => FieldType::Ticket,
            "customer" => FieldType::Address,
            "affected_customers" => FieldType::Number,
            "priority" => FieldType::Priority,
            "category" => FieldType::Category,
            _ => FieldType::Text,
        }
    }
}

impl FromStr for FieldType {
    type Err = UnknownFieldType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "number" => Ok(FieldType::Number),
            "address" => Ok(FieldType::Address),
            "ticket" => Ok(FieldType::Ticket),
            "priority" => Ok(FieldType::Priority),
            "category" => Ok(FieldType::Category),
            "text" => Ok(FieldType::Text),
            _ => Err(UnknownFieldType(s.to_string())),
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file-name glob that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid file name pattern {pattern:?}: {error}")]
pub struct FileGlobError {
    pub pattern: String,
    pub error: String,
}

/// File-name globs such as `*.eml` or `sent-mail*.log`, matched case-insensitively against an
/// attachment's name (and the last component of a name that carries a path).
#[derive(Debug, Clone)]
pub struct FileGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl FileGlobs {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, FileGlobError> {
        let mut builder = GlobSetBuilder::new();
        let mut kept = Vec::new();
        for p in patterns {
            let p = p.as_ref().trim();
            let invalid = |error: String| FileGlobError {
                pattern: p.to_string(),
                error,
            };
            if p.is_empty() {
                return Err(invalid("the pattern is empty".into()));
            }
            let glob = GlobBuilder::new(p)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map_err(|e| invalid(e.kind().to_string()))?;
            builder.add(glob);
            kept.push(p.to_string());
        }
        let set = builder.build().map_err(|e| FileGlobError {
            pattern: kept.join(", "),
            error: e.to_string(),
        })?;
        Ok(Self {
            patterns: kept,
            set,
        })
    }

    pub fn empty() -> Self {
        Self {
            patterns: Vec::new(),
            set: GlobSet::empty(),
        }
    }

    /// Whether a file name matches one of the globs.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.trim();
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        !self.patterns.is_empty() && (self.set.is_match(name) || self.set.is_match(base))
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// A phrase that, found (case-insensitively) in the named field, counts as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub field: FieldKey,
    pub contains: String,
}

/// `[escalation.evidence.NAME]`: other forms of evidence that satisfy a required field.
#[derive(Debug, Clone)]
pub struct EvidenceAlternatives {
    pub attachments: FileGlobs,
    pub phrases: Vec<Phrase>,
    pub hint: Option<String>,
}

impl EvidenceAlternatives {
    /// Whether an attachment or a phrase in the evidence block stands in for the field.
    pub fn satisfied_by(&self, evidence: &EvidenceBlock, attachment_names: &[String]) -> bool {
        attachment_names.iter().any(|n| self.attachments.matches(n))
            || self.phrases.iter().any(|p| {
                evidence
                    .value(&p.field)
                    .is_some_and(|v| squash(v).contains(&squash(&p.contains)))
            })
    }

    /// "attach a file matching *.eml, or write 'confirmed mail was sent' in Steps-Taken".
    pub fn describe(&self) -> String {
        let mut ways = Vec::new();
        if !self.attachments.patterns().is_empty() {
            ways.push(format!(
                "attach a file matching {}",
                self.attachments.patterns().join(" or ")
            ));
        }
        for p in &self.phrases {
            ways.push(format!(
                "write '{}' in {}",
                p.contains.trim(),
                p.field.label()
            ));
        }
        ways.join(", or ")
    }
}

/// Lower case with every run of whitespace made one space, for phrase matching across wrapped
/// lines.
fn squash(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
