//! The checks of `[escalation]` values, each mistake reported with its span: field names,
//! category names, hints, evidence alternatives and priority gates.

use std::ops::Range;

use toml::Spanned;

use super::{EvidenceFile, PhraseFile, PriorityGateFile};
use crate::domain::Priority;
use crate::escalation::FieldKey;
use crate::escalation::rules::{
    EvidenceAlternatives, FileGlobs, OnViolation, Phrase, PriorityGate,
};

/// A field name as configured (`steps_taken`, `Steps-Taken`): letters and digits with `-`, `_`
/// or spaces between them.
pub(super) fn field_key(
    name: &Spanned<String>,
    context: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<FieldKey> {
    let key = FieldKey::new(name.get_ref());
    let valid = !key.as_str().is_empty()
        && key
            .as_str()
            .chars()
            .all(|c| c == '_' || c.is_alphanumeric());
    if !valid {
        issue(
            Some(name.span()),
            format!(
                "{context}: {:?} is not a field name (letters and digits, words joined by \
                 '_' or '-', e.g. steps_taken)",
                name.get_ref()
            ),
        );
        return None;
    }
    Some(key)
}

/// A list of field names, repeats dropped.
pub(super) fn field_keys(
    names: &[Spanned<String>],
    context: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Vec<FieldKey> {
    let mut keys: Vec<FieldKey> = Vec::new();
    for name in names {
        if let Some(key) = field_key(name, context, issue)
            && !keys.contains(&key)
        {
            keys.push(key);
        }
    }
    keys
}

/// A category name, lower-cased: letters, digits, `-` and `_`.
pub(super) fn category_name(
    name: &Spanned<String>,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<String> {
    let text = name.get_ref().trim();
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if !valid {
        issue(
            Some(name.span()),
            format!(
                "escalation.categories: {:?} is not a category name (letters, digits, '-' \
                 or '_', e.g. email)",
                name.get_ref()
            ),
        );
        return None;
    }
    Some(text.to_lowercase())
}

/// An optional hint, which must not be blank when given.
pub(super) fn hint(
    raw: &Option<Spanned<String>>,
    context: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<String> {
    let raw = raw.as_ref()?;
    let text = raw.get_ref().trim();
    if text.is_empty() {
        issue(
            Some(raw.span()),
            format!("{context} is empty: say what to write, or leave the hint out"),
        );
        return None;
    }
    Some(text.to_string())
}

pub(super) fn evidence_alternatives(
    key: &FieldKey,
    name: &Spanned<String>,
    raw: &EvidenceFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> EvidenceAlternatives {
    let context = format!("escalation.evidence.{key}");
    let mut patterns = Vec::new();
    for glob in &raw.attachments {
        match FileGlobs::new(&[glob.get_ref()]) {
            Ok(_) => patterns.push(glob.get_ref().trim().to_string()),
            Err(e) => issue(Some(glob.span()), format!("{context}.attachments: {e}")),
        }
    }
    let attachments = FileGlobs::new(&patterns).unwrap_or_else(|e| {
        issue(Some(name.span()), format!("{context}.attachments: {e}"));
        FileGlobs::empty()
    });
    let mut phrases = Vec::new();
    for phrase in &raw.phrases {
        let PhraseFile { field, contains } = phrase;
        let field = field_key(field, &format!("{context}.phrases: field"), issue);
        if contains.get_ref().trim().is_empty() {
            issue(
                Some(contains.span()),
                format!("{context}.phrases: contains is empty: give the phrase to look for"),
            );
        } else if let Some(field) = field {
            phrases.push(Phrase {
                field,
                contains: contains.get_ref().trim().to_string(),
            });
        }
    }
    if raw.attachments.is_empty() && raw.phrases.is_empty() {
        issue(
            Some(name.span()),
            format!("{context}: names neither attachments nor phrases"),
        );
    }
    EvidenceAlternatives {
        attachments,
        phrases,
        hint: hint(&raw.hint, &format!("{context}.hint"), issue),
    }
}

pub(super) fn priority_gate(
    name: &Spanned<String>,
    raw: &PriorityGateFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<PriorityGate> {
    let priority = priority(name, "escalation.priority", issue);
    let context = format!("escalation.priority.{}", name.get_ref());
    if let Some(enabled) = &raw.enabled
        && !*enabled.get_ref()
    {
        if raw.min_affected_customers.is_some() || raw.on_violation.is_some() {
            issue(
                Some(enabled.span()),
                format!(
                    "{context}: enabled = false turns the gate off; remove \
                     min_affected_customers and on_violation, or remove enabled = false"
                ),
            );
        }
        return None;
    }
    let min_affected_customers = match &raw.min_affected_customers {
        Some(min) => match u32::try_from(*min.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                issue(
                    Some(min.span()),
                    format!("{context}.min_affected_customers must be at least 1"),
                );
                1
            }
        },
        None => 1,
    };
    let on_violation = match raw.on_violation.as_ref() {
        None => OnViolation::Reject,
        Some(v) => match v.get_ref().trim().to_ascii_lowercase().as_str() {
            "reject" => OnViolation::Reject,
            "downgrade" if priority == Some(Priority::Low) => {
                issue(
                    Some(v.span()),
                    format!("{context}.on_violation: there is no priority below low"),
                );
                OnViolation::Reject
            }
            "downgrade" => OnViolation::Downgrade,
            _ => {
                issue(
                    Some(v.span()),
                    format!(
                        "{context}.on_violation {:?} must be \"reject\" or \"downgrade\"",
                        v.get_ref()
                    ),
                );
                OnViolation::Reject
            }
        },
    };
    Some(PriorityGate {
        priority: priority?,
        min_affected_customers,
        on_violation,
    })
}

/// A priority name (`critical`, any case).
pub(super) fn priority(
    name: &Spanned<String>,
    context: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<Priority> {
    let parsed = name.get_ref().parse::<Priority>().ok();
    if parsed.is_none() {
        issue(
            Some(name.span()),
            format!(
                "{context}: {:?} is not a priority (low, normal, high or critical)",
                name.get_ref()
            ),
        );
    }
    parsed
}
