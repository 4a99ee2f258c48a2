//! Placeholder evidence (`n/a`, `-`, `TBD` …) counts as missing, and the refusal says so.

use super::*;

fn problems(evidence: &'static str) -> Vec<Problem> {
    match run(&story("placeholders", evidence, Reject(&[])), &rules(), &[]) {
        GateVerdict::Reject { problems, .. } => problems,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_required_field_given_as_a_placeholder_is_missing_and_said_to_be_one() {
    let found = problems(
        "Customer: jane@acme.test
Category: email
Error: n/a
Steps-Taken: -
Sent-Mail-Verified: TBD
",
    );
    let got: Vec<(&str, ProblemKind)> = found.iter().map(|p| (p.field.as_str(), p.kind)).collect();
    assert_eq!(
        got,
        [
            ("error", Missing),
            ("steps_taken", Missing),
            ("sent_mail_verified", Missing)
        ],
        "{found:#?}"
    );
    assert_eq!(
        found[0].message,
        "Error is a placeholder (\"n/a\"), which says nothing, so it counts as missing."
    );
    assert_eq!(
        found[1].message,
        "Steps-Taken is a placeholder (\"-\"), which says nothing, so it counts as missing."
    );
    assert!(
        found[2].message.starts_with(
            "Sent-Mail-Verified is a placeholder (\"TBD\"), which says nothing, so it counts \
             as missing: give it, or attach"
        ),
        "{}",
        found[2].message
    );
    assert_eq!(
        found[0].line_to_add,
        "Error: <what fails, since when, and the exact error message>"
    );
}

#[test]
fn every_listed_placeholder_in_any_case_is_refused() {
    for value in [
        "n/a",
        "NA",
        "-",
        "--",
        "?",
        "Tbd",
        "TODO",
        "None",
        "nothing",
        "See below",
        "SAME",
        "...",
        "N/A.",
        "(none)",
    ] {
        let evidence = format!(
            "Customer: jane@acme.test\nCategory: email\nError: {value}\n\
             Steps-Taken: confirmed mail was sent on Monday\n"
        );
        let evidence: &'static str = Box::leak(evidence.into_boxed_str());
        let found = problems(evidence);
        assert_eq!(found.len(), 1, "{value:?}: {found:#?}");
        assert_eq!(found[0].field.as_str(), "error", "{value:?}");
        assert!(found[0].message.contains("is a placeholder"), "{value:?}");
    }
}

#[test]
fn a_placeholder_in_an_optional_field_is_as_if_not_given() {
    // Ticket: n/a is "no ticket"; Priority: - is the default priority.
    let case = story(
        "optional placeholders",
        "Ticket: n/a
Customer: jane@acme.test
Category: email
Error: no message received since Monday
Steps-Taken: confirmed mail was sent on Monday
Priority: -
",
        email_accept(Priority::Normal, false, None),
    );
    check(&case, &run(&case, &rules(), &[]));
}

#[test]
fn a_critical_escalation_with_a_placeholder_count_meets_no_gate() {
    let found = problems(
        "Customer: jane@acme.test
Category: email
Priority: critical
Affected-Customers: n/a
Error: no message received
Steps-Taken: confirmed mail was sent
",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind, Gate);
    assert_eq!(
        found[0].message,
        "Priority critical needs at least 10 affected customers, and Affected-Customers is a \
         placeholder; give the count or lower the Priority."
    );
}

#[test]
fn the_prefilled_block_replaces_a_placeholder_by_the_hint() {
    let evidence = parse_evidence("Customer: jane@acme.test\nCategory: email\nError: n/a\n");
    let block =
        crate::escalation::refusal::prefilled_block(&evidence, &rules(), Some("email"), None);
    assert!(
        block.contains("Error: <what fails, since when, and the exact error message>"),
        "{block}"
    );
    assert!(!block.contains("n/a"), "{block}");
}
