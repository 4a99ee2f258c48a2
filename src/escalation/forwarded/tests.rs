use super::*;
use crate::domain::test_support::{addr, email, mid};

/// An escalation whose text body is `body`.
fn mail_with_body(body: &str) -> InboundEmail {
    let mut mail = email("bob@tier1.example.test", "Fwd: Help");
    mail.body_text = body.to_string();
    mail
}

fn forwarded(body: &str) -> ForwardedOriginal {
    match find_forwarded(&mail_with_body(body)) {
        Some(original) => original,
        None => panic!("no forward found in {body:?}"),
    }
}

const EVIDENCE: &str = "Ticket: SUP-1\nCategory: email\n\n";

#[test]
fn gmail() {
    let body = format!(
        "{EVIDENCE}---------- Forwarded message ---------\nFrom: Jane Doe <jane@acme.test>\n\
         Date: Mon, 16 Nov 2026 at 09:14\nSubject: Help\nTo: <support@example.test>\n\n\n\
         My mail is gone.\n\nJane\n"
    );
    let original = forwarded(&body);
    assert_eq!(
        original,
        ForwardedOriginal {
            form: ForwardForm::InlineGmail,
            from: Some(addr("jane@acme.test")),
            message_id: None,
            subject: Some("Help".into()),
            date: Some("Mon, 16 Nov 2026 at 09:14".into()),
            body: "My mail is gone.\n\nJane".into(),
        }
    );
}

#[test]
fn thunderbird() {
    for (marker, tail) in [
        ("-------- Forwarded Message --------", ""),
        ("-------- Original Message --------", ""),
        ("-------- Weitergeleitete Nachricht --------", ""),
    ] {
        let body = format!(
            "{EVIDENCE}{marker}\nSubject: \tHelp\nDate: \tMon, 16 Nov 2026 09:14:00 +0100\n\
             From: \t\"Doe, Jane\" <Jane@ACME.test>\nTo: \tsupport@example.test\n\nMy mail is gone.{tail}\n"
        );
        let original = forwarded(&body);
        assert_eq!(original.form, ForwardForm::InlineThunderbird, "{marker}");
        assert_eq!(original.from, Some(addr("jane@acme.test")));
        assert_eq!(original.subject.as_deref(), Some("Help"));
        assert_eq!(
            original.date.as_deref(),
            Some("Mon, 16 Nov 2026 09:14:00 +0100")
        );
        assert_eq!(original.body, "My mail is gone.");
    }
}

#[test]
fn apple_mail_with_a_message_id() {
    let body = format!(
        "{EVIDENCE}Begin forwarded message:\n\nFrom: Jane <jane@acme.test>\nSubject: Help\n\
         Date: November 16, 2026 at 9:14:00 AM GMT+1\nTo: support@example.test\n\
         Message-Id: <CAF123@mail.acme.test>\n\nMy mail is gone.\n"
    );
    let original = forwarded(&body);
    assert_eq!(original.form, ForwardForm::InlineApple);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    assert_eq!(original.message_id, Some(mid("CAF123@mail.acme.test")));
    assert_eq!(
        original.date.as_deref(),
        Some("November 16, 2026 at 9:14:00 AM GMT+1")
    );
    assert_eq!(original.body, "My mail is gone.");
}

#[test]
fn outlook_in_every_form() {
    let headers = |from: &str| {
        format!(
            "From: {from}\nSent: Monday, November 16, 2026 9:14 AM\nTo: Support <support@example.test>\n\
             Subject: Help\n\nMy mail is gone.\n"
        )
    };
    for above in [
        "-----Original Message-----\n",
        "________________________________\n",
        "",
    ] {
        for from in [
            "Jane Doe <jane@acme.test>",
            "Jane Doe [mailto:jane@acme.test]",
            "jane@acme.test",
            "'jane@acme.test'",
            "\"Doe, Jane (jane@old.test)\" <jane@acme.test>",
        ] {
            let body = format!("{EVIDENCE}{above}{}", headers(from));
            let original = forwarded(&body);
            assert_eq!(original.form, ForwardForm::InlineOutlook, "{above} {from}");
            assert_eq!(original.from, Some(addr("jane@acme.test")), "{from}");
            assert_eq!(original.subject.as_deref(), Some("Help"));
            assert_eq!(
                original.date.as_deref(),
                Some("Monday, November 16, 2026 9:14 AM")
            );
            assert_eq!(original.body, "My mail is gone.");
        }
    }
}

