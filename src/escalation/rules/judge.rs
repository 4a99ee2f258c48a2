//! [`judge`]: the pure decision of the escalation gate (SPEC 4).
//!
//! 1. Authorisation: the sender must be the From address (a fallback sender is unverified),
//!    match `allowed_senders`, not be reported forged (dmarc=fail) by the trusted
//!    Authentication-Results, and with `require_dmarc_pass` that header must say `dmarc=pass`
//!    with `header.from` the From domain (see `crate::trust`).
//! 2. Every field that is required (base list + the named category's) or written is checked:
//!    missing, or present but not a valid value of its type. A required field counts as
//!    present when one of its evidence alternatives (attachment glob, phrase) is there; a
//!    required `customer` also when the ticket or the forwarded original names the customer.
//!    A value left as the `<hint>` placeholder of a copied refusal template counts as not given,
//!    and so does a placeholder value (`n/a`, `-`, `TBD`, see `crate::escalation::placeholder`):
//!    a required field given so is missing, and the refusal says the value is a placeholder.
//! 3. The customer must be found somewhere (Customer, the ticket's requester, the forwarded
//!    original's From).
//! 4. Priority gates: a gated priority without enough affected customers is a problem
//!    (`reject`) or is lowered one step with a reason (`downgrade`).
//!
//! Every problem is reported, not only the first.

use super::values::{Found, Outcome, Value, check_value, quoted};
use super::{
    Accepted, EscalationRules, GateInput, GateVerdict, OnViolation, Problem, ProblemKind,
    TicketLookup,
};
use crate::domain::{EmailAddress, Priority, TicketRef};
use crate::escalation::placeholder::is_placeholder;
use crate::escalation::{EvidenceBlock, FieldKey};

/// Decides what happens to an escalation mail. Pure: the ticket store is seen only through
/// `tickets`.
pub fn judge(
    input: &GateInput<'_>,
    rules: &EscalationRules,
    tickets: &dyn TicketLookup,
) -> GateVerdict {
    if let Some(reason) = unauthorised(input, rules) {
        return GateVerdict::Unauthorised { reason };
    }
    let evidence = input.evidence;
    let category_key = FieldKey::new("category");
    let named_category = given(evidence, rules, &category_key)
        .and_then(|v| rules.category(v))
        .map(|(name, _)| name.to_string());
    let required = rules.required(named_category.as_deref());

    let outcomes = check_fields(&required, input, rules, tickets);
    let found = Found::from_outcomes(&outcomes);
    let customer = found
        .customer
        .clone()
        .or_else(|| found.ticket.as_ref().and_then(|(_, r)| r.clone()))
        .or_else(|| input.forwarded.and_then(|f| f.from.clone()));

    let mut problems = field_problems(&outcomes, &required, customer.is_some(), input, rules);
    let customer_key = FieldKey::new("customer");
    if customer.is_none() && !problems.iter().any(|p| p.field == customer_key) {
        let message = "No customer found: give Customer, name an existing Ticket, or forward \
                       the customer's original mail."
            .to_string();
        problems.push(problem(rules, &customer_key, ProblemKind::Missing, message));
    }

    let requested_priority = found.priority.unwrap_or(rules.default_priority);
    let (priority, downgraded) = apply_gates(requested_priority, rules, &outcomes, &mut problems);

    if !problems.is_empty() {
        return GateVerdict::Reject {
            problems,
            category: named_category,
        };
    }
    let ticket = found.ticket.map(|(t, _)| t);
    let category = found.category.unwrap_or_default();
    let summary = summary(
        ticket.as_ref(),
        customer.as_ref(),
        &category,
        priority,
        requested_priority,
        found.affected,
    );
    GateVerdict::Accept(Accepted {
        ticket,
        customer,
        category,
        priority,
        requested_priority,
        downgraded,
        affected_customers: found.affected,
        summary,
    })
}

