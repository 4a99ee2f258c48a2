use super::*;

/// (key, value, line) of every field found in `text`.
fn fields(text: &str) -> Vec<(String, String, usize)> {
    parse_evidence(text)
        .fields
        .into_iter()
        .map(|f| (f.key.as_str().to_string(), f.value, f.line))
        .collect()
}

/// The keys found in `text`, in order.
fn keys(text: &str) -> Vec<String> {
    fields(text).into_iter().map(|(k, _, _)| k).collect()
}

fn field(text: &str, key: &str) -> EvidenceField {
    let block = parse_evidence(text);
    match block.get(&FieldKey::new(key)) {
        Some(found) => found.clone(),
        None => panic!("no {key} in {block:#?}"),
    }
}

const SPEC_EXAMPLE: &str = "\
Ticket: SUP-1042
Customer: jane@acme.test
Category: email
Affected-Customers: 1
Error: no message received since 2026-11-12; no bounce, no client error
Steps-Taken:
 - confirmed mail was sent to the customer in the last 7 days (it was not)
 - checked the client's error log: no errors
Priority: high
";

#[test]
fn reads_the_spec_example() {
    let block = parse_evidence(SPEC_EXAMPLE);
    let found: Vec<(&str, &str, usize)> = block
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str(), f.line))
        .collect();
    assert_eq!(
        found,
        [
            ("Ticket", "SUP-1042", 1),
            ("Customer", "jane@acme.test", 2),
            ("Category", "email", 3),
            ("Affected-Customers", "1", 4),
            (
                "Error",
                "no message received since 2026-11-12; no bounce, no client error",
                5
            ),
            (
                "Steps-Taken",
                "confirmed mail was sent to the customer in the last 7 days (it was not)\n\
                 checked the client's error log: no errors",
                6
            ),
            ("Priority", "high", 9),
        ]
    );
    let steps = field(SPEC_EXAMPLE, "steps_taken");
    assert_eq!(
        steps.items,
        [
            "confirmed mail was sent to the customer in the last 7 days (it was not)",
            "checked the client's error log: no errors",
        ]
    );
    assert!(field(SPEC_EXAMPLE, "ticket").items.is_empty());
    assert_eq!(block.value(&FieldKey::new("AFFECTED CUSTOMERS")), Some("1"));
}

#[test]
fn field_names_are_case_and_separator_insensitive() {
    let text = "STEPS TAKEN: restarted\naffected_customers: 3\nsent-mail_Verified : yes\n";
    assert_eq!(
        fields(text),
        [
            ("steps_taken".into(), "restarted".into(), 1),
            ("affected_customers".into(), "3".into(), 2),
            ("sent_mail_verified".into(), "yes".into(), 3),
        ]
    );
    assert_eq!(
        field(text, "Sent Mail Verified").label,
        "sent-mail_Verified"
    );
}

#[test]
fn prose_and_urls_are_no_fields() {
    for prose in [
        "The customer says: hello",
        "Please escalate:",
        "Hi tier 2: one for you",
        "See http://x.test/a for details",
        "http://x.test/a",
        "At 10:30 the mail stopped",
        "10:30: the mail stopped",
        "one two three four five: too many words",
        "Customer's address: jane@acme.test",
        "[1]: mailto:jane@acme.test",
        ": no name",
        "Thanks, Bob",
    ] {
        assert!(field_line(prose).is_none(), "{prose:?}");
    }
    for (line, name, value) in [
        ("Ticket: SUP-1", "Ticket", "SUP-1"),
        ("Ticket:SUP-1", "Ticket", "SUP-1"),
        ("Ticket : SUP-1", "Ticket", "SUP-1"),
        ("Sent mail verified: yes", "Sent mail verified", "yes"),
        ("Error: timeout: 30s", "Error", "timeout: 30s"),
        ("Link: http://x.test/a", "Link", "http://x.test/a"),
        ("**Ticket:** SUP-1", "Ticket", "SUP-1"),
        ("**Ticket**: SUP-1", "Ticket", "SUP-1"),
        ("*Ticket:* SUP-1", "Ticket", "SUP-1"),
        ("__Ticket__: SUP-1", "Ticket", "SUP-1"),
        (
            "Schritte-Unternommen: neu gestartet",
            "Schritte-Unternommen",
            "neu gestartet",
        ),
        ("Steps-Taken:", "Steps-Taken", ""),
    ] {
        assert_eq!(field_line(line), Some((name, value)), "{line:?}");
    }
}