#[test]
fn outlook_bold_labels_and_extra_lines() {
    let body = "*From:* Jane Doe <jane@acme.test>\n*Sent:* Monday, November 16, 2026 9:14 AM\n\
                *To:* support@example.test\n*Subject:* Help\nImportance: High\n\nMy mail is gone.";
    let original = forwarded(body);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    assert_eq!(original.subject.as_deref(), Some("Help"));
    assert_eq!(original.body, "My mail is gone.");
    let markdown = forwarded("**From:** jane@acme.test\n**Date:** today\n\nHi");
    assert_eq!(markdown.from, Some(addr("jane@acme.test")));
    assert_eq!(markdown.date.as_deref(), Some("today"));
}

#[test]
fn localized_headers() {
    let german = "-----Ursprüngliche Nachricht-----\nVon: Jane Doe <jane@acme.test>\n\
                  Gesendet: Montag, 16. November 2026 09:14\nAn: support@example.test\n\
                  Betreff: Hilfe\n\nMeine Mail ist weg.";
    let original = forwarded(german);
    assert_eq!(original.form, ForwardForm::InlineOutlook);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    assert_eq!(original.subject.as_deref(), Some("Hilfe"));
    assert_eq!(
        original.date.as_deref(),
        Some("Montag, 16. November 2026 09:14")
    );
    assert_eq!(original.body, "Meine Mail ist weg.");

    let french = "De : Jeanne <jeanne@acme.test>\nEnvoyé : lundi 16 novembre 2026 09:14\n\
                  À : support@example.test\nObjet : Aide\n\nMon mail a disparu.";
    let original = forwarded(french);
    assert_eq!(original.form, ForwardForm::InlineOutlook);
    assert_eq!(original.from, Some(addr("jeanne@acme.test")));
    assert_eq!(original.subject.as_deref(), Some("Aide"));
    assert_eq!(original.body, "Mon mail a disparu.");

    let gmail_de = "---------- Weitergeleitete Nachricht ---------\nVon: Jane <jane@acme.test>\n\
                    Date: Mo., 16. Nov. 2026 um 09:14 Uhr\nSubject: Hilfe\nTo: <support@example.test>\n\nText";
    assert_eq!(forwarded(gmail_de).form, ForwardForm::InlineGmail);
    let apple_fr =
        "Début du message réexpédié :\n\nDe: Jeanne <jeanne@acme.test>\nObjet: Aide\n\nTexte";
    let original = forwarded(apple_fr);
    assert_eq!(original.form, ForwardForm::InlineApple);
    assert_eq!(original.from, Some(addr("jeanne@acme.test")));
}

#[test]
fn quoted_forwards() {
    let body = "Ticket: SUP-1\n\n> ---------- Forwarded message ---------\n> From: Jane <jane@acme.test>\n\
                > Date: today\n> Subject: Help\n>\n> My mail is gone.\n>\n> > her own quote\n";
    let original = forwarded(body);
    assert_eq!(original.form, ForwardForm::InlineGmail);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    // One level of quoting (the marker's) is removed from the text; hers stays.
    assert_eq!(original.body, "My mail is gone.\n\n> her own quote");
    let outlook = ">> From: Jane <jane@acme.test>\n>>Sent: today\n>> Subject: Help\n>>\n>> Gone.";
    let original = forwarded(outlook);
    assert_eq!(original.form, ForwardForm::InlineOutlook);
    assert_eq!(original.body, "Gone.");
}

#[test]
fn wrapped_header_values() {
    let body = "---------- Forwarded message ---------\nFrom: Jane Doe\n <jane@acme.test>\n\
                Date: Mon, 16 Nov 2026\n  at 09:14\nSubject: Help with\n\tmy lost mail\n\
                To: a@example.test,\n    b@example.test\n\nGone.";
    let original = forwarded(body);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    assert_eq!(original.date.as_deref(), Some("Mon, 16 Nov 2026 at 09:14"));
    assert_eq!(original.subject.as_deref(), Some("Help with my lost mail"));
    assert_eq!(original.body, "Gone.");
}

#[test]
fn the_outermost_of_nested_forwards_wins() {
    let body = "---------- Forwarded message ---------\nFrom: Carl <carl@tier0.test>\nDate: Tue\n\
                Subject: Fwd: Help\n\n---------- Forwarded message ---------\nFrom: Jane <jane@acme.test>\n\
                Date: Mon\nSubject: Help\n\nGone.";
    let original = forwarded(body);
    assert_eq!(original.from, Some(addr("carl@tier0.test")));
    assert!(original.body.contains("From: Jane <jane@acme.test>"));
    assert!(original.body.ends_with("Gone."));
}

