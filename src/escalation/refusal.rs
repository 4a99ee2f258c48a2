//! The text of the gate's answers to tier 1, pure: the numbered problem list and the evidence
//! block to copy (for a refusal), and the short summary of an accepted escalation. The outbox
//! templates insert these strings; nothing here knows about mail headers.

use super::placeholder::is_placeholder;
use super::rules::{Accepted, EscalationRules, Problem};
use super::{EvidenceBlock, EvidenceField, FieldKey, ForwardedOriginal};

/// Fields that lead the pre-filled block, in this order, before the required ones; Priority
/// always comes last.
const LEADING_FIELDS: &[&str] = &["ticket", "customer", "category", "affected_customers"];

/// One numbered item per problem: what is wrong, then the exact line to add.
///
/// ```text
/// 1. Affected-Customers is missing.
///    Add: Affected-Customers: <how many customers are affected, e.g. 12>
/// ```
pub fn problem_list(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        let number = format!("{}. ", i + 1);
        let indent = " ".repeat(number.len());
        out.push_str(&format!(
            "{number}{}\n{indent}Add: {}\n",
            p.message, p.line_to_add
        ));
    }
    out
}

/// The evidence block to copy into a resend: Ticket, Customer, Category, Affected-Customers,
/// then every field the rules require for `category` (base list, then the category's; not one
/// a phrase of the evidence already stands in for), then any other field the sender wrote, then
/// Priority. Fields the sender gave keep their value (a placeholder such as `n/a` is replaced
/// by the hint)
/// (list values as ` - item` lines); the Customer comes from the forwarded original when not
/// given; the rest are `Field: <hint>`.
pub fn prefilled_block(
    evidence: &EvidenceBlock,
    rules: &EscalationRules,
    category: Option<&str>,
    forwarded: Option<&ForwardedOriginal>,
) -> String {
    let mut out = String::new();
    for key in block_keys(evidence, rules, category) {
        let label = key.label();
        let given = evidence
            .get(&key)
            .filter(|f| !f.value.trim().is_empty() && !is_placeholder(&f.value));
        match given {
            Some(field) => push_value(&mut out, &label, field),
            None => {
                let from_original = (key.as_str() == "customer")
                    .then(|| forwarded.and_then(|f| f.from.as_ref()))
                    .flatten();
                match from_original {
                    Some(customer) => out.push_str(&format!("{label}: {customer}\n")),
                    None => out.push_str(&format!("{label}: <{}>\n", rules.hint(&key))),
                }
            }
        }
    }
    out
}

/// The fields of the pre-filled block, in their order (see [`prefilled_block`]).
fn block_keys(
    evidence: &EvidenceBlock,
    rules: &EscalationRules,
    category: Option<&str>,
) -> Vec<FieldKey> {
    let required = rules.required(category);
    let priority = FieldKey::new("priority");
    let mut keys: Vec<FieldKey> = Vec::new();
    let mut add = |key: &FieldKey| {
        if *key != priority && !keys.contains(key) {
            keys.push(key.clone());
        }
    };
    for name in LEADING_FIELDS {
        let key = FieldKey::new(name);
        let wanted = name != &"category"
            || !rules.categories.is_empty()
            || required.contains(&key)
            || evidence.get(&key).is_some();
        if wanted {
            add(&key);
        }
    }
    for key in &required {
        // A phrase already standing in for the field: nothing to fill in (attachments are not
        // known here, and a resend would have to attach them again).
        let stood_in = evidence.value(key).is_none()
            && rules
                .evidence
                .get(key)
                .is_some_and(|alt| alt.satisfied_by(evidence, &[]));
        if !stood_in {
            add(key);
        }
    }
    evidence.fields.iter().for_each(|f| add(&f.key));
    keys.push(priority);
    keys
}

/// `Label: value`, or `Label:` with ` - item` lines for a list or a multi-line value (text
/// written after the colon of a list stays on the `Label:` line).
fn push_value(out: &mut String, label: &str, field: &EvidenceField) {
    let value = field.value.trim();
    if field.items.is_empty() && !value.contains('\n') {
        out.push_str(&format!("{label}: {value}\n"));
        return;
    }
    let lines: Vec<&str> = value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let items: Vec<&str> = if field.items.is_empty() {
        lines.clone()
    } else {
        field.items.iter().map(|i| i.trim()).collect()
    };
    let prose: Vec<&str> = if field.items.is_empty() {
        Vec::new()
    } else {
        lines.into_iter().filter(|l| !items.contains(l)).collect()
    };
    if prose.is_empty() {
        out.push_str(&format!("{label}:\n"));
    } else {
        out.push_str(&format!("{label}: {}\n", prose.join(" ")));
    }
    for item in items {
        out.push_str(&format!(" - {item}\n"));
    }
}