#[test]
fn up_to_three_greeting_lines_come_before_the_block() {
    let text = "Hi tier 2,\nPlease escalate:\nThe customer says: mail is lost\n\nTicket: SUP-1\n";
    assert_eq!(fields(text), [("ticket".into(), "SUP-1".into(), 5)]);
    let too_much = "One.\nTwo.\nThree.\nFour.\nTicket: SUP-1\n";
    assert!(parse_evidence(too_much).is_empty());
    // Blank lines are not counted.
    assert_eq!(keys("Hi,\n\n\n\n\nthanks:\n\nTicket: SUP-1"), ["ticket"]);
}

#[test]
fn quoting_is_tolerated() {
    let text = "> Hi,\n>\n> Ticket: SUP-1\n>Customer: jane@acme.test\n> > Category: email\n>>Steps-Taken:\n>  - restarted\n> > - checked logs\n";
    assert_eq!(
        keys(text),
        ["ticket", "customer", "category", "steps_taken"]
    );
    assert_eq!(field(text, "customer").value, "jane@acme.test");
    assert_eq!(
        field(text, "steps_taken").items,
        ["restarted", "checked logs"]
    );
    assert_eq!(field(text, "steps_taken").line, 6);
}

#[test]
fn blank_lines_between_fields_are_allowed() {
    let text = "Ticket: SUP-1\n\n\nCategory: email\n \t \nPriority: low";
    assert_eq!(keys(text), ["ticket", "category", "priority"]);
    assert_eq!(field(text, "priority").line, 6);
}

#[test]
fn multi_line_values() {
    let text = "Error: no message received\n   since 2026-11-12\n\tno bounce\nSteps-Taken:\n- restarted\n* checked logs\n• asked the customer\n1. one\n2) two\nPriority: high\n";
    let error = field(text, "error");
    assert_eq!(
        error.value,
        "no message received\nsince 2026-11-12\nno bounce"
    );
    assert!(error.items.is_empty());
    let steps = field(text, "steps_taken");
    assert_eq!(
        steps.items,
        [
            "restarted",
            "checked logs",
            "asked the customer",
            "one",
            "two"
        ]
    );
    assert_eq!(steps.value, steps.items.join("\n"));
    assert_eq!(field(text, "priority").value, "high");
}

#[test]
fn a_value_after_the_colon_and_a_list() {
    let text = "Steps-Taken: see below\n  - restarted\n  - checked the log: clean\nCategory: email";
    let steps = field(text, "steps_taken");
    assert_eq!(steps.value, "see below\nrestarted\nchecked the log: clean");
    assert_eq!(steps.items, ["restarted", "checked the log: clean"]);
    assert_eq!(keys(text), ["steps_taken", "category"]);
}

#[test]
fn wrapped_list_items_are_joined() {
    let text = "Steps-Taken:\n - confirmed mail was sent to the customer\n   in the last 7 days\n - checked logs\n   Error: inside the item\n";
    let steps = field(text, "steps_taken");
    assert_eq!(
        steps.items,
        [
            "confirmed mail was sent to the customer in the last 7 days",
            "checked logs Error: inside the item",
        ]
    );
    assert_eq!(keys(text), ["steps_taken"]);
}

#[test]
fn a_long_line_wrapped_by_the_mail_client_goes_on() {
    let text = "Error: no message received since 2026-11-12; no bounce, no client error and\nnothing in the logs either\nPriority: high\n";
    assert_eq!(
        field(text, "error").value,
        "no message received since 2026-11-12; no bounce, no client error and nothing in the logs either"
    );
    assert_eq!(keys(text), ["error", "priority"]);
    // After a short line, the same text is prose and ends the block.
    assert_eq!(
        keys("Error: timeout\nnothing in the logs\nPriority: high"),
        ["error"]
    );
}

