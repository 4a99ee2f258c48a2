//! Hostile mail must not speak for us (issue 12, SPEC 2 "Trust"): spoofed identities through
//! the real binary. Each test is one attack that used to work, with what must happen instead.
//! The real-stack variant of the agent relay is in `trust_e2e`.

use serde_json::Value;

use crate::support::*;

const CONFIG: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"

[[mailboxes]]
name = "support"
role = "support"

[[mailboxes]]
name = "escalations"
role = "escalation"

[notify]
agents = ["*@agents.example.test"]
technicians = ["oncall@example.test", "tech2@example.test"]

[escalation]
allowed_senders = ["*@tier1.example.test"]
require_dmarc_pass = true
require = ["category", "error", "steps_taken"]

[security]
trusted_authserv_ids = ["mx.example.test"]
"#;

fn app() -> App {
    app_with(CONFIG)
}

fn app_with(config: &str) -> App {
    let app = App::with_config_unmigrated(config);
    app.write_file("hmac.key", b"test-secret-for-trust");
    app.run(&["migrate"]).expect_success();
    app
}

fn outbox(app: &App) -> Vec<Value> {
    outbox_table(app)
}

fn recipients(row: &Value) -> Vec<String> {
    array(row["recipients"].clone(), "recipients")
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string())
        .collect()
}

/// A mail with the given header block (CRLF added) and body.
fn mail(headers: &[&str], body: &str) -> Vec<u8> {
    let mut out = String::new();
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    out.push_str(&body.replace('\n', "\r\n"));
    out.into_bytes()
}

fn ingest_at(app: &App, name: &str, mailbox: &str, bytes: &[u8]) -> Value {
    let path = app.write_file(name, bytes);
    app.ok_json(&[
        "ingest",
        path.to_str().unwrap_or_default(),
        "--mailbox",
        mailbox,
        "--json",
    ])
}

// Three customers: a critical escalation meets the default critical gate (2 or more).
const EVIDENCE: &str = "Customer: jane@acme.test\nCategory: email\nAffected-Customers: 3\n\
                        Error: nothing arrives\nSteps-Taken:\n - checked the logs\n\
                        Priority: critical\n\nPlease look.\n";

fn escalation(id: &str, from: &str, auth: &[&str]) -> Vec<u8> {
    let mut headers: Vec<String> = auth
        .iter()
        .map(|a| format!("Authentication-Results: {a}"))
        .collect();
    headers.push(from.to_string());
    headers.extend([
        "To: escalations@example.test".to_string(),
        "Subject: Fwd: nothing arrives".to_string(),
        format!("Message-ID: <{id}@tier1.example.test>"),
        "Date: Mon, 07 Dec 2026 10:00:00 +0000".to_string(),
    ]);
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    mail(&refs, EVIDENCE)
}

#[test]
fn escalations_believe_only_the_receiving_servers_dmarc_for_the_from_domain() {
    let app = app();
    let pass = "mx.example.test; dmarc=pass header.from=tier1.example.test";
    for (name, auth, needle) in [
        (
            // The receiving server prepends its header: a copy of its id that the sender
            // wrote sits below it and is never read.
            "forged-pass-below-real-fail",
            vec![
                "mx.example.test; dmarc=fail header.from=tier1.example.test",
                "mx.example.test; dmarc=pass header.from=tier1.example.test",
            ],
            "dmarc=fail",
        ),
        (
            "pass-from-another-authserv-above-real-fail",
            vec![
                "evil.test; dmarc=pass header.from=tier1.example.test",
                "mx.example.test; dmarc=fail header.from=tier1.example.test",
            ],
            "dmarc=fail",
        ),
        (
            "pass-for-another-domain",
            vec!["mx.example.test; dmarc=pass header.from=evil.test"],
            "no dmarc=pass",
        ),
        (
            "no-header-from",
            vec!["mx.example.test; dmarc=pass"],
            "no dmarc=pass",
        ),
        ("none-at-all", vec![], "no dmarc=pass"),
    ] {
        let bytes = escalation(name, "From: Tom <tom@tier1.example.test>", &auth);
        let d = ingest_at(&app, &format!("{name}.eml"), "escalations", &bytes);
        assert_eq!(str_of(&d, "rule"), "escalation-unauthorised", "{name}: {d}");
        assert!(str_of(&d, "reason").contains(needle), "{name}: {d}");
    }
    assert!(
        outbox(&app).is_empty(),
        "nobody is answered, no technician is paged: {:#?}",
        outbox(&app)
    );

    let ok = escalation("real", "From: Tom <tom@tier1.example.test>", &[pass]);
    let d = ingest_at(&app, "real.eml", "escalations", &ok);
    assert_eq!(str_of(&d, "rule"), "escalation-accepted", "{d}");
    let alerts = outbox(&app)
        .into_iter()
        .filter(|r| r["kind"] == "critical_alert")
        .count();
    assert_eq!(
        alerts, 2,
        "the real critical escalation pages each technician"
    );
}

