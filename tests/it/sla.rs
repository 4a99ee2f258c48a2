//! SLA pings (issue 14, SPEC 7) through the real binary, with the clock injected by
//! `sla tick --now`: a pending ticket's one prompt (the agent's note, "blocked"), a customer
//! reply that resets the clock, the auto-close with its notice, open reminders to the assignee
//! once per interval, passes repeated, run at once by several processes, and run with a clock
//! that jumped back, and `tickets show` listing the pings sent.

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

[sla]
open_update_every = "24h"
critical_update_every = "2h"
pending_reminder_after = "3d"
auto_close_pending_after = "7d"
"#;

fn app() -> App {
    let app = App::with_config_unmigrated(CONFIG);
    app.write_file("hmac.key", b"test-secret-for-sla");
    app.run(&["migrate"]).expect_success();
    app
}

fn mail(subject: &str, id: &str, headers: &str) -> Vec<u8> {
    format!(
        "From: Jane <jane@acme.test>\r\nTo: support@example.test\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: Mon, 04 Mar 2024 09:15:00 +0000\r\n{headers}\
         Content-Type: text/plain\r\n\r\nHello,\r\nthis is {id}.\r\n"
    )
    .into_bytes()
}

fn new_ticket(app: &App) {
    let d = app.ingest_bytes("c1.eml", &mail("Printer jams", "c1@acme.test", ""));
    assert_eq!(str_of(&d, "decision"), "created", "{d}");
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339()
}

fn secs(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .timestamp()
}

/// `sla status --json`'s row of `reference`: (next kind, due time).
fn next_ping(app: &App, reference: &str) -> (String, i64) {
    let rows = array(app.ok_json(&["sla", "status", "--json"]), "sla status");
    let row = rows
        .iter()
        .find(|r| r["ref"] == reference)
        .unwrap_or_else(|| panic!("{reference} in {rows:#?}"));
    (str_of(row, "next").to_string(), secs(str_of(row, "due_at")))
}

/// One pass as of `at`: the refs of (reminders, prompts, closed).
fn tick(app: &App, at: i64) -> (Vec<String>, Vec<String>, Vec<String>) {
    let out = app.ok_json(&["sla", "tick", "--now", &rfc3339(at), "--json"]);
    let refs = |key: &str| -> Vec<String> {
        array(out[key].clone(), key)
            .iter()
            .map(|q| str_of(q, "ref").to_string())
            .collect()
    };
    (refs("reminders"), refs("prompts"), refs("closed"))
}

