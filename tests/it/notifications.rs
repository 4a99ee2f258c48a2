//! The enqueue side of the outbox (issue 4), driven through the real binary without SMTP:
//! which changes write which `outbox` rows, in the transaction of the change. Rows are read
//! straight from the test's SQLite file.

use serde_json::Value;

use crate::support::{App, array, fixture_path, outbox_table, str_of};

const CONFIG: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"

[notify]
agents = ["*@agents.example.test"]
technicians = ["oncall@example.test"]
primary_contacts = { "acme.test" = "it-lead@acme.test" }

[security]
trusted_authserv_ids = ["mx.example.test"]
"#;

/// What the receiving server writes above an agent's mail that passed DKIM for their domain.
const AGENT_DKIM_PASS: &str =
    "Authentication-Results: mx.example.test; dkim=pass header.d=agents.example.test\r\n";

fn app() -> App {
    app_with(CONFIG)
}

fn app_with(config: &str) -> App {
    let app = App::with_config_unmigrated(config);
    app.write_file("hmac.key", b"test-secret-for-notifications");
    app.run(&["migrate"]).expect_success();
    app
}

fn outbox(app: &App) -> Vec<Value> {
    outbox_table(app)
}

fn recipients(row: &Value) -> Vec<&str> {
    row["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

fn plain_mail(from: &str, subject: &str, id: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 04 Mar 2024 09:15:00 +0000\r\n{extra_headers}Content-Type: text/plain\r\n\r\n\
         Hello,\r\nthis is {id}.\r\n"
    )
    .into_bytes()
}

#[test]
fn a_new_ticket_from_a_customer_queues_one_acknowledgement() {
    let app = app();
    let d = app.ingest_fixture("new-ticket.eml");
    assert_eq!(str_of(&d, "decision"), "created", "{d}");
    let rows = outbox(&app);
    // Two mails of one acknowledgement: the sender's words are quoted back to the sender
    // only; the Cc and the primary contact of acme.test get it without them.
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let ack = &rows[0];
    assert_eq!(ack["kind"], "acknowledgement");
    assert_eq!(ack["status"], "pending");
    assert_eq!(ack["ticket_id"], 1);
    assert_eq!(recipients(ack), ["alice@acme.test"], "the requester");
    let others = &rows[1];
    assert_eq!(others["kind"], "acknowledgement");
    assert_eq!(others["status"], "pending");
    assert_eq!(
        recipients(others),
        ["bob@acme.test", "it-lead@acme.test"],
        "the Cc and the primary contact of acme.test"
    );
    let unquoted = others["body_text"].as_str().unwrap();
    assert!(unquoted.contains("SUP-1"), "{unquoted}");
    assert!(!unquoted.contains("since Monday morning"), "{unquoted}");
    assert_eq!(others["subject"], ack["subject"]);
    assert_eq!(
        ack["subject"],
        "Re: [SUP-1] Cannot receive mail since Monday"
    );
    assert_eq!(ack["in_reply_to"], "20240304091500.alice.1@acme.test");
    assert_eq!(ack["references_ids"], "20240304091500.alice.1@acme.test");
    assert_eq!(ack["auto_submitted"], "auto-replied");
    assert_eq!(ack["attempts"], 0);
    assert_eq!(ack["next_attempt_at"], ack["created_at"]);
    assert!(ack["last_error"].is_null());
    let mid = ack["message_id"].as_str().unwrap();
    assert!(
        mid.starts_with("SUP-1.") && mid.ends_with("@example.test") && !mid.contains('<'),
        "{mid}"
    );
    let body = ack["body_text"].as_str().unwrap();
    assert!(body.contains("SUP-1"), "{body}");
    assert!(body.contains("keep [SUP-1] in the subject"), "{body}");
    assert!(
        body.contains("> since Monday morning nobody at Acme"),
        "{body}"
    );

    // The very same mail again: a duplicate, no second acknowledgement.
    let again = app.ingest_fixture("new-ticket.eml");
    assert_eq!(str_of(&again, "decision"), "duplicate");
    assert_eq!(outbox(&app).len(), 2);

    // `tickets show` lists the notifications.
    let shown = app.show("SUP-1");
    let notes = array(shown["notifications"].clone(), "notifications");
    assert_eq!(notes.len(), 2, "{shown:#}");
    assert_eq!(notes[0]["kind"], "acknowledgement");
    assert_eq!(notes[0]["status"], "pending");

    // The customer answers the acknowledgement: threaded by its Message-ID, no new ack.
    let reply = format!(
        "From: Alice Archer <alice@acme.test>\r\nTo: support@example.test\r\n\
         Subject: Re: [SUP-1] Cannot receive mail since Monday\r\nMessage-ID: <alice.2@acme.test>\r\n\
         In-Reply-To: <{mid}>\r\nDate: Mon, 04 Mar 2024 10:15:00 +0000\r\n\r\nStill broken.\r\n"
    );
    let d = app.ingest_bytes("reply.eml", reply.as_bytes());
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    assert_eq!(str_of(&d, "rule"), "in-reply-to", "{d}");
    assert_eq!(outbox(&app).len(), 2);
}

#[test]
fn bounces_and_automatic_mail_get_no_notification() {
    let app = app();
    for name in [
        "auto-reply-unthreaded.eml",
        "bounce-dsn.eml",
        "precedence-bulk-newsletter.eml",
    ] {
        let d = app.ingest_fixture(name);
        assert_ne!(str_of(&d, "decision"), "created", "{name}: {d}");
    }
    // Automatic mail threaded onto an existing ticket is not answered either.
    app.ingest_fixture("new-ticket.eml");
    app.ingest_fixture("auto-reply-threaded.eml");
    app.ingest_fixture("bounce-threaded.eml");
    let rows = outbox(&app);
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    // One acknowledgement, in two mails (quoted to the sender only).
    assert_eq!(kinds, ["acknowledgement", "acknowledgement"], "{rows:#?}");
}

#[test]
fn an_autoresponder_cannot_make_mailgate_send_more_than_the_cap() {
    let app = app();
    // A badly behaved autoresponder: plain mail (no Auto-Submitted), a new subject each time.
    for i in 1..=11 {
        let bytes = plain_mail(
            "Out Of Office <ooo@umbrella.test>",
            &format!("Away until Monday ({i})"),
            &format!("ooo.{i}@umbrella.test"),
            "",
        );
        let d = app.ingest_bytes(&format!("ooo-{i}.eml"), &bytes);
        assert_eq!(str_of(&d, "decision"), "created", "{d}");
    }
    let rows = outbox(&app);
    let pending: Vec<&Value> = rows.iter().filter(|r| r["status"] == "pending").collect();
    let held: Vec<&Value> = rows.iter().filter(|r| r["status"] == "held").collect();
    assert_eq!(pending.len(), 10, "{rows:#?}");
    assert_eq!(held.len(), 1, "{rows:#?}");
    assert_eq!(recipients(held[0]), ["ooo@umbrella.test"]);
    let reason = held[0]["last_error"].as_str().unwrap();
    assert!(
        reason.contains("ooo@umbrella.test") && reason.contains("cap 10"),
        "{reason}"
    );
}

#[test]
fn the_cap_is_configurable() {
    let app = app_with(&CONFIG.replace("[notify]\n", "[notify]\nmax_automatic_per_hour = 2\n"));
    for i in 1..=3 {
        let bytes = plain_mail(
            "x@umbrella.test",
            &format!("s{i}"),
            &format!("x.{i}@u.test"),
            "",
        );
        app.ingest_bytes(&format!("x-{i}.eml"), &bytes);
    }
    let statuses: Vec<String> = outbox(&app)
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["pending", "pending", "held"]);
}

