//! Monitoring alerts (issue 14, SPEC 7) through the real binary: real Nagios, Icinga 2, Zabbix
//! and Alertmanager mails (`fixtures/alerts/`, written from each tool's default notification
//! template) through `ingest`, `import` (problem, repeat and recovery in one batch) and the IMAP
//! stack (delivered over SMTP into Dovecot, polled by `mailgate run`): a problem opens a critical
//! ticket and the technicians' alert reaches their INBOX, a repeat threads onto it, a recovery
//! resolves it; the monitoring system is never mailed; an alert from a sender not in
//! `[[alerts]]`, or from a configured sender that is not authenticated, opens nothing.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const CONFIG: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"

[notify]
agents = ["*@agents.example.test"]
technicians = ["oncall@example.test", "night@example.test"]

[security]
trusted_authserv_ids = ["mx.example.test"]

[[alerts]]
name = "nagios"
senders = ["nagios@monitor.example.test", "icinga@monitor.example.test"]
format = "nagios"

[[alerts]]
name = "zabbix"
senders = ["zabbix@monitor.example.test"]
format = "zabbix"

[[alerts]]
name = "prometheus"
senders = ["alertmanager@monitor.example.test"]
format = "alertmanager"
on_recovery = "resolve"
"#;

/// The monitoring addresses of the fixtures: never a recipient of anything.
const MONITORS: [&str; 5] = [
    "nagios@monitor.example.test",
    "icinga@monitor.example.test",
    "zabbix@monitor.example.test",
    "alertmanager@monitor.example.test",
    "nagios@elsewhere.example",
];

fn app() -> App {
    let app = App::with_config_unmigrated(CONFIG);
    app.write_file("hmac.key", b"test-secret-for-alerts");
    app.run(&["migrate"]).expect_success();
    app
}