fn rows_of(app: &App, kind: &str) -> Vec<Value> {
    outbox_table(app)
        .into_iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

const NONE: (Vec<String>, Vec<String>, Vec<String>) = (Vec::new(), Vec::new(), Vec::new());

fn one(r: &str) -> Vec<String> {
    vec![r.to_string()]
}

#[test]
fn a_quiet_pending_ticket_gets_one_prompt_then_is_closed_with_a_notice() {
    let app = app();
    new_ticket(&app);
    app.run(&[
        "tickets",
        "set-status",
        "SUP-1",
        "pending",
        "--note",
        "Please send us the printer's serial number.",
    ])
    .expect_success();
    let (kind, due) = next_ping(&app, "SUP-1");
    assert_eq!(kind, "pending_prompt");

    // Not before it is due, nor with a clock that jumped back.
    assert_eq!(tick(&app, due - 60), NONE);
    assert_eq!(tick(&app, due - 86_400), NONE);
    // Due: exactly one prompt, however often the pass runs.
    assert_eq!(tick(&app, due + 60), (vec![], one("SUP-1"), vec![]));
    assert_eq!(tick(&app, due + 120), NONE);
    assert_eq!(tick(&app, due + 60), NONE);
    let prompts = rows_of(&app, "pending_reminder");
    assert_eq!(prompts.len(), 1, "{prompts:#?}");
    assert_eq!(
        prompts[0]["recipients"],
        serde_json::json!(["jane@acme.test"])
    );
    let text = str_of(&prompts[0], "body_text");
    assert!(
        text.contains("Please send us the printer's serial number."),
        "{text}"
    );
    assert!(text.contains("blocked until you answer"), "{text}");

    // Then the auto-close, once, with a notice that says how to reopen.
    let (kind, close_at) = next_ping(&app, "SUP-1");
    assert_eq!(kind, "auto_close");
    assert!(close_at >= due + 4 * 86_400 - 60, "{close_at} {due}");
    assert_eq!(tick(&app, close_at - 60), NONE);
    assert_eq!(tick(&app, close_at), (vec![], vec![], one("SUP-1")));
    assert_eq!(tick(&app, close_at + 3600), NONE);
    let show = app.show("SUP-1");
    assert_eq!(show["status"], "resolved", "{show:#}");
    let notices = rows_of(&app, "auto_close");
    assert_eq!(notices.len(), 1, "{notices:#?}");
    let text = str_of(&notices[0], "body_text");
    assert!(text.contains("simply reply to this mail"), "{text}");

    // `tickets show` lists the pings sent, in both forms.
    let pings = array(show["sla_pings"].clone(), "sla_pings");
    let kinds: Vec<&str> = pings.iter().map(|p| str_of(p, "kind")).collect();
    assert_eq!(kinds, ["pending_prompt", "auto_close"], "{pings:#?}");
    let human = app
        .run(&["tickets", "show", "SUP-1"])
        .expect_success()
        .output();
    assert!(human.contains("SLA pings (2):"), "{human}");

    // A resolved ticket is left alone.
    assert_eq!(tick(&app, close_at + 30 * 86_400), NONE);
}

#[test]
fn without_a_note_the_prompt_quotes_the_agents_last_reply() {
    let app = app();
    new_ticket(&app);
    app.run(&[
        "tickets",
        "reply",
        "SUP-1",
        "--body",
        "Which firmware version does the printer show?",
    ])
    .expect_success();
    app.run(&["tickets", "set-status", "SUP-1", "pending"])
        .expect_success();
    let (_, due) = next_ping(&app, "SUP-1");
    assert_eq!(tick(&app, due), (vec![], one("SUP-1"), vec![]));
    let prompts = rows_of(&app, "pending_reminder");
    let text = str_of(&prompts[0], "body_text");
    assert!(
        text.contains("> Which firmware version does the printer show?"),
        "{text}"
    );
}

#[test]
fn a_customer_reply_resets_the_clock_and_reopens() {
    let app = app();
    new_ticket(&app);
    app.run(&["tickets", "set-status", "SUP-1", "pending"])
        .expect_success();
    let (_, due) = next_ping(&app, "SUP-1");
    let d = app.ingest_bytes(
        "reply.eml",
        &mail(
            "Re: [SUP-1] Printer jams",
            "c2@acme.test",
            "In-Reply-To: <c1@acme.test>\r\n",
        ),
    );
    assert_eq!(str_of(&d, "ticket"), "SUP-1", "{d}");
    assert_eq!(app.show("SUP-1")["status"], "open");
    let (kind, _) = next_ping(&app, "SUP-1");
    assert_eq!(kind, "open_reminder");
    // No prompt is due any more when the pending one would have been.
    let (_, prompts, closed) = tick(&app, due + 60);
    assert!(prompts.is_empty() && closed.is_empty());
    assert!(rows_of(&app, "pending_reminder").is_empty());
}

#[test]
fn an_open_ticket_reminds_its_assignee_once_per_interval() {
    let app = app();
    new_ticket(&app);
    app.run(&["tickets", "assign", "SUP-1", "ann@agents.example.test"])
        .expect_success();
    let (kind, due) = next_ping(&app, "SUP-1");
    assert_eq!(kind, "open_reminder");

    assert_eq!(tick(&app, due - 60), NONE);
    assert_eq!(tick(&app, due + 60), (one("SUP-1"), vec![], vec![]));
    assert_eq!(tick(&app, due + 3600), NONE);
    // The next interval: the next reminder, and only the latest one when passes were missed.
    assert_eq!(
        tick(&app, due + 3 * 86_400 + 60),
        (one("SUP-1"), vec![], vec![])
    );
    assert_eq!(tick(&app, due + 3 * 86_400 + 120), NONE);
    let reminders = rows_of(&app, "sla_reminder");
    assert_eq!(reminders.len(), 2, "{reminders:#?}");
    for r in &reminders {
        assert_eq!(
            r["recipients"],
            serde_json::json!(["ann@agents.example.test"])
        );
    }
    let text = str_of(&reminders[0], "body_text");
    assert!(text.contains("SUP-1"), "{text}");
    // Never to the customer.
    assert!(!outbox_table(&app).iter().any(|r| {
        r["kind"] == "sla_reminder" && r["recipients"].to_string().contains("jane@acme.test")
    }));

    // Critical tickets go by the shorter interval; unassigned ones remind the technicians.
    let d = app.ingest_bytes("c3.eml", &mail("Line down", "c3@acme.test", ""));
    assert_eq!(str_of(&d, "ticket"), "SUP-2", "{d}");
    app.run(&["tickets", "set-priority", "SUP-2", "critical"])
        .expect_success();
    let (_, due2) = next_ping(&app, "SUP-2");
    let (_, due1) = next_ping(&app, "SUP-1");
    assert!(due2 < due1, "{due2} {due1}");
    let (reminders, _, _) = tick(&app, due2);
    assert_eq!(reminders, one("SUP-2"));
    let last = rows_of(&app, "sla_reminder").pop().unwrap();
    assert_eq!(
        last["recipients"],
        serde_json::json!(["oncall@example.test"])
    );
}

#[test]
fn passes_run_at_once_by_several_processes_queue_each_ping_once() {
    let app = app();
    for n in 1..=5 {
        let d = app.ingest_bytes(
            &format!("c{n}.eml"),
            &mail(&format!("Printer {n}"), &format!("c{n}@acme.test"), ""),
        );
        assert_eq!(str_of(&d, "decision"), "created", "{d}");
        app.run(&["tickets", "set-status", &format!("SUP-{n}"), "pending"])
            .expect_success();
    }
    let (_, due) = next_ping(&app, "SUP-5");
    let at = rfc3339(due + 60);
    let children: Vec<_> = (0..4)
        .map(|_| {
            app.command(&["sla", "tick", "--now", &at, "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut prompted = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        for q in array(json["prompts"].clone(), "prompts") {
            prompted.push(str_of(&q, "ref").to_string());
        }
    }
    prompted.sort();
    assert_eq!(prompted, ["SUP-1", "SUP-2", "SUP-3", "SUP-4", "SUP-5"]);
    assert_eq!(rows_of(&app, "pending_reminder").len(), 5);
}

#[test]
fn without_sla_config_a_tick_says_so_and_queues_nothing() {
    let app = App::with_config("[tickets]\nprefix = \"SUP\"\n");
    app.ingest_bytes("c1.eml", &mail("Printer", "c1@acme.test", ""));
    let run = app.run(&["sla", "tick", "--json"]);
    run.expect_success();
    assert!(run.stderr.contains("no SLA pings are configured"), "{run}");
    assert_eq!(
        run.json(),
        serde_json::json!({"reminders": [], "prompts": [], "closed": []})
    );
    let bad = app.run(&["sla", "tick", "--now", "tomorrow"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("RFC 3339"), "{bad}");
}

/// `mailgate run` makes the passes itself (every `sla.pass_every`) and its sender delivers
/// the reminder: through the real stack into the technician's INBOX, once however many passes
/// run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_makes_the_passes_and_delivers_the_reminder_once() {
    use crate::support::{MailStack, MailboxToml, PollerTest, mail_header, stack_sender_config};
    use std::time::Duration;
    const ROUND_TRIP: Duration = Duration::from_secs(60);
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("sla-support", |m| m);
    let tech = stack.new_user("sla-tech");
    let support = test.user.address.clone();
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let tickets = format!("support_address = {}\n", s(&format!("Support <{support}>")));
    let extra = stack_sender_config(
        stack.smtp_port,
        &tech.address,
        "[sla]\nopen_update_every = \"1h\"\npass_every = \"1s\"\n",
    );
    let mailbox = MailboxToml::for_user(stack, &test.user);
    test.configure_with(std::slice::from_ref(&mailbox), &tickets, &extra);
    let mut run = test.start_connected().await;

    let customer = "customer@acme.test";
    let raw = format!(
        "From: Jane <{customer}>\r\nTo: {support}\r\nSubject: Printer jams\r\n\
         Message-ID: <sla-run.{}@acme.test>\r\nDate: Mon, 04 Mar 2024 09:15:00 +0000\r\n\
         Content-Type: text/plain\r\n\r\nHello,\r\nthe printer jams.\r\n",
        std::process::id()
    );
    stack
        .send_smtp(customer, &[&support], raw.as_bytes())
        .await
        .unwrap();
    test.wait_decisions(1, ROUND_TRIP).await;
    // Two hours without an answer: the next pass finds the reminder due.
    let url = test.app.db_url();
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE tickets SET status_since = status_since - 7200 WHERE id = 1")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    tech.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    // Several more passes run meanwhile: still one reminder.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = tech.fetch_all("INBOX").await;
    assert_eq!(mails.len(), 1, "one reminder, however many passes");
    let subject = mail_header(&mails[0].1, "Subject");
    assert!(subject.contains("[SUP-1]"), "{subject}");
    let pings = array(test.app.show("SUP-1")["sla_pings"].clone(), "sla_pings");
    assert_eq!(pings.len(), 1, "{pings:#?}");
    assert_eq!(str_of(&pings[0], "kind"), "open_reminder");
    run.stop(Duration::from_secs(30)).await;
}