#[test]
fn imports_never_notify() {
    let app = app();
    let archive = fixture_path("new-ticket.eml");
    let dir = app.dir().join("mails");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&archive, dir.join("1.eml")).unwrap();
    std::fs::write(
        dir.join("2.eml"),
        plain_mail("carol@globex.test", "Printer", "carol.1@globex.test", ""),
    )
    .unwrap();
    let report = app.import(&dir, &["--archive"]);
    assert_eq!(report["created"], 2, "{report}");
    assert!(outbox(&app).is_empty(), "--archive sends nothing");

    let app = app_with(CONFIG);
    let report = app.import(&dir, &[]);
    assert_eq!(report["created"], 2, "{report}");
    assert!(
        outbox(&app).is_empty(),
        "a plain import sends nothing either"
    );
}

#[test]
fn our_own_mail_coming_back_is_ignored() {
    let app = app();
    for (i, from) in [
        "Acme Support <support@example.test>",
        "SUPPORT+1.abc@Example.test",
    ]
    .iter()
    .enumerate()
    {
        let bytes = plain_mail(
            from,
            "[SUP-1] Your ticket",
            &format!("own.{i}@example.test"),
            "",
        );
        let d = app.ingest_bytes(&format!("own-{i}.eml"), &bytes);
        assert_eq!(str_of(&d, "decision"), "ignored", "{d}");
        assert_eq!(str_of(&d, "rule"), "own-mail", "{d}");
        assert!(d["ticket"].is_null(), "{d}");
        assert!(str_of(&d, "reason").contains("own"), "{d}");
    }
    assert!(app.tickets().is_empty());
    assert!(outbox(&app).is_empty());

    // A mail carrying one of our signed Message-IDs (looped back through a forwarder, From
    // rewritten) is recognised by the signature.
    app.ingest_fixture("new-ticket.eml");
    let ack_id = outbox(&app)[0]["message_id"].as_str().unwrap().to_string();
    let (left, domain) = ack_id.rsplit_once('@').unwrap();
    let (signed, _mac) = left.rsplit_once('.').unwrap();
    // Same ticket and MAC shape but a fresh nonce would not verify; reuse the real id on
    // another domain (the domain is not signed).
    let looped = format!("{left}@forwarder.test");
    let bytes = plain_mail("relay@forwarder.test", "Fwd", &looped, "");
    let d = app.ingest_bytes("looped.eml", &bytes);
    assert_eq!(str_of(&d, "rule"), "own-mail", "{d} ({signed} {domain})");
    assert_eq!(app.tickets().len(), 1);
    assert_eq!(outbox(&app).len(), 2, "the acknowledgement's two mails");
    // A second delivery of it is a duplicate.
    let d = app.ingest_bytes("looped2.eml", &bytes);
    assert_eq!(str_of(&d, "decision"), "duplicate", "{d}");
}

