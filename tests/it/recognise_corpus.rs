//! Bounces and reports recognised by what they say (issue 13), through the real binary:
//!
//! - the generated corpus `fixtures/recognise/` (334 bounces and reports in 54 formats, 101
//!   people's mails that look like bounces) imported into a scratch database: the confusion
//!   table (expected class × got class) is printed, each side must be ≥ 99% right, no bounce
//!   or report is quarantined, every person's mail opens a ticket, and every machine decision
//!   names the signal that recognised it;
//! - a feedback report (ARF) and a DSN from `MAILER-DAEMON <>` about our acknowledgement are
//!   stored on its ticket (the DSN marks the recipient bouncing, the report marks nobody);
//! - a person's mail without any sender address is still quarantined.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::support::{App, array, manifest_dir, str_of};

/// One row of `fixtures/recognise/expected.tsv`.
struct Expected {
    class: String,
    format: String,
}

fn expected() -> HashMap<String, Expected> {
    let root = manifest_dir().join("fixtures/recognise");
    let table = std::fs::read_to_string(root.join("expected.tsv")).unwrap();
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let path = root.join(cols[0]).to_str().unwrap().to_string();
            let e = Expected {
                class: cols[1].to_string(),
                format: cols[2].to_string(),
            };
            (path, e)
        })
        .collect()
}

/// Signals a machine decision's reason names (SPEC 2.3, issue 13).
const SIGNALS: [&str; 7] = [
    "DSN",
    "ARF",
    "SES",
    "X-Failed-Recipients",
    "vendor prose: ",
    "sent by ",
    "no sender address",
];

#[test]
fn the_recognise_corpus_gives_the_expected_class_for_each_mail() {
    let expected = expected();
    let app = App::new();
    for class in ["bounce", "report", "person"] {
        let dir = manifest_dir().join("fixtures/recognise/mail").join(class);
        let report = app.import(&dir, &["--format", "eml"]);
        assert_eq!(report["errors"], 0, "{report:#}");
    }
    let decisions = app.decisions();
    assert_eq!(decisions.len(), expected.len(), "one decision per mail");

    let mut table: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut formats = BTreeSet::new();
    for d in &decisions {
        let source = str_of(d, "source");
        let e = expected
            .get(source)
            .unwrap_or_else(|| panic!("{source} is not in expected.tsv"));
        let decision = str_of(d, "decision");
        let got = if decision == "quarantined" {
            "quarantined".to_string()
        } else {
            str_of(d, "classification").to_string()
        };
        *table.entry((e.class.clone(), got.clone())).or_default() += 1;
        let reason = str_of(d, "reason");
        let right = got == e.class
            && match e.class.as_str() {
                "plain" => decision == "created",
                _ => decision == "ignored" && SIGNALS.iter().any(|s| reason.contains(s)),
            };
        if !right {
            wrong.push(format!(
                "{} ({}): {got}, {decision}: {reason}",
                source, e.format
            ));
        }
        if e.class != "plain" {
            formats.insert(e.format.clone());
        }
    }
    print_table(&table);

    let count = |expected: &[&str], got_right: bool| -> usize {
        table
            .iter()
            .filter(|((e, g), _)| expected.contains(&e.as_str()) && (!got_right || e == g))
            .map(|(_, n)| n)
            .sum()
    };
    let machine = count(&["bounce", "report"], false);
    let people = count(&["plain"], false);
    assert!(
        machine >= 300 && formats.len() >= 40,
        "{machine} in {formats:?}"
    );
    assert!(people >= 100, "{people} people's mails");
    let machine_right = machine - wrong.iter().filter(|w| !w.contains("(person-")).count();
    let people_right = people - wrong.iter().filter(|w| w.contains("(person-")).count();
    println!(
        "machine mail right: {machine_right}/{machine}; people's mail right: {people_right}/{people}"
    );
    println!("{}", wrong.join("\n"));
    assert!(machine_right * 100 >= machine * 99, "{}", wrong.join("\n"));
    assert!(people_right * 100 >= people * 99, "{}", wrong.join("\n"));
    let quarantined_machine = count(&["bounce", "report"], false)
        - table
            .iter()
            .filter(|((e, g), _)| e != "plain" && g != "quarantined")
            .map(|(_, n)| n)
            .sum::<usize>();
    assert_eq!(quarantined_machine, 0, "no bounce is quarantined");
    assert_eq!(
        app.tickets().len(),
        people_right,
        "a ticket per person's mail"
    );
}

fn print_table(table: &BTreeMap<(String, String), usize>) {
    let got: BTreeSet<&String> = table.keys().map(|(_, g)| g).collect();
    let expected: BTreeSet<&String> = table.keys().map(|(e, _)| e).collect();
    print!("{:<12}", "expected\\got");
    for g in &got {
        print!("{g:>12}");
    }
    println!();
    for e in &expected {
        print!("{e:<12}");
        for g in &got {
            let n = table
                .get(&((*e).clone(), (*g).clone()))
                .copied()
                .unwrap_or(0);
            print!("{n:>12}");
        }
        println!();
    }
}

const SIGNED: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"
"#;