/// What an accepted escalation became, for the confirmation mail:
///
/// ```text
/// Ticket: SUP-1042
/// Customer: jane@acme.test
/// Category: email
/// Priority: high
/// Affected customers: 1
/// ```
/// plus `Priority lowered: <reason>` after a downgrade.
pub fn acceptance_summary(accepted: &Accepted) -> String {
    let customer = accepted
        .customer
        .as_ref()
        .map_or_else(|| "unknown".to_string(), |c| c.to_string());
    let mut out = match &accepted.ticket {
        Some(t) => format!("Ticket: {t}\n"),
        None => "Ticket: a new ticket\n".to_string(),
    };
    out.push_str(&format!("Customer: {customer}\n"));
    if !accepted.category.is_empty() {
        out.push_str(&format!("Category: {}\n", accepted.category));
    }
    out.push_str(&format!("Priority: {}\n", accepted.priority));
    if let Some(n) = accepted.affected_customers {
        out.push_str(&format!("Affected customers: {n}\n"));
    }
    if let Some(reason) = &accepted.downgraded {
        out.push_str(&format!("Priority lowered: {reason}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailAddress, Priority, TicketRef};
    use crate::escalation::evidence::parse_evidence;
    use crate::escalation::rules::{
        CategoryRule, EvidenceAlternatives, FieldRule, FileGlobs, Phrase, ProblemKind,
    };
    use crate::escalation::{ForwardForm, ForwardedOriginal};

    fn email_rules() -> EscalationRules {
        let mut rules = EscalationRules::default();
        let require = vec![
            FieldKey::new("customer"),
            FieldKey::new("sent_mail_verified"),
        ];
        rules
            .categories
            .insert("email".into(), CategoryRule { require });
        rules.fields.insert(
            FieldKey::new("sent_mail_verified"),
            FieldRule {
                field_type: None,
                hint: Some("a sent-mail log, or 'confirmed mail was sent' in Steps-Taken".into()),
            },
        );
        rules
    }

    fn from_carol() -> ForwardedOriginal {
        ForwardedOriginal {
            form: ForwardForm::Attached,
            from: EmailAddress::parse("carol@acme.test").ok(),
            message_id: None,
            subject: None,
            date: None,
            body: String::new(),
        }
    }

    #[test]
    fn the_block_lists_required_fields_prefilled_with_what_was_given() {
        let evidence = parse_evidence(
            "Category: email\nerror: no mail since Tuesday\nSteps-Taken:\n - checked the log\n \
             - asked the customer\nSite: HQ\n",
        );
        let block = prefilled_block(
            &evidence,
            &email_rules(),
            Some("email"),
            Some(&from_carol()),
        );
        assert_eq!(
            block,
            "Ticket: <the customer's existing ticket, if there is one>
Customer: carol@acme.test
Category: email
Affected-Customers: <how many customers are affected, e.g. 12>
Error: no mail since Tuesday
Steps-Taken:
 - checked the log
 - asked the customer
Sent-Mail-Verified: <a sent-mail log, or 'confirmed mail was sent' in Steps-Taken>
Site: HQ
Priority: <low, normal, high or critical; normal when left out>
"
        );
    }

    #[test]
    fn a_field_a_phrase_stands_in_for_is_left_out() {
        let mut rules = email_rules();
        rules.evidence.insert(
            FieldKey::new("sent_mail_verified"),
            EvidenceAlternatives {
                attachments: FileGlobs::empty(),
                phrases: vec![Phrase {
                    field: FieldKey::new("steps_taken"),
                    contains: "confirmed mail was sent".into(),
                }],
                hint: None,
            },
        );
        let evidence = parse_evidence(
            "Category: email\nCustomer: jane@acme.test\nError: e\nSteps-Taken: Confirmed mail \
             was sent\nPriority: critical\n",
        );
        assert_eq!(
            prefilled_block(&evidence, &rules, Some("email"), None),
            "Ticket: <the customer's existing ticket, if there is one>
Customer: jane@acme.test
Category: email
Affected-Customers: <how many customers are affected, e.g. 12>
Error: e
Steps-Taken: Confirmed mail was sent
Priority: critical
"
        );
    }

    #[test]
    fn an_empty_mail_gets_the_base_fields_with_hints() {
        let block = prefilled_block(&EvidenceBlock::default(), &email_rules(), None, None);
        assert_eq!(
            block,
            "Ticket: <the customer's existing ticket, if there is one>
Customer: <the customer's email address>
Category: <one of: email>
Affected-Customers: <how many customers are affected, e.g. 12>
Error: <what fails, since when, and the exact error message>
Steps-Taken: <what you checked and what you found, one '- ' line each>
Priority: <low, normal, high or critical; normal when left out>
"
        );
    }

    #[test]
    fn problems_are_numbered_with_the_line_to_add() {
        let problem = |field: &str, message: &str, line: &str| Problem {
            field: FieldKey::new(field),
            kind: ProblemKind::Missing,
            message: message.into(),
            line_to_add: line.into(),
        };
        let problems = [
            problem("error", "Error is missing.", "Error: <what fails>"),
            problem(
                "affected_customers",
                "Affected-Customers is missing.",
                "Affected-Customers: <how many customers are affected, e.g. 12>",
            ),
        ];
        assert_eq!(
            problem_list(&problems),
            "1. Error is missing.
   Add: Error: <what fails>
2. Affected-Customers is missing.
   Add: Affected-Customers: <how many customers are affected, e.g. 12>
"
        );
        assert_eq!(problem_list(&[]), "");
    }

    #[test]
    fn the_confirmation_summarises_the_accepted_escalation() {
        let accepted = Accepted {
            ticket: Some(TicketRef::new("SUP", 1042)),
            customer: EmailAddress::parse("jane@acme.test").ok(),
            category: "email".into(),
            priority: Priority::High,
            requested_priority: Priority::Critical,
            downgraded: Some("Priority critical needs at least 10 affected customers.".into()),
            affected_customers: Some(1),
            summary: String::new(),
        };
        assert_eq!(
            acceptance_summary(&accepted),
            "Ticket: SUP-1042
Customer: jane@acme.test
Category: email
Priority: high
Affected customers: 1
Priority lowered: Priority critical needs at least 10 affected customers.
"
        );
    }
}