#[test]
fn agent_reply_and_status_changes_queue_notifications() {
    let app = app();
    app.ingest_fixture("new-ticket.eml");

    let out = app
        .run(&[
            "tickets",
            "reply",
            "SUP-1",
            "--body",
            "Please check the MX record.\n\nAnn",
            "--status",
            "pending",
            "--json",
        ])
        .expect_success()
        .json();
    assert_eq!(out["status"], "pending", "{out}");
    let rows = outbox(&app);
    assert_eq!(
        rows.len(),
        3,
        "the acknowledgement's two mails and the reply: {rows:#?}"
    );
    let reply = &rows[2];
    assert_eq!(reply["kind"], "agent_reply");
    assert_eq!(reply["status"], "pending");
    assert_eq!(
        recipients(reply),
        ["alice@acme.test", "bob@acme.test", "it-lead@acme.test"]
    );
    assert_eq!(reply["in_reply_to"], "20240304091500.alice.1@acme.test");
    assert_eq!(
        reply["subject"],
        "Re: [SUP-1] Cannot receive mail since Monday"
    );
    assert!(
        reply["body_text"]
            .as_str()
            .unwrap()
            .starts_with("Please check the MX record.")
    );
    assert_eq!(out["message_id"], reply["message_id"]);

    // Stored on the ticket as outbound mail from the support address.
    let shown = app.show("SUP-1");
    assert_eq!(shown["status"], "pending");
    let messages = array(shown["messages"].clone(), "messages");
    let outbound: Vec<&Value> = messages
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .collect();
    assert_eq!(outbound.len(), 1, "{shown:#}");
    assert_eq!(outbound[0]["from"], "support@example.test");
    assert_eq!(outbound[0]["message_id"], reply["message_id"]);

    // The body from a file, to the same ticket.
    let file = app.write_file("reply.txt", b"Any news?\n");
    app.run(&[
        "tickets",
        "reply",
        "SUP-1",
        "--body-file",
        file.to_str().unwrap(),
    ])
    .expect_success();
    assert_eq!(outbox(&app).len(), 4);

    // Status changes: resolved, then closed, each tells the customer.
    app.run(&[
        "tickets",
        "set-status",
        "SUP-1",
        "resolved",
        "--note",
        "MX fixed.",
    ])
    .expect_success();
    app.run(&["tickets", "set-status", "SUP-1", "closed"])
        .expect_success();
    let rows = outbox(&app);
    let changes: Vec<&Value> = rows
        .iter()
        .filter(|r| r["kind"] == "status_change")
        .collect();
    assert_eq!(changes.len(), 2, "{rows:#?}");
    assert_eq!(
        changes[0]["subject"],
        "[SUP-1] Cannot receive mail since Monday"
    );
    assert!(changes[0]["in_reply_to"].is_null());
    assert_eq!(changes[0]["auto_submitted"], "auto-generated");
    assert!(
        changes[0]["references_ids"]
            .as_str()
            .unwrap()
            .contains("20240304091500.alice.1@acme.test")
    );
    let body = changes[0]["body_text"].as_str().unwrap();
    assert!(
        body.contains("is now: resolved") && body.contains("MX fixed."),
        "{body}"
    );
    assert_eq!(app.show("SUP-1")["status"], "closed");

    // Reopening needs no mail; the same status twice is an error.
    let before = outbox(&app).len();
    app.run(&["tickets", "set-status", "SUP-1", "open"])
        .expect_success();
    assert_eq!(outbox(&app).len(), before);
    let again = app.run(&["tickets", "set-status", "SUP-1", "open"]);
    again.expect_code(1);
    assert!(again.stderr.contains("already open"), "{again}");
    app.run(&["tickets", "set-status", "SUP-9", "open"])
        .expect_code(1);
}