#[test]
fn html2text_link_markup_in_addresses() {
    let body = "---------- Forwarded message ---------\nFrom: Jane Doe <[jane@acme.test][2]>\n\
                Date: Mon\nSubject: Help\nTo: <[support@example.test][3]>\n\n\nGone.\n\n\
                [2]: mailto:jane@acme.test\n";
    assert_eq!(forwarded(body).from, Some(addr("jane@acme.test")));
}

#[test]
fn a_marker_without_headers_still_gives_the_text() {
    let original = forwarded("-----Original Message-----\nGone.\n");
    assert_eq!(original.form, ForwardForm::InlineOutlook);
    assert_eq!((original.from, original.subject), (None, None));
    assert_eq!(original.body, "Gone.");
}

#[test]
fn no_forward() {
    for body in [
        "",
        "Ticket: SUP-1\nCategory: email\n",
        "From: me\nthe customer wrote this",
        "From: Jane <jane@acme.test>\nSubject: Help\n",
        "________________________________\nsignature",
        "Forwarded message",
        "- Forwarded message -",
        "On Mon, Jane <jane@acme.test> wrote:\n> Help",
    ] {
        assert_eq!(find_forwarded(&mail_with_body(body)), None, "{body:?}");
    }
}

#[test]
fn markers() {
    use ForwardForm::*;
    for (line, form) in [
        ("---------- Forwarded message ---------", Some(InlineGmail)),
        (
            "-------- Forwarded Message --------",
            Some(InlineThunderbird),
        ),
        (
            "-------- Original Message --------",
            Some(InlineThunderbird),
        ),
        ("-----Original Message-----", Some(InlineOutlook)),
        ("----- Original Message -----", Some(InlineOutlook)),
        ("-----Ursprüngliche Nachricht-----", Some(InlineOutlook)),
        ("Begin forwarded message:", Some(InlineApple)),
        ("Anfang der weitergeleiteten Nachricht:", Some(InlineApple)),
        ("--Original Message--", None),
        ("--- other ---", None),
        ("", None),
    ] {
        assert_eq!(marker_form(line), form, "{line:?}");
    }
}

#[test]
fn quote_levels() {
    assert_eq!(unquote("> a", usize::MAX), (1, "a"));
    assert_eq!(unquote(">>a", usize::MAX), (2, "a"));
    assert_eq!(unquote(" > >  a", usize::MAX), (2, " a"));
    assert_eq!(unquote("> > a", 1), (1, "> a"));
    assert_eq!(unquote("a > b", usize::MAX), (0, "a > b"));
    assert_eq!(unquote("  a", usize::MAX), (0, "  a"));
}

#[test]
fn sender_addresses() {
    for (value, expected) in [
        ("Jane <jane@acme.test>", Some("jane@acme.test")),
        ("\"Jane\" <jane@acme.test>", Some("jane@acme.test")),
        ("Jane [mailto:Jane@Acme.test]", Some("jane@acme.test")),
        ("jane@acme.test.", Some("jane@acme.test")),
        ("<MAILTO:jane@acme.test>", Some("jane@acme.test")),
        ("Jane Doe", None),
        ("<>", None),
        ("", None),
    ] {
        assert_eq!(sender_address(value), expected.map(addr), "{value:?}");
    }
}

/// A tier-1 mail with the customer's mail attached as message/rfc822.
fn with_attached(inner: &str) -> String {
    with_attached_and_text(inner, "Ticket: SUP-1\r\n")
}

fn with_attached_and_text(inner: &str, text: &str) -> String {
    format!(
        "From: bob@tier1.example.test\r\nTo: esc@example.test\r\nSubject: Fwd: Help\r\n\
         Message-ID: <esc1@tier1.example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain\r\n\r\n{text}\r\n--b1\r\n\
         Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n{inner}\r\n--b1--\r\n"
    )
}

