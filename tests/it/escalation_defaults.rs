//! The escalation gate's defaults and its answers to tier 1 (issue 18, items 1, 2, 3, 13),
//! through the real binary on a file-fed escalation mailbox:
//!
//! - a mailbox's known address (`address = "..."`, else an address `username`) is one of
//!   mailgate's own: refusals and confirmations to an allowed tier-1 sender are pending, not held;
//!   without one `config check` warns and a held answer says why in the decision;
//! - without `[escalation.priority.critical]` the default gate downgrades a critical escalation
//!   for one customer to high (with the reason mailed back); `enabled = false` turns it off;
//!   `config check` names the gate in force;
//! - the technicians a critical alert went to are participants, and the resolution reaches them;
//! - placeholder evidence (`n/a`, `-`) is refused as a placeholder.

use serde_json::Value;

use crate::support::*;

const TIER1: &str = "tom@tier1.example.test";
const TECH: &str = "oncall@ops.example.test";

/// A file-fed escalation mailbox (`mailbox_keys` added to its entry), tier 1 allowed, one
/// technician; `gate` is added at the end (e.g. a `[escalation.priority.critical]`).
fn config(mailbox_keys: &str, gate: &str) -> String {
    format!(
        "[tickets]\nprefix = \"SUP\"\nsupport_address = \"Support <support@example.test>\"\n\n\
         [[mailboxes]]\nname = \"support\"\nrole = \"support\"\n\n\
         [[mailboxes]]\nname = \"escalations\"\nrole = \"escalation\"\n{mailbox_keys}\n\
         [notify]\ntechnicians = [\"{TECH}\"]\n\n\
         [escalation]\nallowed_senders = [\"*@tier1.example.test\"]\n\n{gate}"
    )
}

const WITH_ADDRESS: &str = "address = \"escalations@example.test\"\n";

/// A tier-1 escalation to escalations@ with `evidence` on top and the customer's mail forwarded.
fn escalation(id: &str, evidence: &str) -> Vec<u8> {
    format!(
        "From: Tom Tiers <{TIER1}>\r\nTo: escalations@example.test\r\nSubject: Fwd: no mail\r\n\
         Date: Mon, 16 Nov 2026 09:00:00 +0100\r\nMessage-ID: <{id}@tier1.example.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{evidence}\r\n\
         ---------- Forwarded message ---------\r\nFrom: Jane Doe <jane@acme.test>\r\n\
         Subject: no mail\r\nTo: <support@example.test>\r\n\r\nI get no mail since Friday.\r\n"
    )
    .into_bytes()
}

fn evidence(priority: &str, affected: u32) -> String {
    format!(
        "Category: email\r\nAffected-Customers: {affected}\r\n\
         Error: no message received since 2026-11-12\r\n\
         Steps-Taken: checked the client's log, no errors\r\nPriority: {priority}\r\n"
    )
}

fn ingest(app: &App, name: &str, bytes: &[u8]) -> Value {
    let path = app.write_file(&format!("inbox/{name}"), bytes);
    app.ok_json(&[
        "ingest",
        path.to_str().unwrap(),
        "--mailbox",
        "escalations",
        "--json",
    ])
}