#[test]
fn a_critical_ticket_alerts_technicians_and_needs_a_note_to_be_resolved() {
    let app = app();
    app.ingest_fixture("new-ticket.eml");
    app.run(&["tickets", "set-priority", "SUP-1", "critical"])
        .expect_success();
    let rows = outbox(&app);
    assert_eq!(rows.last().unwrap()["kind"], "critical_alert");
    assert_eq!(recipients(rows.last().unwrap()), ["oncall@example.test"]);

    let refused = app.run(&["tickets", "set-status", "SUP-1", "resolved"]);
    refused.expect_code(1);
    assert!(refused.stderr.contains("confirmation note"), "{refused}");
    assert_eq!(app.show("SUP-1")["status"], "new");

    app.run(&[
        "tickets",
        "set-status",
        "SUP-1",
        "resolved",
        "--note",
        "Service restored; test mail received.",
    ])
    .expect_success();
    let rows = outbox(&app);
    let resolution: Vec<&Value> = rows
        .iter()
        .filter(|r| r["kind"] == "critical_resolution")
        .collect();
    // The customers in one mail, and the technician the alert made involved in another
    // (staff addresses are never shown to customers).
    assert_eq!(resolution.len(), 2, "{rows:#?}");
    assert_eq!(
        recipients(resolution[0]),
        ["alice@acme.test", "it-lead@acme.test"]
    );
    assert_eq!(recipients(resolution[1]), ["oncall@example.test"]);
    assert!(
        resolution[0]["body_text"]
            .as_str()
            .unwrap()
            .contains("Service restored")
    );
}

#[test]
fn config_check_renders_every_template() {
    let app = App::with_config_unmigrated(
        &CONFIG.replace("[notify]\n", "[notify]\ntemplates_dir = \"tpl\"\n"),
    );
    app.write_file("hmac.key", b"test-secret-for-notifications");
    // A missing directory is refused.
    let check = app.run(&["config", "check"]);
    check.expect_code(1);
    assert!(check.output().contains("templates_dir"), "{check}");

    app.write_file("tpl/acknowledgement.txt", b"Ticket {{ ticket.ref }}\n");
    let ok = app.run(&["config", "check"]);
    ok.expect_success();
    app.run(&["migrate"]).expect_success();
    assert!(ok.stdout.contains("templates"), "{ok}");
    app.ingest_fixture("new-ticket.eml");
    assert_eq!(outbox(&app)[0]["body_text"], "Ticket SUP-1\n");

    app.write_file("tpl/status_change.txt", b"Hi\n{{ ticket.stauts }}\n");
    let bad = app.run(&["config", "check"]);
    bad.expect_code(1);
    let text = bad.output();
    assert!(
        text.contains("status_change.txt") && text.contains("line 2") && text.contains(":8:"),
        "names the file, its line and the config line: {bad}"
    );
}

fn agent_mail(from: &str, subject: &str, id: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 04 Mar 2024 10:15:00 +0000\r\n{headers}Content-Type: text/plain\r\n\r\n{body}"
    )
    .into_bytes()
}