#[test]
fn an_inline_forward_wins_over_attached_evidence() {
    // The attachment is tier 1's own sent mail (proof of delivery), not the customer's.
    let proof = "From: support@example.test\r\nTo: lena@fjord.test\r\nSubject: test\r\n\
                 Message-ID: <proof@example.test>\r\n\r\nTest.\r\n";
    let text = "Ticket: SUP-1\r\n\r\n---------- Forwarded message ---------\r\n\
                From: Lena <lena@fjord.test>\r\nSubject: no mail\r\n\r\nNothing arrives.\r\n";
    let mail = crate::parse::parse(with_attached_and_text(proof, text).as_bytes()).unwrap();
    let original = find_forwarded(&mail).unwrap();
    assert_eq!(original.form, ForwardForm::InlineGmail);
    assert_eq!(original.from, Some(addr("lena@fjord.test")));
    // Mail the escalation's own sender wrote is never the customer's original.
    let own = "From: bob@tier1.example.test\r\nSubject: my test\r\n\r\nTest.\r\n";
    let mail = crate::parse::parse(with_attached(own).as_bytes()).unwrap();
    assert_eq!(find_forwarded(&mail), None);
}

#[test]
fn an_attached_message_is_the_original() {
    let inner = "From: Jane Doe <jane@acme.test>\r\nTo: support@example.test\r\nSubject: Help\r\n\
                 Date: Mon, 16 Nov 2026\r\n 09:14:00 +0100\r\nMessage-ID: <orig1@acme.test>\r\n\r\n\
                 My mail is gone.\r\n";
    let mail = crate::parse::parse(with_attached(inner).as_bytes()).unwrap();
    let original = find_forwarded(&mail).unwrap();
    assert_eq!(
        original,
        ForwardedOriginal {
            form: ForwardForm::Attached,
            from: Some(addr("jane@acme.test")),
            message_id: Some(mid("orig1@acme.test")),
            subject: Some("Help".into()),
            date: Some("Mon, 16 Nov 2026 09:14:00 +0100".into()),
            body: original.body.clone(),
        }
    );
    assert_eq!(original.body.trim(), "My mail is gone.");
}

#[test]
fn an_attached_message_without_message_id_or_date() {
    let inner = "From: jane@acme.test\r\nSubject: Help\r\n\r\nGone.\r\n";
    let mail = crate::parse::parse(with_attached(inner).as_bytes()).unwrap();
    let original = find_forwarded(&mail).unwrap();
    assert_eq!(original.form, ForwardForm::Attached);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    assert_eq!((original.message_id, original.date), (None, None));
}

#[test]
fn an_attachment_that_does_not_parse_falls_back_to_the_text() {
    let mut mail =
        mail_with_body("-----Original Message-----\nFrom: jane@acme.test\nSent: today\n\nGone.");
    mail.attachments = vec![Attachment {
        filename: "broken.eml".into(),
        content_type: "message/rfc822".into(),
        size: 0,
        sha256: String::new(),
        content: Vec::new(),
        embedded: false,
    }];
    let original = find_forwarded(&mail).unwrap();
    assert_eq!(original.form, ForwardForm::InlineOutlook);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
}

#[test]
fn raw_date_headers() {
    assert_eq!(
        raw_date_header(b"Date: x\r\n\ty\r\nSubject: s\r\n\r\n").as_deref(),
        Some("x y")
    );
    assert_eq!(raw_date_header(b"Subject: s\n\nDate: in the body\n"), None);
    assert_eq!(raw_date_header(b"DATE:   \n"), None);
    assert_eq!(
        raw_date_header(b"\xff\xfe: x\ndate: d\n").as_deref(),
        Some("d")
    );
}

#[test]
fn outlook_html_through_the_parser() {
    let raw = "From: bob@tier1.example.test\r\nTo: esc@example.test\r\nSubject: FW: Help\r\n\
        Message-ID: <o1@tier1.example.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <div class=WordSection1><p class=MsoNormal>Ticket: SUP-1</p><p>&nbsp;</p>\
        <div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal>\
        <b>From:</b> Jane Doe &lt;<a href=\"mailto:jane@acme.test\">jane@acme.test</a>&gt; <br>\
        <b>Sent:</b> Monday, November 16, 2026 9:14 AM<br><b>To:</b> Support \
        &lt;support@example.test&gt;<br><b>Subject:</b> Help</p></div><p>&nbsp;</p>\
        <p class=MsoNormal>My mail is gone.</p></div>\r\n";
    let mail = crate::parse::parse(raw.as_bytes()).unwrap();
    let original = find_forwarded(&mail).unwrap();
    assert_eq!(original.form, ForwardForm::InlineOutlook);
    assert_eq!(original.from, Some(addr("jane@acme.test")));
    assert_eq!(original.subject.as_deref(), Some("Help"));
    assert!(
        original.body.starts_with("My mail is gone."),
        "{original:?}"
    );
}
