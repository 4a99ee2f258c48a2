//! Quarantine: bad mail is kept with its reason, listed, and can be reprocessed once the cause
//! is fixed (here: the size limit raised; mail over it is kept by reference and read again).

use crate::support::{App, array, bool_of, str_of, u64_of};

fn big_mail() -> Vec<u8> {
    let mut mail = b"From: Jane <jane@acme.test>\r\nTo: support@example.test\r\nSubject: Huge log\r\nMessage-ID: <huge-1@acme.test>\r\n\r\n".to_vec();
    mail.extend(std::iter::repeat_n(b'x', 5000));
    mail.extend_from_slice(b"\r\n");
    mail
}

#[test]
fn over_size_mail_is_quarantined_listed_and_reprocessed_after_the_limit_is_raised() {
    let app = App::with_config("[limits]\nmax_message_bytes = 1000\n");
    let d = app.ingest_bytes("huge.eml", &big_mail());
    assert_eq!(str_of(&d, "decision"), "quarantined");
    assert_eq!(str_of(&d, "rule"), "over-size");
    assert!(
        app.tickets().is_empty(),
        "a quarantined mail creates no ticket"
    );

    let held = array(
        app.ok_json(&["quarantine", "list", "--json"]),
        "quarantine list",
    );
    assert_eq!(held.len(), 1);
    let entry = &held[0];
    assert_eq!(str_of(entry, "status"), "held");
    assert_eq!(str_of(entry, "message_id"), "huge-1@acme.test");
    assert!(str_of(entry, "reason").contains("over the limit of 1000 bytes"));
    // Kept by reference: the header only, the reason names the file and the size.
    assert!(bool_of(entry, "header_only"), "{entry:#}");
    let reason = str_of(entry, "reason");
    assert!(
        reason.contains(&format!("message is {} bytes", big_mail().len()))
            && reason.contains("stays in the file")
            && reason.contains("huge.eml"),
        "{reason}"
    );
    assert_eq!(
        u64_of(entry, "size"),
        big_mail().len() as u64,
        "the size is the mail's, not the stored header's: {entry:#}"
    );
    let id = u64_of(entry, "id").to_string();

    // Still too big: stays held, with its reason.
    let again = app.ok_json(&["quarantine", "reprocess", &id, "--json"]);
    assert_eq!(str_of(&again, "decision"), "quarantined");
    assert_eq!(
        array(app.ok_json(&["quarantine", "list", "--json"]), "list").len(),
        1
    );

    // The admin raises the limit: the same bytes become a ticket and leave the quarantine.
    std::fs::write(
        app.dir().join("test-config.toml"),
        "[limits]\nmax_message_bytes = 100000\n",
    )
    .unwrap();
    let done = app.ok_json(&["quarantine", "reprocess", &id, "--json"]);
    assert_eq!(str_of(&done, "decision"), "created");
    assert_eq!(str_of(&done, "source"), format!("quarantine#{id}"));
    assert_eq!(app.tickets().len(), 1);
    assert!(array(app.ok_json(&["quarantine", "list", "--json"]), "list").is_empty());
    let all = array(
        app.ok_json(&["quarantine", "list", "--all", "--json"]),
        "list --all",
    );
    assert_eq!(str_of(&all[0], "status"), "reprocessed");
}

#[test]
fn the_same_bad_mail_twice_is_one_quarantine_entry() {
    let app = App::new();
    for _ in 0..2 {
        let d = app.ingest_bytes("garbage.eml", b"\x00\x01 not a mail at all");
        assert_eq!(str_of(&d, "decision"), "quarantined");
    }
    assert_eq!(
        array(app.ok_json(&["quarantine", "list", "--json"]), "list").len(),
        1
    );
}

#[test]
fn reprocessing_an_unknown_entry_is_an_error() {
    let app = App::new();
    let run = app.run(&["quarantine", "reprocess", "42"]);
    run.expect_code(1);
    assert!(run.output().contains("no quarantine entry #42"), "{run}");
}
