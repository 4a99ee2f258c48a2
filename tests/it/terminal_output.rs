//! Text from mail never drives the admin's terminal: escape sequences, CR and bidi overrides in
//! a subject, a sender's name, a body, an attachment's name or a file name are shown escaped
//! (`\x1b`, `\r`, `\u{202e}`) by every human listing; `--json` keeps the real characters
//! (escaped by JSON itself).

use crate::support::*;

/// A mail whose subject clears the screen and sets the window title, whose sender's name hides
/// behind a bidi override, whose body moves the cursor and overwrites a line with a CR, and
/// whose attachment name reverses its extension.
const HOSTILE: &str = "From: =?utf-8?q?Jane=1B[8m_Admin=E2=80=AE?= <jane@acme.test>\r\n\
To: support@example.test\r\n\
Subject: =?utf-8?q?Invoice_=1B[2J=1B]0;pwned=07_due_=E2=80=AEfdp.exe?=\r\n\
Message-ID: <hostile-1@acme.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Please pay =1B[1A=1B[2Kat once.\r\n\
fake line=0Dreal line\r\n\
--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"=?utf-8?q?invoice=E2=80=AEfdp.exe?=\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8=\r\n\
--b--\r\n";

#[track_caller]
fn assert_terminal_safe(what: &str, out: &str) {
    for bad in ['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(
            !out.contains(bad),
            "{what} prints {:?} raw:\n{}",
            bad,
            out.escape_debug()
        );
    }
}

#[test]
fn human_listings_escape_control_and_bidi_characters() {
    let app = App::with_config("[limits]\nmax_message_bytes = 5000\n");
    let d = app.ingest_bytes("hostile.eml", HOSTILE.as_bytes());
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");

    // A file name is mail data too: an over-size mail under a hostile name is quarantined.
    let name = "big\u{1b}]0;owned\u{7}.eml";
    let mut big = b"From: a@acme.test\r\nSubject: big\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 6000));
    let q = app.ingest_bytes(name, &big);
    assert_eq!(str_of(&q, "decision"), "quarantined", "{q:#}");

    let list = app
        .run(&["tickets", "list"])
        .expect_success()
        .stdout
        .clone();
    assert_terminal_safe("tickets list", &list);
    assert!(
        list.contains("Invoice \\x1b[2J\\x1b]0;pwned\\x07 due"),
        "{list}"
    );

    let show = app
        .run(&["tickets", "show", "SUP-1"])
        .expect_success()
        .stdout
        .clone();
    assert_terminal_safe("tickets show", &show);
    for shown in [
        "Subject: Invoice \\x1b[2J",
        "Please pay \\x1b[1A\\x1b[2Kat once.",
        // The parser turns the lone CR into a line break and drops the override from the
        // file name; neither reaches the terminal raw whatever it does.
        "fake line",
        "invoicefdp.exe",
    ] {
        assert!(
            show.contains(shown),
            "tickets show lacks {shown:?}:\n{show}"
        );
    }

    let decisions = app.run(&["decisions"]).expect_success().stdout.clone();
    assert_terminal_safe("decisions", &decisions);
    assert!(
        decisions.contains("big\\x1b]0;owned\\x07.eml"),
        "{decisions}"
    );

    let quarantine = app
        .run(&["quarantine", "list"])
        .expect_success()
        .stdout
        .clone();
    assert_terminal_safe("quarantine list", &quarantine);
    assert!(
        quarantine.contains("big\\x1b]0;owned\\x07.eml"),
        "{quarantine}"
    );

    let outbox = app.run(&["outbox", "list"]).expect_success().stdout.clone();
    assert_terminal_safe("outbox list", &outbox);
    assert!(
        outbox.contains("Re: [SUP-1] Invoice"),
        "the acknowledgement's subject:\n{outbox}"
    );

    // JSON keeps the real characters: control characters escaped by JSON itself (`\u001b`),
    // others as they are, for programs rather than terminals.
    let json = app
        .run(&["tickets", "show", "SUP-1", "--json"])
        .expect_success()
        .stdout
        .clone();
    assert!(
        !json.contains(['\u{1b}', '\r', '\u{7}']),
        "{}",
        json.escape_debug()
    );
    let shown = app.show("SUP-1");
    assert!(
        str_of(&shown, "subject").contains("\u{1b}[2J\u{1b}]0;pwned\u{7} due \u{202e}"),
        "{shown:#}"
    );
}