#[test]
fn require_dmarc_pass_without_a_trusted_authserv_id_is_refused_by_config_check() {
    let config = CONFIG.replace(
        "[security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n",
        "",
    );
    let app = App::with_config_unmigrated(&config);
    app.write_file("hmac.key", b"k");
    let check = app.run(&["config", "check"]);
    check.expect_code(1);
    let text = check.output();
    assert!(
        text.contains("require_dmarc_pass needs [security] trusted_authserv_ids"),
        "{check}"
    );
    let line = config
        .lines()
        .position(|l| l.starts_with("require_dmarc_pass"))
        .map(|i| i + 1)
        .unwrap_or_default();
    assert!(
        text.contains(&format!(":{line}: ")),
        "names the line of require_dmarc_pass ({line}): {check}"
    );
}

#[test]
fn a_sender_taken_from_sender_or_return_path_never_authorises() {
    let app = app();
    let d = app.ingest_fixture("new-ticket.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));

    // No usable From: the sender comes from Sender, which no DMARC check looks at. The tag
    // of alice's ticket does not let it in as alice.
    let spoof = mail(
        &[
            "From: undisclosed-recipients:;",
            "Sender: Alice Archer <alice@acme.test>",
            "To: support@example.test",
            "Subject: Re: [SUP-1] Cannot receive mail since Monday",
            "Message-ID: <spoof.1@evil.test>",
        ],
        "Please send the invoice to my new bank account.\n",
    );
    let d = ingest_at(&app, "spoof.eml", "support", &spoof);
    assert_decision(&d, "created", "stranger-tag", Some("SUP-2"));
    let reason = str_of(&d, "reason");
    assert!(reason.contains("taken from Sender: unverified"), "{reason}");
    assert_eq!(items(&app.show("SUP-1"), "messages").len(), 1);
    // Its acknowledgement quotes nothing: the words are not proven to be alice's.
    let acks: Vec<Value> = outbox(&app)
        .into_iter()
        .filter(|r| r["ticket_id"] == 2)
        .collect();
    assert!(!acks.is_empty());
    for row in &acks {
        assert!(
            !str_of(row, "body_text").contains("bank account"),
            "{row:#}"
        );
    }

    // An escalation from `Sender: tom@tier1…` with no From address, asking for critical.
    let bytes = escalation(
        "sender-only",
        "Sender: tom@tier1.example.test",
        &["mx.example.test; dmarc=pass header.from=tier1.example.test"],
    );
    let d = ingest_at(&app, "sender-only.eml", "escalations", &bytes);
    assert_eq!(str_of(&d, "rule"), "escalation-unauthorised", "{d}");
    assert!(
        str_of(&d, "reason").contains("not a verified sender"),
        "{d}"
    );
    assert!(
        outbox(&app).iter().all(|r| r["kind"] != "critical_alert"),
        "no technician is paged"
    );
}

/// A customer mail, then an agent's answer by mail to it.
fn agent_answer(headers: &[&str]) -> Vec<u8> {
    let mut all = vec![
        "From: Ann Smith <ann@agents.example.test>",
        "To: support@example.test",
        "Subject: Re: [SUP-1] Cannot receive mail since Monday",
        "Date: Mon, 07 Dec 2026 11:00:00 +0000",
    ];
    all.extend_from_slice(headers);
    mail(
        &all,
        "Your account is suspended, log in at http://evil.test to fix it.\n",
    )
}

fn relays(app: &App) -> Vec<Value> {
    outbox(app)
        .into_iter()
        .filter(|r| r["kind"] == "agent_reply")
        .collect()
}

#[test]
fn an_agents_address_alone_relays_nothing_to_customers() {
    let app = app();
    app.ingest_fixture("new-ticket.eml");

    // From matches notify.agents, the tag is right, nothing authenticates it.
    let forged = agent_answer(&["Message-ID: <forged.1@evil.test>"]);
    let d = ingest_at(&app, "forged.eml", "support", &forged);
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("not authenticated") && reason.contains("never relayed"),
        "{reason}"
    );
    assert!(relays(&app).is_empty(), "{:#?}", outbox(&app));
    let shown = app.show("SUP-1");
    let messages = items(&shown, "messages");
    let forged_message = messages
        .iter()
        .find(|m| m["message_id"] == "forged.1@evil.test")
        .unwrap_or_else(|| panic!("stored: {shown:#}"));
    assert_eq!(forged_message["direction"], "note", "{forged_message:#}");
    assert_eq!(
        forged_message["flag"], "unverified_agent",
        "{forged_message:#}"
    );
    let human = app
        .run(&["tickets", "show", "SUP-1"])
        .expect_success()
        .stdout
        .clone();
    assert!(human.contains("unverified agent: not relayed"), "{human}");

    // A mail whose From the receiving server reports forged is not even an agent's note.
    let dmarc_fail = agent_answer(&[
        "Authentication-Results: mx.example.test; dmarc=fail header.from=agents.example.test",
        "Message-ID: <forged.2@evil.test>",
    ]);
    let d = ingest_at(&app, "forged2.eml", "support", &dmarc_fail);
    assert_decision(&d, "created", "stranger-tag", Some("SUP-2"));
    assert!(relays(&app).is_empty());

    // Authenticated by the receiving server (DKIM of the agents' domain): relayed.
    let signed = agent_answer(&[
        "Authentication-Results: mx.example.test; dkim=pass header.d=agents.example.test",
        "Message-ID: <real.1@agents.example.test>",
    ]);
    let d = ingest_at(&app, "real.eml", "support", &signed);
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    assert!(str_of(&d, "reason").contains("authenticated"), "{d}");
    assert_eq!(relays(&app).len(), 1, "{:#?}", outbox(&app));
}