/// Every required field, then every other field written, each with what became of it.
fn check_fields(
    required: &[FieldKey],
    input: &GateInput<'_>,
    rules: &EscalationRules,
    tickets: &dyn TicketLookup,
) -> Vec<(FieldKey, Outcome)> {
    let mut keys = required.to_vec();
    for field in &input.evidence.fields {
        if !keys.contains(&field.key) {
            keys.push(field.key.clone());
        }
    }
    keys.into_iter()
        .map(|key| {
            let outcome = match given(input.evidence, rules, &key) {
                None if placeholder(input.evidence, &key).is_some() => Outcome::Placeholder,
                None => Outcome::Absent,
                Some(value) => match check_value(&key, value, rules, input, tickets) {
                    Ok(value) => Outcome::Valid(value),
                    Err(message) => Outcome::Invalid(message),
                },
            };
            (key, outcome)
        })
        .collect()
}

/// A problem per invalid field and per required field neither given nor stood in for (by an
/// evidence alternative, or for `customer` by the customer found elsewhere).
fn field_problems(
    outcomes: &[(FieldKey, Outcome)],
    required: &[FieldKey],
    customer_found: bool,
    input: &GateInput<'_>,
    rules: &EscalationRules,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, outcome) in outcomes {
        match outcome {
            Outcome::Invalid(message) => {
                problems.push(problem(rules, key, ProblemKind::Invalid, message.clone()));
            }
            Outcome::Absent | Outcome::Placeholder if required.contains(key) => {
                let is_found_customer = key.as_str() == "customer" && customer_found;
                let stood_in = rules
                    .evidence
                    .get(key)
                    .is_some_and(|alt| alt.satisfied_by(input.evidence, input.attachment_names));
                if !is_found_customer && !stood_in {
                    problems.push(missing(rules, input, key));
                }
            }
            Outcome::Absent | Outcome::Placeholder | Outcome::Valid(_) => {}
        }
    }
    problems
}

/// The value of a field, `None` when absent, blank, still the `<hint>` placeholder of a
/// copied refusal template, or a placeholder that says nothing (`n/a`, `-`).
fn given<'e>(
    evidence: &'e EvidenceBlock,
    rules: &EscalationRules,
    key: &FieldKey,
) -> Option<&'e str> {
    evidence
        .value(key)
        .filter(|v| *v != format!("<{}>", rules.hint(key)) && !is_placeholder(v))
}

/// The value of a field when it is a placeholder that says nothing (`n/a`, `-`, `TBD`).
fn placeholder<'e>(evidence: &'e EvidenceBlock, key: &FieldKey) -> Option<&'e str> {
    evidence.value(key).filter(|v| is_placeholder(v))
}

/// Why the sender may not escalate, if they may not.
fn unauthorised(input: &GateInput<'_>, rules: &EscalationRules) -> Option<String> {
    let sender = input.sender;
    if rules.allowed_senders.patterns().is_empty() {
        return Some(format!(
            "{sender} may not escalate: escalation.allowed_senders is empty"
        ));
    }
    if !rules.allowed_senders.matches(sender) {
        return Some(format!("{sender} is not on escalation.allowed_senders"));
    }
    if let Some(why) = input.trust.unverified_because() {
        return Some(format!("{sender} is not a verified sender: {why}"));
    }
    if rules.require_dmarc_pass && !input.trust.dmarc_pass() {
        return Some(format!(
            "mail from {sender} has no dmarc=pass for its From domain from a trusted \
             Authentication-Results ({}; escalation.require_dmarc_pass)",
            input.trust.describe()
        ));
    }
    None
}

fn problem(rules: &EscalationRules, key: &FieldKey, kind: ProblemKind, message: String) -> Problem {
    Problem {
        field: key.clone(),
        kind,
        message,
        line_to_add: format!("{}: <{}>", key.label(), rules.hint(key)),
    }
}

