//! Issue 18 item 4: a reader that goes away (`mailgate tickets list | head -2`) ends every
//! command quietly with exit 0, never a panic's 101 and "Broken pipe"; what the command did
//! before it printed stays done.

use mailgate_test_support::closed_stdout;

use crate::support::{App, DEFAULT_TIMEOUT, fixture_path, sample_archive};

/// Runs `args` with a stdout whose reading end is already closed: every write to it fails.
/// Returns the exit code and stderr.
fn run_with_closed_stdout(app: &App, args: &[&str]) -> (Option<i32>, String) {
    let run = closed_stdout::run_with_closed_stdout(app.command(args), DEFAULT_TIMEOUT)
        .unwrap_or_else(|e| panic!("mailgate {args:?}: {e}"));
    (run.code, run.stderr)
}

#[track_caller]
fn assert_quiet_success(app: &App, args: &[&str]) {
    let (code, stderr) = run_with_closed_stdout(app, args);
    assert_eq!(
        code,
        Some(0),
        "mailgate {args:?} with a closed stdout must exit 0\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "mailgate {args:?} with a closed stdout must end quietly\n{stderr}"
    );
}

fn plain_mail(from: &str, subject: &str, message_id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n"
    )
    .into_bytes()
}

#[test]
fn every_printing_command_ends_quietly_when_its_reader_goes_away() {
    // One automatic mail per recipient per hour: the second acknowledgement is held, so
    // `outbox retry` has a row to retry; a 1000-byte limit quarantines the big mail.
    let app = App::with_config(
        "[notify]\nmax_automatic_per_hour = 1\n\n[limits]\nmax_message_bytes = 1000\n",
    );
    let first = app.write_file(
        "in/1.eml",
        &plain_mail("jane@acme.test", "One", "1@acme.test"),
    );
    let second = app.write_file(
        "in/2.eml",
        &plain_mail("jane@acme.test", "Two", "2@acme.test"),
    );
    let mut big = plain_mail("joe@acme.test", "Big", "big@acme.test");
    big.extend(std::iter::repeat_n(b'x', 5000));
    let big = app.write_file("in/big.eml", &big);
    let first = first.to_str().unwrap();
    let escalation = fixture_path("escalation-with-evidence.eml");

    // Commands that change something: the change is made although nothing can be printed.
    assert_quiet_success(&app, &["ingest", first]);
    assert_quiet_success(&app, &["ingest", second.to_str().unwrap(), "--json"]);
    assert_quiet_success(&app, &["ingest", big.to_str().unwrap()]);
    assert_eq!(app.tickets().len(), 2, "both ingests were stored");
    assert_quiet_success(&app, &["tickets", "reply", "SUP-1", "--body", "On it."]);
    assert_quiet_success(&app, &["tickets", "set-status", "SUP-1", "pending"]);
    assert_quiet_success(&app, &["tickets", "set-priority", "SUP-1", "high"]);
    let shown = app.show("SUP-1");
    assert_eq!(shown["status"], "pending", "{shown:#}");
    assert_eq!(shown["priority"], "high", "{shown:#}");
    let held = app.ok_json(&["outbox", "list", "--status", "held", "--json"]);
    let held_id = held[0]["id"]
        .as_i64()
        .expect("a held acknowledgement")
        .to_string();
    assert_quiet_success(&app, &["outbox", "retry", &held_id]);
    let quarantined = app.ok_json(&["quarantine", "list", "--json"]);
    let quarantine_id = quarantined[0]["id"]
        .as_i64()
        .expect("a quarantined mail")
        .to_string();
    assert_quiet_success(&app, &["quarantine", "reprocess", &quarantine_id]);
    assert_quiet_success(&app, &["import", sample_archive().to_str().unwrap()]);
    assert_quiet_success(
        &app,
        &["import", sample_archive().to_str().unwrap(), "--json"],
    );
    // `mailgate-bench generate` is checked the same way in crates/mailgate-bench/tests/cli.rs.

    // Commands that only show.
    for args in [
        &["--help"][..],
        &["--version"][..],
        &["tickets", "--help"][..],
        &["tickets", "list"][..],
        &["tickets", "list", "--json"][..],
        &["tickets", "show", "SUP-1"][..],
        &["tickets", "show", "SUP-1", "--json"][..],
        &["decisions"][..],
        &["decisions", "--json"][..],
        &["quarantine", "list", "--all"][..],
        &["quarantine", "list", "--all", "--json"][..],
        &["outbox", "list"][..],
        &["outbox", "list", "--json"][..],
        &["escalations", "check", escalation.to_str().unwrap()][..],
        &[
            "escalations",
            "check",
            escalation.to_str().unwrap(),
            "--json",
        ][..],
        &["config", "check"][..],
        &["migrate"][..],
    ] {
        assert_quiet_success(&app, args);
    }
}

#[test]
fn a_failing_command_keeps_its_exit_code_when_stdout_is_closed() {
    let app = App::new();
    let (code, stderr) = run_with_closed_stdout(&app, &["tickets", "show", "SUP-99"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("SUP-99"), "{stderr}");
    let (code, stderr) = run_with_closed_stdout(&app, &["decisions", "--limit", "many"]);
    assert_eq!(code, Some(2), "bad usage stays 2\n{stderr}");
}
