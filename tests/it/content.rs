//! What parsing keeps of a mail: synthetic Message-IDs, HTML, attachments, charsets.

use sha2::{Digest, Sha256};

use crate::support::*;

#[test]
fn missing_message_id_gets_a_stable_synthetic_one() {
    let app = App::new();
    let bytes = fixture("no-message-id.eml");
    let first = app.ingest_fixture("no-message-id.eml");
    assert_decision(&first, "created", "new-ticket", Some("SUP-1"));
    let synthetic = message_id_of(&first);
    assert!(!synthetic.is_empty(), "{first:#}");

    // The same bytes again, this time from standard input: same id, duplicate.
    let again = app
        .run_with_stdin(&["ingest", "-", "--json"], &bytes)
        .expect_success()
        .json();
    assert_eq!(str_of(&again, "decision"), "duplicate", "{again:#}");
    assert_eq!(message_id_of(&again), synthetic);

    // Other bytes: another id, another ticket.
    let other = String::from_utf8(bytes).unwrap().replace(
        "Password reset link expired",
        "Password reset link expired again",
    );
    let d = app.ingest_bytes("other.eml", other.as_bytes());
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");
    assert_ne!(message_id_of(&d), synthetic);

    let shown = app.show("SUP-1");
    assert_eq!(message_id_of(&items(&shown, "messages")[0]), synthetic);
    assert_eq!(app.tickets().len(), 2);
}