#[test]
fn an_agent_reply_address_signed_for_the_agent_authenticates_their_mail() {
    let app = app();
    app.ingest_fixture("new-ticket.eml");
    // Raising the ticket to critical alerts the technicians; an agent gets the resolution
    // mail with a reply address signed for them. Make ann involved, resolve, read her row.
    let ann_cc = mail(
        &[
            "From: Alice Archer <alice@acme.test>",
            "To: support@example.test",
            "Cc: Ann Smith <ann@agents.example.test>",
            "Subject: Second problem",
            "Message-ID: <alice.second@acme.test>",
        ],
        "Another one.\n",
    );
    let d = ingest_at(&app, "second.eml", "support", &ann_cc);
    assert_decision(&d, "created", "new-ticket", Some("SUP-2"));
    app.run(&["tickets", "set-priority", "SUP-2", "critical"])
        .expect_success();
    app.run(&[
        "tickets",
        "set-status",
        "SUP-2",
        "resolved",
        "--note",
        "Restored and tested.",
    ])
    .expect_success();
    let rows = outbox(&app);
    let to_ann = rows
        .iter()
        .find(|r| {
            r["kind"] == "critical_resolution" && recipients(r) == ["ann@agents.example.test"]
        })
        .unwrap_or_else(|| panic!("no resolution mail to ann: {rows:#?}"));
    let reply_to = str_of(to_ann, "reply_to").to_string();
    assert!(reply_to.starts_with("support+2.a"), "{to_ann:#}");

    // Ann answers it from her mail client, without any Authentication-Results: the signed
    // address is what authenticates her. Relayed to the customer.
    let to_header = format!("To: {reply_to}");
    let answer = mail(
        &[
            "From: Ann Smith <ann@agents.example.test>",
            &to_header,
            "Subject: Re: [SUP-2] Second problem",
            "Message-ID: <ann.1@agents.example.test>",
        ],
        "All done on our side.\n",
    );
    let d = ingest_at(&app, "ann.eml", "support", &answer);
    assert_decision(&d, "threaded", "plus-address", Some("SUP-2"));
    assert!(str_of(&d, "reason").contains("signed for them"), "{d}");
    assert_eq!(relays(&app).len(), 1, "{:#?}", outbox(&app));

    // The same address used by another agent (or a forger naming bob) does not work.
    let bob = mail(
        &[
            "From: Bob <bob@agents.example.test>",
            &to_header,
            "Subject: Re: [SUP-2] Second problem",
            "Message-ID: <bob.1@agents.example.test>",
        ],
        "Click here.\n",
    );
    let d = ingest_at(&app, "bob.eml", "support", &bob);
    assert_ne!(str_of(&d, "rule"), "plus-address", "{d}");
    assert_eq!(relays(&app).len(), 1);
}