/// A required field that is neither given nor stood in for.
fn missing(rules: &EscalationRules, input: &GateInput<'_>, key: &FieldKey) -> Problem {
    let label = key.label();
    let state = if let Some(value) = placeholder(input.evidence, key) {
        format!(
            "is a placeholder ({}), which says nothing, so it counts as missing",
            quoted(value)
        )
    } else if input.evidence.get(key).is_some() {
        // written, but blank or the template's placeholder
        "is empty".to_string()
    } else {
        "is missing".to_string()
    };
    let message = match (key.as_str(), rules.evidence.get(key)) {
        ("customer", _) => format!(
            "{label} {state}, and neither an existing Ticket nor a forwarded original names \
             the customer."
        ),
        (_, Some(alternatives)) => {
            format!("{label} {state}: give it, or {}.", alternatives.describe())
        }
        (_, None) => format!("{label} {state}."),
    };
    problem(rules, key, ProblemKind::Missing, message)
}

/// Applies the priority gates from the requested priority down; returns the priority reached
/// and, when lowered, why. A `reject` gate adds its problem (replacing another problem on
/// Affected-Customers, whose state the gate's message repeats).
fn apply_gates(
    requested: Priority,
    rules: &EscalationRules,
    outcomes: &[(FieldKey, Outcome)],
    problems: &mut Vec<Problem>,
) -> (Priority, Option<String>) {
    let affected_key = FieldKey::new("affected_customers");
    let outcome = outcomes
        .iter()
        .find(|(k, _)| *k == affected_key)
        .map(|(_, o)| o);
    let (affected, state) = match outcome {
        Some(Outcome::Valid(Value::Number(n))) => (Some(*n), format!("Affected-Customers is {n}")),
        Some(Outcome::Invalid(_)) => (None, "Affected-Customers is not a whole number".into()),
        Some(Outcome::Placeholder) => (None, "Affected-Customers is a placeholder".into()),
        _ => (None, "Affected-Customers is missing".into()),
    };
    let mut priority = requested;
    let mut reasons = Vec::new();
    while let Some(gate) = rules.gate(priority) {
        if affected.is_some_and(|n| n >= gate.min_affected_customers) {
            break;
        }
        let needs = format!(
            "priority {priority} needs at least {} affected customers, and {state}",
            gate.min_affected_customers
        );
        match (gate.on_violation, lower(priority)) {
            (OnViolation::Downgrade, Some(lower)) => {
                reasons.push(format!("{needs}: escalated as {lower}"));
                priority = lower;
            }
            _ => {
                problems.retain(|p| p.field != affected_key);
                let message = format!(
                    "{}; give the count or lower the Priority.",
                    capitalise(&needs)
                );
                problems.push(problem(
                    rules,
                    &affected_key,
                    ProblemKind::PriorityGate,
                    message,
                ));
                break;
            }
        }
    }
    let downgraded = (!reasons.is_empty()).then(|| capitalise(&reasons.join("; ")) + ".");
    (priority, downgraded)
}

/// The next lower priority (`critical` → `high`), none below `low`.
fn lower(priority: Priority) -> Option<Priority> {
    let index = Priority::ALL.iter().position(|p| *p == priority)?;
    index
        .checked_sub(1)
        .and_then(|i| Priority::ALL.get(i))
        .copied()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "escalation accepted: SUP-1042 (jane@acme.test), category email, priority high, 1 affected
/// customer".
fn summary(
    ticket: Option<&TicketRef>,
    customer: Option<&EmailAddress>,
    category: &str,
    priority: Priority,
    requested: Priority,
    affected: Option<u32>,
) -> String {
    let customer = customer.map_or_else(|| "unknown customer".to_string(), |c| c.to_string());
    let target = match ticket {
        Some(t) => format!("{t} ({customer})"),
        None => format!("new ticket for {customer}"),
    };
    let mut out = format!("escalation accepted: {target}");
    if !category.is_empty() {
        out.push_str(&format!(", category {category}"));
    }
    out.push_str(&format!(", priority {priority}"));
    if priority != requested {
        out.push_str(&format!(" (downgraded from {requested})"));
    }
    match affected {
        Some(1) => out.push_str(", 1 affected customer"),
        Some(n) => out.push_str(&format!(", {n} affected customers")),
        None => {}
    }
    out
}