fn rows_of_kind(app: &App, kind: &str) -> Vec<Value> {
    outbox_table(app)
        .into_iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

fn recipients(row: &Value) -> Vec<String> {
    row["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn participants(app: &App, reference: &str) -> Vec<(String, String)> {
    items(&app.show(reference), "participants")
        .iter()
        .map(|p| {
            (
                str_of(p, "address").to_string(),
                str_of(p, "role").to_string(),
            )
        })
        .collect()
}

#[test]
fn answers_to_tier1_are_sent_when_the_mailbox_has_a_known_address() {
    let app = App::with_config(&config(WITH_ADDRESS, ""));
    let check = app.run(&["config", "check"]);
    check.expect_success();
    assert!(!check.stdout.contains("warning"), "{check}");

    // Refused (nothing but the forward): the refusal is pending for tier 1.
    let refused = ingest(&app, "refused.eml", &escalation("r1", "please help"));
    assert_eq!(str_of(&refused, "decision"), "rejected", "{refused:#}");
    // Accepted: the confirmation is pending too.
    let accepted = ingest(&app, "ok.eml", &escalation("a1", &evidence("high", 1)));
    assert_eq!(
        ticket_of(&accepted).as_deref(),
        Some("SUP-1"),
        "{accepted:#}"
    );
    for kind in ["escalation_refused", "escalation_accepted"] {
        let rows = rows_of_kind(&app, kind);
        assert_eq!(rows.len(), 1, "{kind}: {rows:#?}");
        assert_eq!(rows[0]["status"], "pending", "{kind}: {:#}", rows[0]);
        assert_eq!(recipients(&rows[0]), [TIER1]);
        assert_eq!(rows[0]["reply_to"], "escalations@example.test");
    }

    // The username is the known address when it is one (no `address` key needed).
    let by_login = config(
        "host = \"127.0.0.1\"\nusername = \"escalations@example.test\"\n\
         password_env = \"MAILGATE_TEST_UNUSED\"\n",
        "",
    );
    let app = App::with_config(&by_login);
    ingest(&app, "refused.eml", &escalation("r2", "please help"));
    assert_eq!(
        rows_of_kind(&app, "escalation_refused")[0]["status"],
        "pending"
    );
}

#[test]
fn without_a_known_address_config_check_warns_and_the_held_refusal_says_why() {
    let app = App::with_config(&config("", ""));
    let check = app.run(&["config", "check"]);
    check.expect_success();
    assert!(
        check.stdout.contains(
            "warning: mailbox escalations: escalation mailbox without a known address (no \
             username: it is fed by ingest or import)"
        ),
        "{check}"
    );
    assert!(check.stdout.contains("set address = "), "{check}");

    ingest(&app, "refused.eml", &escalation("r1", "please help"));
    let rows = rows_of_kind(&app, "escalation_refused");
    assert_eq!(rows[0]["status"], "held", "{rows:#?}");
    let decision = app
        .decisions()
        .into_iter()
        .find(|d| str_of(d, "decision") == "rejected")
        .expect("the refusal's decision");
    let reason = str_of(&decision, "reason");
    assert!(
        reason.contains(&format!(
            "the escalation_refused to {TIER1} is held, not sent: the mail that triggered it \
             names none of mailgate's addresses"
        )),
        "{reason}"
    );
    assert!(
        reason.contains("set address = \"...\" on mailbox escalations"),
        "{reason}"
    );
}

#[test]
fn the_repository_escalation_config_sends_its_answers() {
    let config = manifest_dir().join("fixtures/escalations/mailgate.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let app = App::with_config(&text);
    let check = app.run(&["config", "check"]);
    check.expect_success();
    assert!(!check.stdout.contains("warning"), "{check}");
    assert!(
        check.stdout.contains(
            "critical gate configured: critical needs 10+ affected customers, else refused"
        ),
        "{check}"
    );
    let mail = manifest_dir().join("fixtures/escalations/25-no-evidence-at-all.eml");
    app.ok_json(&[
        "ingest",
        mail.to_str().unwrap(),
        "--mailbox",
        "escalations",
        "--json",
    ]);
    let rows = rows_of_kind(&app, "escalation_refused");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["status"], "pending", "{:#}", rows[0]);
}

#[test]
fn the_default_critical_gate_downgrades_one_customer_to_high_with_the_reason() {
    let app = App::with_config(&config(WITH_ADDRESS, ""));
    let check = app.run(&["config", "check"]);
    check.expect_success();
    assert!(
        check.stdout.contains(
            "critical gate default: critical needs 2+ affected customers, else downgraded to \
             high, with the reason mailed back"
        ),
        "{check}"
    );

    let one = ingest(&app, "one.eml", &escalation("c1", &evidence("critical", 1)));
    assert_eq!(str_of(&one, "decision"), "created", "{one:#}");
    assert_eq!(str_of(&app.show("SUP-1"), "priority"), "high");
    assert!(rows_of_kind(&app, "critical_alert").is_empty());
    let confirmation = &rows_of_kind(&app, "escalation_accepted")[0];
    let body = str_of(confirmation, "body_text");
    assert!(
        squash(body).contains(
            "Priority lowered: Priority critical needs at least 2 affected customers, and \
             Affected-Customers is 1: escalated as high."
        ),
        "{body}"
    );

    // Two customers meet the gate: critical, every technician alerted.
    ingest(&app, "two.eml", &escalation("c2", &evidence("critical", 2)));
    assert_eq!(str_of(&app.show("SUP-2"), "priority"), "critical");
    let alerts = rows_of_kind(&app, "critical_alert");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(recipients(&alerts[0]), [TECH]);
}

#[test]
fn the_critical_gate_can_be_turned_off_or_changed_explicitly() {
    let off = "[escalation.priority.critical]\nenabled = false\n";
    let app = App::with_config(&config(WITH_ADDRESS, off));
    let check = app.run(&["config", "check"]);
    check.expect_success();
    assert!(
        check
            .stdout
            .contains("critical gate off ([escalation.priority.critical] enabled = false)"),
        "{check}"
    );
    ingest(&app, "one.eml", &escalation("c1", &evidence("critical", 1)));
    assert_eq!(str_of(&app.show("SUP-1"), "priority"), "critical");
    assert_eq!(rows_of_kind(&app, "critical_alert").len(), 1);

    let stricter = "[escalation.priority.critical]\nmin_affected_customers = 5\n\
                    on_violation = \"reject\"\n";
    let app = App::with_config(&config(WITH_ADDRESS, stricter));
    let check = app.run(&["config", "check"]);
    assert!(
        check.stdout.contains(
            "critical gate configured: critical needs 5+ affected customers, else refused"
        ),
        "{check}"
    );
    let refused = ingest(
        &app,
        "three.eml",
        &escalation("c3", &evidence("critical", 3)),
    );
    assert_eq!(str_of(&refused, "decision"), "rejected", "{refused:#}");

    // Off together with values it would ignore is a mistake, on its line.
    let both = "[escalation.priority.critical]\nenabled = false\nmin_affected_customers = 5\n";
    let app = App::with_config_unmigrated(&config(WITH_ADDRESS, both));
    let check = app.run(&["config", "check"]);
    assert_ne!(check.code, Some(0), "{check}");
    assert!(
        check
            .output()
            .contains("enabled = false turns the gate off"),
        "{check}"
    );
}

#[test]
fn alerted_technicians_are_participants_and_get_the_critical_resolution() {
    let app = App::with_config(&config(WITH_ADDRESS, ""));
    // A critical escalation alerts the technician, who is then involved in the ticket.
    ingest(&app, "two.eml", &escalation("c2", &evidence("critical", 3)));
    let people = participants(&app, "SUP-1");
    assert!(
        people.contains(&(TECH.to_string(), "technician".to_string())),
        "{people:?}"
    );
    // The technician answers the alert: a participant now, the mail is stored on the ticket
    // unflagged (before, a technician was a stranger to the ticket they were paged about).
    let alert = rows_of_kind(&app, "critical_alert").remove(0);
    let reply = format!(
        "From: On Call <{TECH}>\r\nTo: support@example.test\r\nSubject: Re: [SUP-1] no mail\r\n\
         Date: Mon, 16 Nov 2026 09:30:00 +0100\r\nMessage-ID: <tech-1@ops.example.test>\r\n\
         In-Reply-To: <{}>\r\n\r\nLooking at the MX now.\r\n",
        str_of(&alert, "message_id")
    );
    let path = app.write_file("inbox/tech.eml", reply.as_bytes());
    let threaded = app.ok_json(&["ingest", path.to_str().unwrap(), "--json"]);
    assert_eq!(str_of(&threaded, "decision"), "threaded", "{threaded:#}");
    assert_eq!(ticket_of(&threaded).as_deref(), Some("SUP-1"));
    assert!(
        !str_of(&threaded, "reason").contains("non-participant"),
        "{threaded:#}"
    );
    app.run(&[
        "tickets",
        "set-status",
        "SUP-1",
        "resolved",
        "--note",
        "mail flow restored, test message received",
    ])
    .expect_success();
    let resolution = rows_of_kind(&app, "critical_resolution");
    let all: Vec<String> = resolution.iter().flat_map(recipients).collect();
    assert!(all.contains(&TECH.to_string()), "{resolution:#?}");
    assert!(
        all.contains(&"jane@acme.test".to_string()),
        "{resolution:#?}"
    );

    // The same through `tickets set-priority critical` on an ordinary ticket.
    ingest(&app, "high.eml", &escalation("h1", &evidence("high", 1)));
    assert!(participants(&app, "SUP-2").iter().all(|(a, _)| a != TECH));
    app.run(&["tickets", "set-priority", "SUP-2", "critical"])
        .expect_success();
    assert!(
        participants(&app, "SUP-2").contains(&(TECH.to_string(), "technician".to_string())),
        "{:?}",
        participants(&app, "SUP-2")
    );
    app.run(&[
        "tickets",
        "set-status",
        "SUP-2",
        "resolved",
        "--note",
        "verified",
    ])
    .expect_success();
    let resolution = rows_of_kind(&app, "critical_resolution");
    let for_two: Vec<String> = resolution
        .iter()
        .filter(|r| r["ticket_id"] == 2)
        .flat_map(recipients)
        .collect();
    assert!(for_two.contains(&TECH.to_string()), "{resolution:#?}");
}

#[test]
fn placeholder_evidence_is_refused_as_a_placeholder() {
    let app = App::with_config(&config(WITH_ADDRESS, ""));
    let mail = escalation(
        "p1",
        "Category: email\r\nError: n/a\r\nSteps-Taken: -\r\nPriority: high\r\n",
    );
    let path = app.write_file("inbox/placeholder.eml", &mail);
    let report = app.ok_json(&["escalations", "check", path.to_str().unwrap(), "--json"]);
    assert_eq!(str_of(&report, "verdict"), "reject", "{report:#}");
    let messages: Vec<&str> = items(&report, "problems")
        .iter()
        .map(|p| str_of(p, "message"))
        .collect();
    assert_eq!(
        messages,
        [
            "Error is a placeholder (\"n/a\"), which says nothing, so it counts as missing.",
            "Steps-Taken is a placeholder (\"-\"), which says nothing, so it counts as missing."
        ],
        "{report:#}"
    );
    // Ingested, the refusal mailed to tier 1 says so too.
    ingest(&app, "placeholder.eml", &mail);
    let refusal = &rows_of_kind(&app, "escalation_refused")[0];
    assert_eq!(refusal["status"], "pending");
    let body = str_of(refusal, "body_text");
    assert!(body.contains("Error is a placeholder (\"n/a\")"), "{body}");
    assert!(
        !body.contains("Error: n/a"),
        "the block to copy keeps the placeholder: {body}"
    );
}

/// A technician who writes to a ticket they were never alerted about is involved too, once our
/// receiving server authenticates them: a participant with the technician role, their mail
/// stored unflagged. Without that proof the address is a claim, and the mail is flagged.
#[test]
fn a_technician_who_writes_to_a_ticket_is_involved_when_authenticated() {
    let trusted = "[security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n";
    let app = App::with_config(&config(WITH_ADDRESS, trusted));
    ingest(&app, "high.eml", &escalation("h1", &evidence("high", 1)));
    assert!(participants(&app, "SUP-1").iter().all(|(a, _)| a != TECH));
    let from_tech = |id: &str, auth: &str| {
        format!(
            "{auth}From: On call <{TECH}>\r\nTo: support@example.test\r\nSubject: Re: no mail\r\n\
             Date: Mon, 16 Nov 2026 10:00:00 +0100\r\nMessage-ID: <{id}@ops.example.test>\r\n\
             In-Reply-To: <h1@tier1.example.test>\r\n\r\nLooking at the MX now.\r\n"
        )
        .into_bytes()
    };

    let claimed = app.ingest_bytes("claim.eml", &from_tech("t1", ""));
    assert!(
        str_of(&claimed, "reason").contains("non-participant"),
        "{claimed:#}"
    );
    assert!(participants(&app, "SUP-1").iter().all(|(a, _)| a != TECH));

    let proven = app.ingest_bytes(
        "proven.eml",
        &from_tech(
            "t2",
            "Authentication-Results: mx.example.test; dmarc=pass header.from=ops.example.test\r\n",
        ),
    );
    assert_eq!(str_of(&proven, "decision"), "threaded", "{proven:#}");
    assert!(
        str_of(&proven, "reason").contains(&format!("technician {TECH} authenticated")),
        "{proven:#}"
    );
    assert!(
        participants(&app, "SUP-1").contains(&(TECH.to_string(), "technician".to_string())),
        "{:?}",
        participants(&app, "SUP-1")
    );
    let show = app.show("SUP-1");
    let flags: Vec<&Value> = items(&show, "messages")
        .iter()
        .map(|m| &m["flag"])
        .collect();
    assert_eq!(flags.last(), Some(&&Value::Null), "{show:#}");
}