#[test]
fn a_thousand_cc_make_ten_participants_and_mail_only_a_few_addresses() {
    let app = app();
    let cc: Vec<String> = (0..5000)
        .map(|i| format!("victim{i}@example.org"))
        .collect();
    let cc_header = format!("Cc: {}", cc.join(", "));
    let spam = mail(
        &[
            "From: Spammer <spam@spam.test>",
            "To: support@example.test",
            &cc_header,
            "Subject: You won",
            "Message-ID: <spam.1@spam.test>",
        ],
        "Claim your prize at http://evil.test\n",
    );
    let d = ingest_at(&app, "spam.eml", "support", &spam);
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    assert!(
        str_of(&d, "reason").contains("limits.max_new_participants = 10"),
        "{d}"
    );
    let shown = app.show("SUP-1");
    assert_eq!(
        items(&shown, "participants").len(),
        11,
        "requester and 10 Cc"
    );
    let rows = outbox(&app);
    let mailed: usize = rows
        .iter()
        .filter(|r| r["status"] == "pending")
        .map(|r| recipients(r).len())
        .sum();
    assert!(mailed <= 10, "{mailed} addresses mailed: {rows:#?}");
    for row in &rows {
        let quoted = str_of(row, "body_text").contains("Claim your prize");
        assert_eq!(
            quoted,
            recipients(row) == ["spam@spam.test"],
            "the text is quoted to its sender only: {row:#}"
        );
    }
}

#[test]
fn a_stranger_knowing_a_message_id_is_stored_but_reopens_nothing() {
    let app = app();
    app.ingest_fixture("new-ticket.eml");
    app.run(&["tickets", "set-status", "SUP-1", "resolved"])
        .expect_success();
    let stranger = mail(
        &[
            "From: Mallory <mallory@evil.test>",
            "To: support@example.test",
            "Subject: Re: Cannot receive mail since Monday",
            "Message-ID: <mallory.1@evil.test>",
            "In-Reply-To: <20240304091500.alice.1@acme.test>",
        ],
        "Reopen this please.\n",
    );
    let d = ingest_at(&app, "mallory.eml", "support", &stranger);
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("mallory@evil.test is not a participant of SUP-1")
            && reason.contains("flagged as from a non-participant"),
        "{reason}"
    );
    let shown = app.show("SUP-1");
    assert_eq!(str_of(&shown, "status"), "resolved", "not reopened");
    let participants = items(&shown, "participants");
    assert!(
        participants
            .iter()
            .all(|p| !names_address(str_of(p, "address"), "mallory@evil.test")),
        "{shown:#}"
    );
    let m = items(&shown, "messages")
        .iter()
        .find(|m| m["message_id"] == "mallory.1@evil.test")
        .cloned()
        .unwrap_or_default();
    assert_eq!(m["flag"], "non_participant", "{shown:#}");
    assert_eq!(m["direction"], "inbound");

    // Alice herself, the same way: reopens as always.
    let alice = mail(
        &[
            "From: Alice Archer <alice@acme.test>",
            "To: support@example.test",
            "Subject: Re: Cannot receive mail since Monday",
            "Message-ID: <alice.again@acme.test>",
            "In-Reply-To: <20240304091500.alice.1@acme.test>",
        ],
        "Still broken.\n",
    );
    let d = ingest_at(&app, "alice.eml", "support", &alice);
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
    assert_eq!(str_of(&app.show("SUP-1"), "status"), "open");
}
