//! Issue 18 item 10: the help says what each command does and what each argument takes;
//! benchmarks stand apart (issue 19: a separate `mailgate-bench` binary, whose help is checked
//! in crates/mailgate-bench/tests/cli.rs); `migrate` says what it applied; `decisions
//! --limit 0` is refused as bad usage. (That every argument has a description is checked over
//! the whole command tree by `cli::help_tests`.)

use crate::support::App;

#[test]
fn the_main_help_describes_tickets_and_run_and_sets_bench_apart() {
    let app = App::new();
    let run = app.run(&["--help"]);
    run.expect_success();
    let help = &run.stdout;
    let tickets = help
        .lines()
        .find(|l| l.trim_start().starts_with("tickets "))
        .unwrap_or_else(|| panic!("no tickets line\n{run}"));
    for word in ["list", "show", "reply", "status", "priority"] {
        assert!(tickets.contains(word), "tickets: {word}\n{tickets}");
    }
    let run_line = help
        .lines()
        .find(|l| l.trim_start().starts_with("run "))
        .unwrap_or_else(|| panic!("no run line\n{run}"));
    assert!(run_line.contains("outbox"), "{run_line}");
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("bench ")),
        "bench is not among the user commands\n{help}"
    );
    assert!(help.contains("separate developer binary"), "{help}");
    assert!(help.contains("mailgate-bench"), "{help}");
    // Gone from the product binary (issue 19): an unknown command is bad usage.
    app.run(&["bench", "--help"]).expect_code(2);

    let run = app.run(&["run", "--help"]);
    run.expect_success();
    assert!(run.stdout.contains("outbox sender"), "{run}");
}

#[test]
fn arguments_are_described_and_list_their_values() {
    let app = App::new();
    for (args, said) in [
        (
            &["tickets", "list", "--help"][..],
            &[
                "Only the tickets with this status",
                "[possible values: new, open, pending, resolved, closed]",
                "Print the tickets as a JSON array",
            ][..],
        ),
        (
            &["tickets", "show", "--help"][..],
            &[
                "<REF>",
                "The ticket reference, e.g. SUP-42",
                "Print the ticket",
            ][..],
        ),
        (
            &["tickets", "set-status", "--help"][..],
            &[
                "The ticket reference",
                "[possible values: new, open, pending, resolved, closed]",
            ][..],
        ),
        (
            &["tickets", "set-priority", "--help"][..],
            &["[possible values: low, normal, high, critical]"][..],
        ),
        (
            &["tickets", "reply", "--help"][..],
            &[
                "<REF>",
                "[possible values: new, open, pending, resolved, closed]",
            ][..],
        ),
        (
            &["decisions", "--help"][..],
            &[
                "How many decisions to show",
                "Print the decisions as a JSON array",
            ][..],
        ),
        (
            &["outbox", "list", "--help"][..],
            &[
                "[possible values: pending, sending, sent, failed, held]",
                "Print the rows as a JSON array",
            ][..],
        ),
        (
            &["outbox", "retry", "--help"][..],
            &["as `outbox list` shows it"][..],
        ),
        (
            &["quarantine", "reprocess", "--help"][..],
            &["as `quarantine list` shows it"][..],
        ),
        (
            &["import", "--help"][..],
            &["[possible values: mbox, maildir, eml]"][..],
        ),
    ] {
        let run = app.run(args);
        run.expect_success();
        for s in said {
            assert!(run.stdout.contains(s), "{args:?} must say {s:?}\n{run}");
        }
    }
    // Values are matched without regard to case, as before.
    app.run(&["tickets", "list", "--status", "Open"])
        .expect_success();
    let run = app.run(&["tickets", "list", "--status", "opened"]);
    run.expect_code(2);
    assert!(run.stderr.contains("possible values"), "{run}");
}

#[test]
fn decisions_limit_zero_is_bad_usage() {
    let app = App::new();
    let run = app.run(&["decisions", "--limit", "0"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--limit"), "{run}");
    assert!(run.stderr.contains("at least 1"), "{run}");
    assert!(!run.stdout.contains("No decisions yet"), "{run}");
}

#[test]
fn migrate_says_what_it_applied() {
    let app = App::with_config_unmigrated("[tickets]\nprefix = \"SUP\"\n");
    let run = app.run(&["migrate"]);
    run.expect_success();
    assert!(run.stderr.contains("created database sqlite://"), "{run}");
    assert!(run.stderr.contains("applied "), "{run}");
    assert!(run.stderr.contains("  0001 init"), "{run}");
    assert!(!run.stderr.contains("up to date"), "{run}");
    let run = app.run(&["migrate"]);
    run.expect_success();
    assert!(run.stderr.contains("is up to date"), "{run}");
    assert!(!run.stderr.contains("applied"), "{run}");
}
