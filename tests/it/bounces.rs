//! A bounce of our notification marks the failed recipient as bouncing on the ticket (issue 4):
//! driven through the real binary — customer mail → acknowledgement queued → a DSN for it →
//! the participant is bouncing and later notifications skip it.

use serde_json::Value;

use crate::support::{App, array, str_of};

const SIGNED: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"
"#;

const UNSIGNED: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
"#;

fn app_with(config: &str) -> App {
    let app = App::with_config_unmigrated(config);
    app.write_file("hmac.key", b"test-secret-for-bounces");
    app.run(&["migrate"]).expect_success();
    app
}

fn customer_mail(cc: &str) -> Vec<u8> {
    format!(
        "From: Jane Doe <jane@customer.test>\r\nTo: support@example.test\r\n{cc}\
         Subject: Printer broken\r\nMessage-ID: <printer-1@customer.test>\r\n\
         Date: Mon, 04 Mar 2024 09:15:00 +0000\r\nContent-Type: text/plain\r\n\r\nIt jams.\r\n"
    )
    .into_bytes()
}

/// A Postfix-style DSN: `jane` failed, the original's header returned as text/rfc822-headers.
fn dsn_for(message_id: &str, failed: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.test (Mail Delivery System)\r\n\
         To: support@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <dsn-1@mx.example.test>\r\nDate: Mon, 04 Mar 2024 09:16:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n\
         Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@example.test\r\n\
         To: {failed}\r\nSubject: [SUP-1] Printer broken\r\nMessage-ID: <{message_id}>\r\n\r\n\
         --b1--\r\n"
    )
    .into_bytes()
}

fn outbox_list(app: &App) -> Vec<Value> {
    array(app.ok_json(&["outbox", "list", "--json"]), "outbox list")
}

fn recipients(row: &Value) -> Vec<String> {
    row["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn participant<'a>(show: &'a Value, address: &str) -> &'a Value {
    show["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| str_of(p, "address") == address)
        .unwrap_or_else(|| panic!("{address} is no participant: {show:#}"))
}

fn bounce_marks_the_recipient(config: &str) {
    let app = app_with(config);
    let d = app.ingest_bytes("new.eml", &customer_mail(""));
    assert_eq!(str_of(&d, "decision"), "created", "{d}");
    let rows = outbox_list(&app);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(recipients(&rows[0]), ["jane@customer.test"]);
    let mid = str_of(&rows[0], "message_id")
        .trim_matches(['<', '>'])
        .to_string();

    let d = app.ingest_bytes("dsn.eml", &dsn_for(&mid, "jane@customer.test"));
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    assert_eq!(str_of(&d, "rule"), "returned-mail", "{d}");
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("bounce of our notification")
            && reason.contains("marks jane@customer.test bouncing on SUP-1"),
        "{reason}"
    );
    assert_eq!(outbox_list(&app).len(), 1, "a bounce never triggers mail");

    let show = app.show("SUP-1");
    assert_eq!(
        participant(&show, "jane@customer.test")["bouncing"],
        true,
        "{show:#}"
    );
    assert_eq!(
        str_of(&show, "status"),
        "new",
        "a bounce never reopens: {show:#}"
    );
    let messages = show["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        2,
        "the bounce is stored on the ticket: {show:#}"
    );

    // The same bounce again: a duplicate, nothing changes.
    let again = app.ingest_bytes("dsn.eml", &dsn_for(&mid, "jane@customer.test"));
    assert_eq!(str_of(&again, "decision"), "duplicate", "{again}");

    // A later notification does not go to the bouncing address.
    app.run(&["tickets", "set-status", "SUP-1", "pending"])
        .expect_success();
    for row in outbox_list(&app).iter().skip(1) {
        assert!(
            !recipients(row).contains(&"jane@customer.test".to_string()),
            "{row:#}"
        );
    }
}

#[test]
fn a_dsn_of_our_acknowledgement_marks_the_recipient_bouncing_signed() {
    bounce_marks_the_recipient(SIGNED);
}

#[test]
fn a_dsn_of_our_acknowledgement_marks_the_recipient_bouncing_by_outbox() {
    bounce_marks_the_recipient(UNSIGNED);
}

#[test]
fn a_plain_bounce_marks_only_a_single_recipient_and_foreign_ids_do_nothing() {
    let app = app_with(SIGNED);
    app.ingest_bytes("new.eml", &customer_mail("Cc: bob@customer.test\r\n"));
    // The acknowledgement is two mails (the quote goes to the sender only); a status change
    // is one mail to both.
    app.run(&["tickets", "set-status", "SUP-1", "pending"])
        .expect_success();
    let rows = outbox_list(&app);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(str_of(&rows[2], "kind"), "status_change", "{rows:#?}");
    assert_eq!(recipients(&rows[2]).len(), 2, "{rows:#?}");
    let mid = str_of(&rows[2], "message_id")
        .trim_matches(['<', '>'])
        .to_string();

    // No DSN, two recipients: stored on the ticket, nobody marked.
    let qmail = format!(
        "From: MAILER-DAEMON@mx.customer.test\r\nTo: support@example.test\r\n\
         Subject: failure notice\r\nMessage-ID: <qmail-1@mx.customer.test>\r\n\r\n\
         Sorry, no mailbox here by that name.\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n\
         From: support@example.test\r\nMessage-ID: <{mid}>\r\nSubject: [SUP-1] Printer broken\r\n\r\nhi\r\n"
    );
    let d = app.ingest_bytes("qmail.eml", qmail.as_bytes());
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    assert!(
        str_of(&d, "reason").contains("no one is marked bouncing"),
        "{d}"
    );
    let show = app.show("SUP-1");
    for a in ["jane@customer.test", "bob@customer.test"] {
        assert_eq!(participant(&show, a)["bouncing"], false, "{show:#}");
    }

    // A forged id of ours (bad signature) is not ours: logged only.
    let forged = dsn_for(
        "SUP-1.n1.1.00000000000000000000000000000000@example.test",
        "jane@customer.test",
    );
    let d = app.ingest_bytes("forged.eml", &forged);
    assert_eq!(str_of(&d, "decision"), "ignored", "{d}");
    let show = app.show("SUP-1");
    assert_eq!(participant(&show, "jane@customer.test")["bouncing"], false);
}
