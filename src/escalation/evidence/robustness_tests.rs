//! Odd input (empty, only colons, huge lines, non-ASCII, lone `\r`, hostile nesting) never
//! makes the evidence parser or the forwarded-original finder panic, and stays fast.

use std::time::Instant;

use super::parse_evidence;
use crate::domain::Attachment;
use crate::domain::test_support::email;
use crate::escalation::forwarded::find_forwarded;

/// Odd input never makes either parser panic.
#[test]
fn odd_input_never_panics() {
    let huge_line = "x".repeat(200_000);
    let huge_field = format!("Error: {}\n{}", "é".repeat(50_000), "y ".repeat(50_000));
    let many_fields = "a: b\n".repeat(20_000);
    let many_headers = "From: a@b.test\nSent: now\n".repeat(5_000);
    let mut inputs: Vec<String> = [
        "",
        "\n",
        "\r",
        "\r\r\r",
        ":",
        "::::",
        ":\n:\n:",
        " : ",
        ">",
        "> > >",
        ">>>>>>>>:",
        "-",
        "- ",
        "*",
        "1.",
        "1)",
        "•",
        "[",
        "[][",
        "[x][",
        "[x][1",
        "Ticket:\r",
        "Ticket: a\rb: c\r\n",
        "Ticket\r: x",
        "**:**",
        "__:__",
        "Steps-Taken:\n\n\n - ",
        "Ticket: 名前\n名前: 値\n Ünïcödé: ✓\n",
        "ＦＲＯＭ：x",
        "From:",
        "From: \nSent: \n",
        "---------- Forwarded message ---------",
        "-----Original Message-----\n",
        "Begin forwarded message:\n\n",
        "From: <>\nSent: x\n",
        "From: [mailto:]\nSent: x\n",
        "From: mailto:\nDate: x\n",
        "From: @\nDate: x\n",
        "From: é@\nDate: x\nMessage-ID: < >\n",
        "\u{0}\u{feff}Ticket: \u{200b}",
        "________________________________",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    inputs.extend([huge_line, huge_field, many_fields, many_headers]);
    inputs.push(format!("Ticket: x\n{}", "-".repeat(100_000)));
    inputs.push(format!("{}: x", "a".repeat(100_000)));
    inputs.push(format!("{}Ticket: x", ">".repeat(100_000)));
    inputs.push(format!("Steps:\n{}", " - item\n   more\n".repeat(10_000)));

    let start = Instant::now();
    for input in &inputs {
        check_block(input);
        let mut mail = email("bob@tier1.example.test", "esc");
        mail.body_text = input.clone();
        let _ = find_forwarded(&mail);
        // The same text as an attached message.
        mail.attachments = vec![Attachment {
            filename: "original.eml".into(),
            content_type: "message/rfc822".into(),
            size: input.len(),
            sha256: String::new(),
            content: input.as_bytes().to_vec(),
            embedded: false,
        }];
        let _ = find_forwarded(&mail);
    }
    assert!(
        start.elapsed().as_secs() < 20,
        "too slow: {:?}",
        start.elapsed()
    );
}

/// Pieces that random mails are made of: field and header lines, markers, quoting, list
/// markers, odd characters.
const PIECES: &[&str] = &[
    "Ticket:",
    " SUP-1",
    "Steps-Taken:",
    "Error: x",
    "From: Jane <jane@acme.test>",
    "Sent: now",
    "Date:",
    "Subject: s",
    "Von: a@b.test",
    "Gesendet: heute",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "____________",
    "> ",
    ">",
    " - ",
    "* ",
    "• ",
    "1. ",
    "2) ",
    "**",
    "_",
    ":",
    "::",
    " ",
    "\t",
    "\r",
    "\n",
    "\n\n",
    "é",
    "名前",
    "\u{a0}",
    "[a@b.test][1]",
    "[ ][1]",
    "[ x ][2]",
    "[",
    "]",
    "<",
    ">",
    "mailto:",
    "@",
    "http://x",
    "The customer says: hi",
    "Hi tier 2,",
];

/// Random mails made of [`PIECES`] (a fixed seed, so a failure can be replayed).
#[test]
fn random_mails_never_panic() {
    let mut rng = fastrand::Rng::with_seed(4);
    for _ in 0..3_000 {
        let len = rng.usize(0..40);
        let text: String = (0..len)
            .filter_map(|_| PIECES.get(rng.usize(..PIECES.len())).copied())
            .collect();
        check_block(&text);
        let mut mail = email("bob@tier1.example.test", "esc");
        mail.body_text = text;
        let _ = find_forwarded(&mail);
    }
}

/// Parses `text` and checks what holds for every evidence block: lines within the text and
/// increasing, non-empty keys that are no header names, trimmed values and items.
fn check_block(text: &str) {
    let block = parse_evidence(text);
    let line_count = text.split('\n').count();
    let mut previous_line = 0;
    for field in &block.fields {
        assert!(
            field.line > previous_line && field.line <= line_count,
            "{text:?}"
        );
        previous_line = field.line;
        assert!(!field.key.as_str().is_empty(), "{text:?}");
        assert!(!["from", "sent", "subject", "date"].contains(&field.key.as_str()));
        assert_eq!(field.value, field.value.trim(), "{text:?}");
        for item in &field.items {
            assert!(!item.is_empty() && item == item.trim(), "{text:?}");
        }
    }
}
