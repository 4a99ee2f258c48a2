//! Assignment (issue 14, SPEC 7) through the real binary: `tickets assign REF ADDRESS` to an
//! agent or technician (who becomes a participant with that role and is told by mail),
//! anyone else refused with the allowed list, `--none`, `tickets list --assignee`, the
//! `assignee` field of `tickets list --json` and `tickets show --json`, and
//! `notify.assign_on_first_reply` for agents' mail relayed by mail.

use serde_json::Value;

use crate::support::{App, array, outbox_table, str_of};

const CONFIG: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"

[notify]
agents = ["*@agents.example.test"]
technicians = ["oncall@example.test"]

[security]
trusted_authserv_ids = ["mx.example.test"]
"#;

/// An app with CONFIG, `notify_extra` added to its `[notify]` table.
fn app_with(notify_extra: &str) -> App {
    let config = CONFIG.replace(
        "technicians = [\"oncall@example.test\"]\n",
        &format!("technicians = [\"oncall@example.test\"]\n{notify_extra}"),
    );
    let app = App::with_config_unmigrated(&config);
    app.write_file("hmac.key", b"test-secret-for-assignment");
    app.run(&["migrate"]).expect_success();
    app
}

fn mail(from: &str, subject: &str, id: &str, headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 04 Mar 2024 09:15:00 +0000\r\n{headers}Content-Type: text/plain\r\n\r\n\
         Hello,\r\nthis is {id}.\r\n"
    )
    .into_bytes()
}

/// Two tickets, SUP-1 and SUP-2, from customers.
fn two_tickets(app: &App) {
    for (n, id) in [(1, "c1@acme.test"), (2, "c2@acme.test")] {
        let d = app.ingest_bytes(
            &format!("c{n}.eml"),
            &mail("Jane <jane@acme.test>", &format!("Printer {n}"), id, ""),
        );
        assert_eq!(str_of(&d, "decision"), "created", "{d}");
    }
}

fn assignments(app: &App) -> Vec<Value> {
    outbox_table(app)
        .into_iter()
        .filter(|r| r["kind"] == "assignment")
        .collect()
}

fn participant_role(app: &App, reference: &str, address: &str) -> Option<String> {
    array(app.show(reference)["participants"].clone(), "participants")
        .into_iter()
        .find(|p| p["address"] == address)
        .map(|p| str_of(&p, "role").to_string())
}

#[test]
fn an_agent_or_technician_is_assigned_told_and_listed() {
    let app = app_with("");
    two_tickets(&app);

    let out = app
        .run(&[
            "tickets",
            "assign",
            "SUP-1",
            "Ann@Agents.example.test",
            "--note",
            "She prefers calls before noon.",
            "--json",
        ])
        .expect_success()
        .json();
    assert_eq!(out["ref"], "SUP-1");
    // Addresses are stored as parsed (lower case).
    assert_eq!(out["assignee"], "ann@agents.example.test");
    assert_eq!(out["previous"], Value::Null);
    let rows = assignments(&app);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(
        rows[0]["recipients"],
        serde_json::json!(["ann@agents.example.test"])
    );
    assert_eq!(rows[0]["status"], "pending");
    let text = str_of(&rows[0], "body_text");
    assert!(text.starts_with("Assigned to you: SUP-1"), "{text}");
    assert!(text.contains("She prefers calls before noon."), "{text}");
    assert_eq!(
        participant_role(&app, "SUP-1", "ann@agents.example.test").as_deref(),
        Some("agent")
    );

    // A technician, on the other ticket.
    app.run(&["tickets", "assign", "SUP-2", "oncall@example.test"])
        .expect_success();
    assert_eq!(
        participant_role(&app, "SUP-2", "oncall@example.test").as_deref(),
        Some("technician")
    );
    assert_eq!(assignments(&app).len(), 2);

    // The list and show carry the assignee; --assignee filters (without case).
    let list = app.ok_json(&["tickets", "list", "--json"]);
    let assignees: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["assignee"])
        .collect();
    assert_eq!(
        assignees,
        [
            &Value::from("ann@agents.example.test"),
            &Value::from("oncall@example.test")
        ]
    );
    let mine = app.ok_json(&[
        "tickets",
        "list",
        "--assignee",
        "ANN@agents.example.test",
        "--json",
    ]);
    let refs: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_of(t, "ref"))
        .collect();
    assert_eq!(refs, ["SUP-1"]);
    assert_eq!(app.show("SUP-2")["assignee"], "oncall@example.test");
    let human = app
        .run(&["tickets", "show", "SUP-2"])
        .expect_success()
        .output();
    assert!(human.contains("assigned to oncall@example.test"), "{human}");

    // Reassigning to the same person is refused; --none unassigns and tells no one.
    let again = app.run(&["tickets", "assign", "SUP-2", "oncall@example.test"]);
    again.expect_code(1);
    assert!(
        again
            .stderr
            .contains("SUP-2 is already assigned to oncall@example.test"),
        "{again}"
    );
    app.run(&["tickets", "assign", "SUP-2", "--none"])
        .expect_success();
    assert_eq!(app.show("SUP-2")["assignee"], Value::Null);
    assert_eq!(assignments(&app).len(), 2);
    let none = app.ok_json(&[
        "tickets",
        "list",
        "--assignee",
        "oncall@example.test",
        "--json",
    ]);
    assert_eq!(none, serde_json::json!([]));
}

#[test]
fn anyone_but_staff_is_refused_with_the_allowed_list() {
    let app = app_with("");
    two_tickets(&app);
    let run = app.run(&["tickets", "assign", "SUP-1", "jane@acme.test"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "jane@acme.test is neither an agent nor a technician: a ticket is assigned to an \
             address matching notify.agents (*@agents.example.test) or one of \
             notify.technicians (oncall@example.test)"
        ),
        "{run}"
    );
    assert_eq!(app.show("SUP-1")["assignee"], Value::Null);
    assert!(assignments(&app).is_empty());
    // Neither an address nor --none: bad usage.
    app.run(&["tickets", "assign", "SUP-1"]).expect_code(2);
    app.run(&["tickets", "assign", "SUP-9", "oncall@example.test"])
        .expect_code(1);
}

/// An authenticated agent answering the customer by mail.
fn agent_reply(app: &App, id: &str) {
    let d = app.ingest_bytes(
        &format!("{id}.eml"),
        &mail(
            "Ann Smith <ann.smith@agents.example.test>",
            "Re: [SUP-1] Printer 1",
            id,
            "Authentication-Results: mx.example.test; dkim=pass header.d=agents.example.test\r\n\
             In-Reply-To: <c1@acme.test>\r\n",
        ),
    );
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
}

#[test]
fn an_agents_relayed_reply_assigns_only_when_configured() {
    let app = app_with("");
    two_tickets(&app);
    agent_reply(&app, "a1@agents.example.test");
    assert!(
        outbox_table(&app)
            .iter()
            .any(|r| r["kind"] == "agent_reply"),
        "the reply is relayed"
    );
    assert_eq!(app.show("SUP-1")["assignee"], Value::Null);

    let app = app_with("assign_on_first_reply = true\n");
    two_tickets(&app);
    agent_reply(&app, "a1@agents.example.test");
    assert_eq!(
        app.show("SUP-1")["assignee"],
        "ann.smith@agents.example.test"
    );
    // Once assigned, another agent's reply does not take the ticket over.
    app.run(&["tickets", "assign", "SUP-1", "oncall@example.test"])
        .expect_success();
    agent_reply(&app, "a2@agents.example.test");
    assert_eq!(app.show("SUP-1")["assignee"], "oncall@example.test");
}