#[test]
fn an_agents_reply_by_mail_is_stored_and_relayed_without_their_address_or_signature() {
    let app = app();
    let d = app.ingest_bytes(
        "c1.eml",
        &plain_mail(
            "Jane <jane@acme.test>",
            "Printer broken",
            "c1@acme.test",
            "Cc: bob@acme.test, ann.smith@agents.example.test\r\n",
        ),
    );
    assert_eq!(str_of(&d, "decision"), "created", "{d}");
    let body = "Hi Jane,\r\n\r\nplease switch it off and on again.\r\n\r\nBest regards,\r\n\
                Ann Smith\r\nSecond-level support | ann.smith@agents.example.test\r\n\r\n\
                On Mon, Jane wrote:\r\n> Hello,\r\n> this is c1@acme.test.\r\n";
    let d = app.ingest_bytes(
        "a1.eml",
        &agent_mail(
            "Ann Smith <ann.smith@agents.example.test>",
            "Re: [SUP-1] Printer broken",
            "a1@agents.example.test",
            &format!(
                "{AGENT_DKIM_PASS}In-Reply-To: <c1@acme.test>\r\nReferences: <c1@acme.test>\r\n"
            ),
            body,
        ),
    );
    assert_eq!(
        (str_of(&d, "decision"), str_of(&d, "rule")),
        ("threaded", "in-reply-to"),
        "{d}"
    );
    let rows = outbox(&app);
    let relays: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "agent_reply").collect();
    assert_eq!(relays.len(), 1, "{rows:#?}");
    let r = relays[0];
    assert_eq!(
        recipients(r),
        ["jane@acme.test", "bob@acme.test", "it-lead@acme.test"],
        "requester, Cc and primary contact; never the agent"
    );
    assert_eq!(r["in_reply_to"], "c1@acme.test");
    assert_eq!(r["status"], "pending");
    assert_eq!(r["subject"], "Re: [SUP-1] Printer broken");
    let text = str_of(r, "body_text");
    assert!(
        text.contains("please switch it off and on again."),
        "{text}"
    );
    assert!(!text.contains("ann.smith"), "the agent's address: {text}");
    assert!(!text.contains("Ann Smith"), "the agent's signature: {text}");
    assert!(
        !text.contains("Second-level"),
        "the agent's signature: {text}"
    );
    assert!(!text.contains("> Hello"), "quoted history: {text}");

    // Stored on the ticket as the agent's message.
    let show = app.show("SUP-1");
    let shown = show.to_string();
    assert!(shown.contains("a1@agents.example.test"), "{show:#}");

    // The agent's out-of-office (automatic) and a bounce to the agent are never relayed.
    let d = app.ingest_bytes(
        "a2.eml",
        &agent_mail(
            "Ann Smith <ann.smith@agents.example.test>",
            "Automatic reply: [SUP-1] Printer broken",
            "a2@agents.example.test",
            "In-Reply-To: <c1@acme.test>\r\nAuto-Submitted: auto-replied\r\n",
            "I am away until Monday.\r\n",
        ),
    );
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    // A customer's reply threads and is not relayed either.
    app.ingest_bytes(
        "c2.eml",
        &plain_mail(
            "Jane <jane@acme.test>",
            "Re: [SUP-1] Printer broken",
            "c2@acme.test",
            "In-Reply-To: <a1@agents.example.test>\r\n",
        ),
    );
    let rows = outbox(&app);
    assert_eq!(
        rows.iter().filter(|r| r["kind"] == "agent_reply").count(),
        1,
        "{rows:#?}"
    );

    // A second agent answer goes In-Reply-To the newest customer mail, not the agent's own.
    app.ingest_bytes(
        "a3.eml",
        &agent_mail(
            "ann.smith@agents.example.test",
            "Re: [SUP-1] Printer broken",
            "a3@agents.example.test",
            &format!("{AGENT_DKIM_PASS}In-Reply-To: <c2@acme.test>\r\n"),
            "Glad it works.\r\n\r\nAnn\r\n",
        ),
    );
    let rows = outbox(&app);
    let last = rows.last().unwrap();
    assert_eq!(last["kind"], "agent_reply", "{rows:#?}");
    assert_eq!(last["in_reply_to"], "c2@acme.test");
    let text = str_of(last, "body_text");
    assert!(text.starts_with("Glad it works."), "{text}");
    assert!(!text.contains("Ann"), "{text}");
}