#[test]
fn a_list_after_a_blank_line_belongs_to_an_empty_field_only() {
    let html_like = "Steps-Taken:\n\n* restarted\n\n* checked logs\n\nPriority: high";
    assert_eq!(
        field(html_like, "steps_taken").items,
        ["restarted", "checked logs"]
    );
    assert_eq!(keys(html_like), ["steps_taken", "priority"]);
    let stray = "Priority: high\n\n- unrelated list\nCategory: email";
    assert_eq!(fields(stray), [("priority".into(), "high".into(), 1)]);
}

#[test]
fn the_block_ends_at_prose() {
    let text = "Ticket: SUP-1\nPriority: high\n\nThanks,\nBob\nCategory: email\n";
    assert_eq!(keys(text), ["ticket", "priority"]);
    let signature = "Ticket: SUP-1\n-- \nBob\nCategory: email";
    assert_eq!(keys(signature), ["ticket"]);
}

#[test]
fn the_block_ends_at_a_forward() {
    let after = "Customer: jane@acme.test\nCategory: nope\n";
    for marker in [
        "---------- Forwarded message ---------",
        "-------- Forwarded Message --------",
        "-------- Original Message --------",
        "-----Original Message-----",
        "Begin forwarded message:",
        "________________________________",
        "> ---------- Forwarded message ---------",
    ] {
        let text = format!("Ticket: SUP-1\n{marker}\n{after}");
        assert_eq!(keys(&text), ["ticket"], "{marker}");
        let text = format!("Hi,\n\n{marker}\n{after}");
        assert!(parse_evidence(&text).is_empty(), "{marker}");
    }
    let outlook = "Ticket: SUP-1\nFrom: Jane Doe <jane@acme.test>\nSent: Monday, November 16, 2026 9:14 AM\nCustomer: x\n";
    assert_eq!(keys(outlook), ["ticket"]);
    let german = "Ticket: SUP-1\nVon: Jane Doe <jane@acme.test>\nGesendet: Montag, 16. November 2026 09:14\nAn: support@example.test\nBetreff: Hilfe\n";
    assert_eq!(keys(german), ["ticket"]);
}

#[test]
fn header_names_are_never_fields() {
    for header in [
        "From", "Sent", "To", "Cc", "Bcc", "Subject", "Date", "Reply-To", "reply to",
    ] {
        let text = format!("Ticket: SUP-1\n{header}: something\nCategory: email\n");
        assert_eq!(keys(&text), ["ticket"], "{header}");
        let first = format!("{header}: something\nTicket: SUP-1\n");
        assert!(parse_evidence(&first).is_empty(), "{header}");
    }
    // A localized name alone (not starting a header block) may be a field.
    assert_eq!(keys("Ticket: SUP-1\nDe: x\n"), ["ticket", "de"]);
}

#[test]
fn html2text_output() {
    let text = "Hi tier 2,\n\n**Ticket:** SUP-1\n\n**Customer:** [jane@acme.test][1]\n\n\
                Category: email\n\nSteps-Taken:\n* confirmed mail was sent to the customer in the last 7 days (it was not) and\n  \
                the item wraps\n* checked the client's error log: no errors\n\nPriority: high\n\nThanks,\nBob\n\n\
                [1]: mailto:jane@acme.test\n";
    assert_eq!(
        keys(text),
        ["ticket", "customer", "category", "steps_taken", "priority"]
    );
    assert_eq!(field(text, "ticket").value, "SUP-1");
    assert_eq!(field(text, "ticket").line, 3);
    assert_eq!(field(text, "customer").value, "jane@acme.test");
    assert_eq!(
        field(text, "steps_taken").items,
        [
            "confirmed mail was sent to the customer in the last 7 days (it was not) and the item wraps",
            "checked the client's error log: no errors",
        ]
    );
}