#[test]
fn html_only_mail_becomes_plain_text() {
    let app = App::new();
    let d = app.ingest_fixture("html-only.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    let shown = app.show("SUP-1");
    let body = str_of(&items(&shown, "messages")[0], "body_text").to_string();
    let flat = squash(&body);
    for words in [
        "printer queue",
        "floor 3 has been stuck since this morning.",
        "R&D",
        "Restarting the spooler did not help",
        "Dave",
    ] {
        assert!(flat.contains(words), "body_text lacks {words:?}: {body:?}");
    }
    for markup in [
        "<p", "</", "<b>", "<li", "&amp;", "&nbsp;", "DOCTYPE", "=\n",
    ] {
        assert!(
            !body.contains(markup),
            "body_text still has {markup:?}: {body:?}"
        );
    }
}

/// Minimal base64 decoder, so the expected attachment bytes come from the fixture text itself.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let symbols: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::new();
    for chunk in symbols.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The decoded bodies of the base64 parts of attachments.eml, in order.
fn attachment_payloads() -> Vec<Vec<u8>> {
    let text = String::from_utf8(fixture("attachments.eml")).unwrap();
    text.split("--mixed-erin-1")
        .filter(|part| part.contains("Content-Transfer-Encoding: base64"))
        .map(|part| {
            let body = part.split_once("\n\n").expect("part has a body").1;
            base64_decode(body)
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn attachments_are_stored_with_safe_names_sizes_and_hashes() {
    let payloads = attachment_payloads();
    assert_eq!(payloads.len(), 3, "attachments.eml has three base64 parts");
    let app = App::new();
    let d = app.ingest_fixture("attachments.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    let shown = app.show("SUP-1");
    let message = &items(&shown, "messages")[0];
    assert!(str_of(message, "body_text").contains("The VPN drops exactly every hour"));
    let attachments = items(message, "attachments");
    assert_eq!(attachments.len(), 3, "{attachments:#?}");

    for (attachment, payload) in attachments.iter().zip(&payloads) {
        assert_eq!(
            u64_of(attachment, "size"),
            payload.len() as u64,
            "{attachment:#}"
        );
        assert_eq!(
            str_of(attachment, "sha256"),
            sha256_hex(payload),
            "{attachment:#}"
        );
        let name = str_of(attachment, "filename");
        assert!(!name.trim().is_empty(), "{attachment:#}");
        assert!(
            !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
            "filename must carry no path: {name:?}"
        );
        assert!(
            !name.chars().any(char::is_control),
            "control characters in {name:?}"
        );
    }
    assert_eq!(str_of(&attachments[0], "filename"), "screenshot.png");
    assert_eq!(str_of(&attachments[0], "content_type"), "image/png");
    let pdf = str_of(&attachments[1], "filename");
    assert!(pdf.ends_with("report.pdf"), "{pdf:?}");
    assert!(!pdf.contains(".."), "{pdf:?}");
    assert_eq!(str_of(&attachments[1], "content_type"), "application/pdf");
    let log = str_of(&attachments[2], "filename");
    assert!(
        log.starts_with("vpn") && log.ends_with("client.log"),
        "{log:?}"
    );
    assert!(str_of(&attachments[2], "content_type").starts_with("text/plain"));
}

#[test]
fn broken_charset_still_gets_a_decision() {
    let app = App::new();
    let path = fixture_path("broken-charset.eml");
    let run = app.run(&["ingest", path.to_str().unwrap(), "--json"]);
    let d = run.expect_success().json();
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    let shown = app.show("SUP-1");
    assert!(!str_of(&shown, "subject").trim().is_empty(), "{shown:#}");
    let body = str_of(&items(&shown, "messages")[0], "body_text");
    assert!(body.contains("Our old system writes bytes"), "{body:?}");
    assert!(body.contains("in the middle of text"), "{body:?}");
}

#[test]
fn encoded_non_ascii_subject_and_latin1_body_are_decoded() {
    let app = App::new();
    let d = app.ingest_fixture("non-ascii-subject.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    let t = &app.tickets()[0];
    assert_eq!(
        str_of(t, "subject"),
        "Überweisung fehlgeschlagen – Konto gesperrt?"
    );
    let shown = app.show("SUP-1");
    let m = &items(&shown, "messages")[0];
    assert!(
        str_of(m, "body_text").contains("Grüße, meine Überweisung"),
        "{m:#}"
    );
}

#[test]
fn empty_input_is_quarantined_not_an_error() {
    let app = App::new();
    let run = app.run_with_stdin(&["ingest", "-", "--json"], b"");
    let d = run.expect_success().json();
    assert_eq!(str_of(&d, "decision"), "quarantined", "{d:#}");
    assert_eq!(str_of(&d, "rule"), "unparseable", "{d:#}");
    assert!(ticket_of(&d).is_none());
    assert!(app.tickets().is_empty());
    assert_eq!(
        app.decisions().len(),
        1,
        "the quarantine decision is logged"
    );
}

#[test]
fn binary_garbage_gets_a_decision() {
    let app = App::new();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let d = app.ingest_bytes("garbage.bin", &garbage);
    let decision = str_of(&d, "decision");
    assert!(
        ["created", "quarantined"].contains(&decision),
        "garbage must be quarantined (or at worst a ticket): {d:#}"
    );
}

#[test]
fn crlf_and_lf_line_endings_give_the_same_ticket() {
    let lf = fixture("reply-by-references.eml");
    let crlf = String::from_utf8(lf.clone()).unwrap().replace('\n', "\r\n");
    let a = App::new();
    let b = App::new();
    a.ingest_fixture("new-ticket.eml");
    let new_crlf = String::from_utf8(fixture("new-ticket.eml"))
        .unwrap()
        .replace('\n', "\r\n");
    b.ingest_bytes("new-ticket-crlf.eml", new_crlf.as_bytes());
    let da = a.ingest_bytes("lf.eml", &lf);
    let db = b.ingest_bytes("crlf.eml", crlf.as_bytes());
    assert_decision(&da, "threaded", "references", Some("SUP-1"));
    assert_decision(&db, "threaded", "references", Some("SUP-1"));
    let (sa, sb) = (a.show("SUP-1"), b.show("SUP-1"));
    assert_eq!(str_of(&sa, "subject"), str_of(&sb, "subject"));
    for (ma, mb) in items(&sa, "messages").iter().zip(items(&sb, "messages")) {
        for key in ["message_id", "subject", "from", "date"] {
            assert_eq!(field(ma, key), field(mb, key), "{key}");
        }
        for key in ["body_text", "reply_text"] {
            assert_eq!(
                str_of(ma, key).replace("\r\n", "\n").trim_end(),
                str_of(mb, key).replace("\r\n", "\n").trim_end(),
                "{key}"
            );
        }
    }
}