fn alert_fixture(name: &str) -> Vec<u8> {
    let path = manifest_dir().join("fixtures/alerts").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[track_caller]
fn ingest(app: &App, name: &str) -> Value {
    app.ingest_bytes(name, &alert_fixture(name))
}

fn ticket(app: &App, reference: &str) -> Value {
    ticket_in(&app.tickets(), reference).clone()
}

/// No outbox row goes to a monitoring system.
#[track_caller]
fn monitors_never_mailed(app: &App) {
    for row in outbox_table(app) {
        for rcpt in row["recipients"].as_array().unwrap() {
            let rcpt = rcpt.as_str().unwrap();
            assert!(
                !MONITORS.contains(&rcpt),
                "{rcpt} got a {}: {row:#}",
                row["kind"]
            );
        }
    }
}

fn critical_alerts(app: &App) -> Vec<Value> {
    outbox_table(app)
        .into_iter()
        .filter(|r| r["kind"] == "critical_alert")
        .collect()
}

/// Problem, repeat and recovery of one tool: one critical ticket, alerted, resolved.
#[track_caller]
fn problem_repeat_recovery(problem: &str, repeat: Option<&str>, recovery: &str, key: &str) {
    let app = app();
    let d = ingest(&app, problem);
    assert_decision(&d, "created", "alert-problem", Some("SUP-1"));
    let reason = str_of(&d, "reason");
    assert!(reason.contains(&format!("key {key}")), "{reason}");
    assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
    let t = ticket(&app, "SUP-1");
    assert_eq!(str_of(&t, "priority"), "critical", "{t:#}");
    assert_eq!(str_of(&t, "status"), "open", "{t:#}");
    // Every technician at once, each alone; nothing else.
    let alerts = critical_alerts(&app);
    let mut paged: Vec<&str> = alerts
        .iter()
        .flat_map(|r| r["recipients"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    paged.sort();
    assert_eq!(
        paged,
        ["night@example.test", "oncall@example.test"],
        "{alerts:#?}"
    );
    assert_eq!(
        outbox_table(&app).len(),
        alerts.len(),
        "only the technicians' alert"
    );
    if let Some(repeat) = repeat {
        let d = ingest(&app, repeat);
        assert_decision(&d, "threaded", "alert-repeat", Some("SUP-1"));
        assert!(
            str_of(&d, "reason").contains(&format!("key {key}")),
            "{d:#}"
        );
    }
    let d = ingest(&app, recovery);
    assert_decision(&d, "threaded", "alert-recovery", Some("SUP-1"));
    assert!(
        str_of(&d, "reason").contains(&format!("key {key}")),
        "{d:#}"
    );
    assert_eq!(str_of(&ticket(&app, "SUP-1"), "status"), "resolved");
    assert_eq!(app.tickets().len(), 1);
    let shown = app.show("SUP-1");
    let messages = items(&shown, "messages");
    assert_eq!(
        messages.len(),
        if repeat.is_some() { 3 } else { 2 },
        "{shown:#}"
    );
    assert_eq!(critical_alerts(&app).len(), alerts.len(), "paged once only");
    // Resolving a critical ticket tells every technician involved (SPEC 6).
    let mut told: Vec<String> = outbox_table(&app)
        .into_iter()
        .filter(|r| r["kind"] == "critical_resolution")
        .flat_map(|r| r["recipients"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    told.sort();
    assert_eq!(told, ["night@example.test", "oncall@example.test"]);
    monitors_never_mailed(&app);
}

#[test]
fn nagios_service_problem_repeat_and_recovery() {
    problem_repeat_recovery(
        "nagios-problem.eml",
        Some("nagios-repeat.eml"),
        "nagios-recovery.eml",
        "db1.example.test/disk /var",
    );
}

#[test]
fn icinga2_problem_and_recovery() {
    problem_repeat_recovery(
        "icinga2-problem.eml",
        None,
        "icinga2-recovery.eml",
        "web2.example.test/http",
    );
}

#[test]
fn zabbix_problem_and_recovery() {
    problem_repeat_recovery(
        "zabbix-problem.eml",
        None,
        "zabbix-recovery.eml",
        "app3.example.test/high cpu utilization (over 90% for 5m)",
    );
}

#[test]
fn alertmanager_firing_and_resolved() {
    problem_repeat_recovery(
        "alertmanager-firing.eml",
        None,
        "alertmanager-resolved.eml",
        "db2.example.test:9187/postgresdown",
    );
}

#[test]
fn a_nagios_host_down_is_critical() {
    let app = app();
    let d = ingest(&app, "nagios-host-down.eml");
    assert_decision(&d, "created", "alert-problem", Some("SUP-1"));
    assert!(
        str_of(&d, "reason").contains("key edge1.example.test:"),
        "{d:#}"
    );
    assert_eq!(str_of(&ticket(&app, "SUP-1"), "priority"), "critical");
    assert_eq!(critical_alerts(&app).len(), 2);
}

#[test]
fn a_warning_that_turns_critical_raises_the_priority_and_pages_once() {
    let app = app();
    let problem = String::from_utf8(alert_fixture("nagios-problem.eml")).unwrap();
    let warning = problem
        .replace("is CRITICAL **", "is WARNING **")
        .replace("State: CRITICAL", "State: WARNING")
        .replace("20260501.nagios.1@", "20260501.nagios.warning@");
    let d = app.ingest_bytes("warning.eml", warning.as_bytes());
    assert_decision(&d, "created", "alert-problem", Some("SUP-1"));
    assert_eq!(str_of(&ticket(&app, "SUP-1"), "priority"), "high");
    assert!(critical_alerts(&app).is_empty());

    let d = ingest(&app, "nagios-problem.eml");
    assert_decision(&d, "threaded", "alert-repeat", Some("SUP-1"));
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("priority raised from high to critical"),
        "{reason}"
    );
    assert_eq!(str_of(&ticket(&app, "SUP-1"), "priority"), "critical");
    assert_eq!(critical_alerts(&app).len(), 2, "each technician, once");
    // A further CRITICAL repeat pages nobody again.
    let d = ingest(&app, "nagios-repeat.eml");
    assert_decision(&d, "threaded", "alert-repeat", Some("SUP-1"));
    assert_eq!(critical_alerts(&app).len(), 2);
    monitors_never_mailed(&app);
}

#[test]
fn a_new_problem_after_the_recovery_opens_a_new_ticket() {
    let app = app();
    for name in ["nagios-problem.eml", "nagios-recovery.eml"] {
        ingest(&app, name);
    }
    let d = ingest(&app, "nagios-repeat.eml");
    assert_decision(&d, "created", "alert-problem", Some("SUP-2"));
    // A recovery with no open ticket is logged only.
    let mut raw = alert_fixture("nagios-recovery.eml");
    let text = String::from_utf8(raw.clone()).unwrap().replace(
        "20260503.nagios.3@monitor.example.test",
        "another.recovery@monitor.example.test",
    );
    raw = text.into_bytes();
    let d = app.ingest_bytes("r2.eml", &raw);
    assert_decision(&d, "threaded", "alert-recovery", Some("SUP-2"));
    let d = app.ingest_bytes(
        "r3.eml",
        text_with_id(&raw, "another.recovery", "third.recovery").as_slice(),
    );
    assert_decision(&d, "ignored", "alert-recovery", None);
}

fn text_with_id(raw: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(raw.to_vec())
        .unwrap()
        .replace(from, to)
        .into_bytes()
}

#[test]
fn problem_repeat_and_recovery_in_one_batch() {
    let app = app();
    for (i, name) in [
        "nagios-problem.eml",
        "nagios-repeat.eml",
        "nagios-recovery.eml",
        "zabbix-problem.eml",
    ]
    .iter()
    .enumerate()
    {
        app.write_file(&format!("batch/{i}-{name}"), &alert_fixture(name));
    }
    let report = app.import(&app.dir().join("batch"), &["--format", "eml"]);
    assert_eq!(u64_of(&report, "created"), 2, "{report:#}");
    let decisions = app.decisions();
    let rules: Vec<&str> = decisions.iter().map(|d| str_of(d, "rule")).collect();
    for rule in ["alert-problem", "alert-repeat", "alert-recovery"] {
        assert!(rules.contains(&rule), "{rules:?}");
    }
    assert_eq!(str_of(&ticket(&app, "SUP-1"), "status"), "resolved");
    assert_eq!(str_of(&ticket(&app, "SUP-2"), "status"), "open");
    // An import notifies no one.
    assert!(outbox_table(&app).is_empty());
}

#[test]
fn an_alert_from_a_sender_not_in_alerts_is_ignored_as_automatic() {
    let app = app();
    let d = ingest(&app, "nagios-stranger.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
    assert!(str_of(&d, "reason").contains("not in [[alerts]]"), "{d:#}");
    assert!(app.tickets().is_empty());
    assert!(outbox_table(&app).is_empty());
}

#[test]
fn a_from_header_alone_pages_nobody() {
    let app = app();
    let d = ingest(&app, "nagios-unauthenticated.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    assert!(str_of(&d, "reason").contains("not authenticated"), "{d:#}");
    assert!(app.tickets().is_empty());
    assert!(outbox_table(&app).is_empty());
}

#[test]
fn agents_answering_an_alert_ticket_mail_no_monitoring_system() {
    let app = app();
    ingest(&app, "nagios-problem.eml");
    app.run(&[
        "tickets",
        "reply",
        "SUP-1",
        "--body",
        "Looking at the disk now.",
    ])
    .expect_success();
    app.run(&[
        "tickets",
        "set-status",
        "SUP-1",
        "resolved",
        "--note",
        "Rotated the logs, 40% free on /var.",
    ])
    .expect_success();
    assert_eq!(str_of(&ticket(&app, "SUP-1"), "status"), "resolved");
    monitors_never_mailed(&app);
}

#[test]
fn config_check_names_each_mistake_of_alerts() {
    let bad = "[security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n\n\
               [[alerts]]\nname = \"a\"\nsenders = [\"[nagios\"]\nformat = \"nagois\"\n\n\
               [[alerts]]\nname = \"b\"\nsenders = [\"x@y.test\"]\nformat = \"custom\"\n\
               subject_regex = '(?P<host>\\S+) (?P<state>\\S+)'\n\n\
               [[alerts]]\nname = \"c\"\nsenders = [\"x@y.test\"]\nformat = \"custom\"\n\
               body_regex = 'no groups here'\n";
    let app = App::with_config_unmigrated(bad);
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    for (line, what) in [
        (6, "invalid address pattern"),
        (7, "unknown format \"nagois\""),
        (12, "(?P<service>"),
        (19, "names none of the groups"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!(".toml:{line}:")) && l.contains(what)),
            "line {line} ({what}) not named:\n{out}"
        );
    }
    let risky = "[[alerts]]\nname = \"n\"\nsenders = [\"nagios@monitor.example.test\"]\n\
                 format = \"nagios\"\nrequire_authentication = false\n";
    app.rewrite_config(risky);
    let run = app.run(&["config", "check"]);
    run.expect_success();
    let out = run.output();
    assert!(
        out.contains("warning: alerts entry \"n\" has require_authentication = false"),
        "{out}"
    );
}

/// Through the real stack: Nagios mail delivered over SMTP into Dovecot, polled by
/// `mailgate run`; the technician's alert is delivered to their INBOX.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nagios_alerts_through_the_imap_stack() {
    const ROUND_TRIP: Duration = Duration::from_secs(60);
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("alerts-support", |m| m);
    let tech = stack.new_user("alerts-tech");
    let support = test.user.address.clone();
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let tickets = format!("support_address = {}\n", s(&format!("Support <{support}>")));
    let extra = stack_sender_config(
        stack.smtp_port,
        &tech.address,
        "[security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n\n\
         [[alerts]]\nname = \"nagios\"\nsenders = [\"nagios@monitor.example.test\"]\n\
         format = \"nagios\"\n",
    );
    let mailbox = MailboxToml::for_user(stack, &test.user);
    test.configure_with(std::slice::from_ref(&mailbox), &tickets, &extra);
    let mut run = test.start_connected().await;
    let pid = std::process::id();

    let steps = [
        ("nagios-problem.eml", "created", "alert-problem"),
        ("nagios-repeat.eml", "threaded", "alert-repeat"),
        ("nagios-recovery.eml", "threaded", "alert-recovery"),
        ("nagios-stranger.eml", "ignored", "unthreaded"),
    ];
    for (i, (name, decision, rule)) in steps.iter().enumerate() {
        // Fresh Message-IDs: the stack's mailboxes outlive this run.
        let raw = String::from_utf8(alert_fixture(name))
            .unwrap()
            .replace(
                "@monitor.example.test>",
                &format!(".{pid}@monitor.example.test>"),
            )
            .replace("@elsewhere.example>", &format!(".{pid}@elsewhere.example>"));
        stack
            .send_smtp("nagios@monitor.example.test", &[&support], raw.as_bytes())
            .await
            .unwrap();
        let decisions = test.wait_decisions(i + 1, ROUND_TRIP).await;
        let d = decisions
            .iter()
            .find(|d| str_of(d, "rule") == *rule)
            .unwrap_or_else(|| panic!("{name}: no {rule} decision: {decisions:#?}"));
        assert_eq!(str_of(d, "decision"), *decision, "{d:#}");
        if *decision != "ignored" {
            assert_eq!(ticket_of(d).as_deref(), Some("SUP-1"), "{d:#}");
        }
        if i == 0 {
            let t = ticket_in(&test.tickets(), "SUP-1").clone();
            assert_eq!(str_of(&t, "priority"), "critical", "{t:#}");
        }
    }
    // The alert of the problem, and the resolution of the recovery: not one per repeat.
    tech.wait_for_messages("INBOX", 2, ROUND_TRIP).await;
    let mails = tech.fetch_all("INBOX").await;
    assert_eq!(
        mails.len(),
        2,
        "the alert and the resolution, not one per repeat"
    );
    for (_, mail) in &mails {
        assert!(
            mail_header(mail, "Subject").contains("[SUP-1]"),
            "{}",
            mail_header(mail, "Subject")
        );
    }
    assert_eq!(
        str_of(ticket_in(&test.tickets(), "SUP-1"), "status"),
        "resolved"
    );
    assert_eq!(test.tickets().len(), 1);
    // `outbox list` (the test's runtime may not block on the database itself).
    let rows = test.app.ok_json(&["outbox", "list", "--json"]);
    for row in rows.as_array().unwrap() {
        for rcpt in row["recipients"].as_array().unwrap() {
            assert!(!MONITORS.contains(&rcpt.as_str().unwrap()), "{row:#}");
        }
    }
    let mut kinds: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["critical_alert", "critical_resolution"],
        "only the technician's alert and resolution: {rows:#}"
    );
    run.stop(Duration::from_secs(30)).await;
}