#[test]
fn html_only_mail_through_the_parser() {
    let raw = "From: bob@tier1.example.test\r\nTo: esc@example.test\r\nSubject: esc\r\n\
        Message-ID: <e1@tier1.example.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <p>Hi tier 2,</p><p><b>Ticket:</b> SUP-1</p>\
        <p>Customer: <a href=\"mailto:jane@acme.test\">jane@acme.test</a></p>\
        <div>Category: email</div><p>Steps-Taken:</p><ul><li>confirmed mail was sent</li>\
        <li>checked the log</li></ul><p>Priority: high</p><p>Thanks,<br>Bob</p>\r\n";
    let mail = crate::parse::parse(raw.as_bytes()).unwrap();
    let block = parse_evidence(&mail.body_text);
    let keys: Vec<&str> = block.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        ["ticket", "customer", "category", "steps_taken", "priority"]
    );
    assert_eq!(
        block.value(&FieldKey::new("customer")),
        Some("jane@acme.test")
    );
    assert_eq!(
        field(&mail.body_text, "steps_taken").items,
        ["confirmed mail was sent", "checked the log"]
    );
}

#[test]
fn link_markup_is_unwrapped() {
    assert_eq!(
        without_link_markup("[a@b.test][12] and [x][y]"),
        "a@b.test and [x][y]"
    );
    assert_eq!(without_link_markup("[[][1]"), "[[][1]");
    assert_eq!(without_link_markup("[é][1] [ü"), "é [ü");
    assert_eq!(without_link_markup("no links"), "no links");
    assert_eq!(
        without_link_markup("[a]b][1] [c [d][2]"),
        "[a]b][1] [c d",
        "a bracket inside the text makes no link"
    );
    assert_eq!(without_link_markup("[ x ][1][ ][2]"), "x[ ][2]");
}

#[test]
fn values_are_trimmed_and_carriage_returns_ignored() {
    let text = "Ticket:   SUP-1   \r\nSteps-Taken:\r\n - restarted  \r\n\r\nPriority: high\t\r\n";
    assert_eq!(
        fields(text),
        [
            ("ticket".into(), "SUP-1".into(), 1),
            ("steps_taken".into(), "restarted".into(), 2),
            ("priority".into(), "high".into(), 5),
        ]
    );
}

#[test]
fn empty_and_repeated_fields_are_kept() {
    let text = "Ticket:\nError:\nError: timeout\n";
    assert_eq!(
        fields(text),
        [
            ("ticket".into(), "".into(), 1),
            ("error".into(), "".into(), 2),
            ("error".into(), "timeout".into(), 3),
        ]
    );
    assert_eq!(field(text, "error").line, 3);
}

#[test]
fn an_indented_block_reads_the_same() {
    let text = "  Ticket: SUP-1\n  Steps-Taken:\n    - restarted\n  Priority: high\n";
    assert_eq!(keys(text), ["ticket", "steps_taken", "priority"]);
    assert_eq!(field(text, "steps_taken").items, ["restarted"]);
}

#[test]
fn list_items() {
    assert_eq!(list_item("- a"), Some("a"));
    assert_eq!(list_item("*\tb"), Some("b"));
    assert_eq!(list_item("• c "), Some("c"));
    assert_eq!(list_item("12. d"), Some("d"));
    assert_eq!(list_item("3) e"), Some("e"));
    for no in [
        "-",
        "-a",
        "**Ticket:**",
        "1.5 kg",
        "2026. year",
        "1234. x",
        "x - y",
        "",
    ] {
        assert_eq!(list_item(no), None, "{no:?}");
    }
}

#[test]
fn link_markup_of_a_value_full_of_brackets_is_one_pass() {
    // Quadratic before: every `[` searched the rest of the value for `][` (a hostile
    // evidence block of 400 KB took minutes in a debug build).
    let value = "[x".repeat(200_000);
    assert_eq!(without_link_markup(&value), value);
    let value = "[".repeat(400_000);
    assert_eq!(without_link_markup(&value), value);
}