fn signed_app() -> App {
    let app = App::with_config_unmigrated(SIGNED);
    app.write_file("hmac.key", b"test-secret-for-recognise");
    app.run(&["migrate"]).expect_success();
    app
}

/// The Message-ID of our acknowledgement of SUP-1, after a customer's first mail.
fn acknowledged(app: &App) -> String {
    let mail = "From: Jane Doe <jane@customer.test>\r\nTo: support@example.test\r\n\
        Subject: Printer broken\r\nMessage-ID: <printer-1@customer.test>\r\n\
        Date: Mon, 04 Mar 2024 09:15:00 +0000\r\n\r\nIt jams.\r\n";
    let d = app.ingest_bytes("new.eml", mail.as_bytes());
    assert_eq!(str_of(&d, "decision"), "created", "{d}");
    let rows = array(app.ok_json(&["outbox", "list", "--json"]), "outbox");
    str_of(&rows[0], "message_id")
        .trim_matches(['<', '>'])
        .to_string()
}

fn participant_bouncing(app: &App, address: &str) -> Value {
    let show = app.show("SUP-1");
    show["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| str_of(p, "address") == address)
        .unwrap_or_else(|| panic!("{address}: {show:#}"))["bouncing"]
        .clone()
}

#[test]
fn a_feedback_report_about_our_mail_is_stored_on_its_ticket_and_marks_nobody() {
    let app = signed_app();
    let ours = acknowledged(&app);
    let arf = format!(
        "From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>\r\n\
         To: support@example.test\r\nSubject: Abuse Report\r\nMessage-ID: <arf-1@yahoo.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; boundary=\"p\";\r\n report-type=feedback-report\r\n\r\n\
         --p\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\
         --p\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n\
         Original-Rcpt-To: <jane@customer.test>\r\n\r\n\
         --p\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@example.test\r\nTo: jane@customer.test\r\n\
         Message-ID: <{ours}>\r\nSubject: [SUP-1] Printer broken\r\n\r\nhi\r\n--p--\r\n"
    );
    let d = app.ingest_bytes("arf.eml", arf.as_bytes());
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    assert_eq!(str_of(&d, "classification"), "report", "{d}");
    assert_eq!(str_of(&d, "rule"), "returned-mail", "{d}");
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("report of our notification")
            && reason.contains("ARF, feedback-type abuse")
            && reason.contains("a report marks no one bouncing"),
        "{reason}"
    );
    assert_eq!(participant_bouncing(&app, "jane@customer.test"), false);
    assert_eq!(str_of(&app.show("SUP-1"), "status"), "new");
    let listed = app.run(&["decisions"]).expect_success().output();
    assert!(listed.contains("ARF, feedback-type abuse"), "{listed}");
}

#[test]
fn a_dsn_from_a_mailer_daemon_without_address_is_recognised_not_quarantined() {
    let app = signed_app();
    let ours = acknowledged(&app);
    let dsn = format!(
        "From: MAILER-DAEMON <>\r\nTo: support@example.test\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-9@mx.customer.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; boundary=\"b\";\r\n\treport-type=delivery-status\r\n\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n\
         Final-Recipient: rfc822; jane@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@example.test\r\n\
         Message-ID: <{ours}>\r\n\r\n--b--\r\n"
    );
    let planned = app
        .run(&[
            "import",
            app.write_file("dsn/1.eml", dsn.as_bytes())
                .to_str()
                .unwrap(),
            "--dry-run",
        ])
        .expect_success()
        .output();
    assert!(
        planned.contains("DSN"),
        "the dry run names the signal: {planned}"
    );
    let d = app.ingest_bytes("dsn.eml", dsn.as_bytes());
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    assert_eq!(str_of(&d, "classification"), "bounce", "{d}");
    assert!(
        str_of(&d, "reason").contains("marks jane@customer.test bouncing on SUP-1"),
        "{d}"
    );
    assert_eq!(participant_bouncing(&app, "jane@customer.test"), true);
    assert!(
        app.ok_json(&["quarantine", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_persons_mail_without_a_sender_is_still_quarantined() {
    let app = App::new();
    let mail = "From: Jane Doe\r\nTo: support@example.test\r\nSubject: Printer broken\r\n\
        Message-ID: <nosender-1@customer.test>\r\n\r\nHello, my printer jams. Can you help?\r\n";
    let d = app.ingest_bytes("nosender.eml", mail.as_bytes());
    assert_eq!(str_of(&d, "decision"), "quarantined", "{d}");
    assert!(
        str_of(&d, "reason").contains("no usable sender address"),
        "{d}"
    );
    // Automatic mail without a sender is kept, not quarantined.
    let auto = "From: <>\r\nTo: support@example.test\r\nSubject: Your export is ready\r\n\
        Auto-Submitted: auto-generated\r\nMessage-ID: <auto-1@app.test>\r\n\r\nDone.\r\n";
    let d = app.ingest_bytes("auto.eml", auto.as_bytes());
    assert_eq!(str_of(&d, "decision"), "ignored", "{d}");
    assert_eq!(str_of(&d, "classification"), "automatic", "{d}");
}
