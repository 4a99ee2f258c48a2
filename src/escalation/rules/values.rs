//! One field value checked against its [`FieldType`] (a number of 1 or more, an address, an
//! existing ticket of this installation, a priority, a configured category, any text), and the
//! values [`judge`](super::judge) keeps for the verdict ([`Found`]).

use super::{EscalationRules, FieldType, GateInput, TicketLookup};
use crate::domain::{EmailAddress, Mailbox, Priority, TicketRef, ticket_ref::TicketRefError};
use crate::escalation::FieldKey;

/// A field's value, checked against its type.
pub(super) enum Value {
    Number(u32),
    Address(EmailAddress),
    /// An existing ticket and its requester.
    Ticket(TicketRef, Option<EmailAddress>),
    Priority(Priority),
    Category(String),
    Text,
}

/// What became of one field: absent (or blank), a placeholder, valid, or invalid.
pub(super) enum Outcome {
    Absent,
    /// Given as a value that says nothing (`n/a`, `-`, `TBD`): counts as not given.
    Placeholder,
    Valid(Value),
    /// The sentence saying what is wrong.
    Invalid(String),
}

/// The values with a meaning for the verdict, where they were given and valid.
#[derive(Default)]
pub(super) struct Found {
    pub(super) ticket: Option<(TicketRef, Option<EmailAddress>)>,
    pub(super) customer: Option<EmailAddress>,
    pub(super) category: Option<String>,
    pub(super) priority: Option<Priority>,
    pub(super) affected: Option<u32>,
}

impl Found {
    pub(super) fn from_outcomes(outcomes: &[(FieldKey, Outcome)]) -> Self {
        let mut found = Found::default();
        for (key, outcome) in outcomes {
            let Outcome::Valid(value) = outcome else {
                continue;
            };
            match (key.as_str(), value) {
                ("ticket", Value::Ticket(t, requester)) => {
                    found.ticket = Some((t.clone(), requester.clone()));
                }
                ("customer", Value::Address(a)) => found.customer = Some(a.clone()),
                ("category", Value::Category(c)) => found.category = Some(c.clone()),
                ("priority", Value::Priority(p)) => found.priority = Some(*p),
                ("affected_customers", Value::Number(n)) => found.affected = Some(*n),
                _ => {}
            }
        }
        found
    }
}

/// Checks a non-blank value against the field's type; `Err` is the sentence saying why not.
pub(super) fn check_value(
    key: &FieldKey,
    value: &str,
    rules: &EscalationRules,
    input: &GateInput<'_>,
    tickets: &dyn TicketLookup,
) -> Result<Value, String> {
    let label = key.label();
    let shown = quoted(value);
    match rules.field_type(key) {
        FieldType::Number => Some(value.trim())
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|n| *n >= 1)
            .map(Value::Number)
            .ok_or_else(|| format!("{label} {shown} is not a whole number of 1 or more.")),
        FieldType::Address => Mailbox::parse(value)
            .map(|m| Value::Address(m.address))
            .map_err(|_| format!("{label} {shown} is not an email address.")),
        FieldType::Ticket => {
            let prefix = input.prefix;
            let reference = TicketRef::parse(value, prefix).map_err(|e| match e {
                TicketRefError::Malformed(_) => {
                    format!("{label} {shown} is not a ticket reference like {prefix}-1042.")
                }
                TicketRefError::WrongPrefix { .. } => format!(
                    "{label} {shown} is not a ticket of this installation \
                     (references here look like {prefix}-1042)."
                ),
            })?;
            match tickets.requester(&reference) {
                Some(requester) => Ok(Value::Ticket(reference, requester)),
                None => Err(format!("{label} {reference} does not exist.")),
            }
        }
        FieldType::Priority => value
            .parse::<Priority>()
            .map(Value::Priority)
            .map_err(|_| format!("{label} {shown} is not one of low, normal, high, critical.")),
        FieldType::Category if rules.categories.is_empty() => {
            Ok(Value::Category(value.trim().to_lowercase()))
        }
        FieldType::Category => match rules.category(value) {
            Some((name, _)) => Ok(Value::Category(name.to_string())),
            None => Err(format!(
                "{label} {shown} is not a known category: use one of {}.",
                rules.category_names().join(", ")
            )),
        },
        FieldType::Text => Ok(Value::Text),
    }
}

/// A value in double quotes for a message, cut at 60 characters and one line.
pub(super) fn quoted(value: &str) -> String {
    let line = value.lines().next().unwrap_or_default().trim();
    let mut shown: String = line.chars().take(60).collect();
    if shown.len() < line.len() || value.trim().contains('\n') {
        shown.push('…');
    }
    format!("{shown:?}")
}
