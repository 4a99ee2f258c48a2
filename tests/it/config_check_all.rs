//! Issue 18 item 6: `config check` reports every mistake of a file in one run, each with its
//! line; checks the values of `[sla]` and `[http]`; and refuses a database URL that `run`
//! would refuse, so a config that passes the check is one the other commands accept.

use crate::support::App;

/// The `path:line:` of each mistake `config check` printed, in order.
fn lines_named(stderr: &str, config: &str) -> Vec<usize> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix(config)?.strip_prefix(':'))
        .filter_map(|rest| rest.split(':').next()?.parse().ok())
        .collect()
}

fn config_path(app: &App) -> String {
    app.dir().join("test-config.toml").display().to_string()
}

#[test]
fn two_unknown_keys_give_two_lines() {
    let app = App::with_config_unmigrated(
        "[tickets]\nprefix = \"SUP\"\nprefx = \"OPS\"\n\n[[mailboxes]]\nname = \"support\"\nusernme = \"support@example.test\"\n",
    );
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    assert!(run.stderr.contains("2 mistake(s)"), "{run}");
    assert_eq!(
        lines_named(&run.stderr, &config_path(&app)),
        [3, 7],
        "{run}"
    );
    assert!(run.stderr.contains("unknown field `prefx`"), "{run}");
    assert!(run.stderr.contains("unknown field `usernme`"), "{run}");
    assert!(run.stdout.trim().is_empty(), "{run}");
}

#[test]
fn mistakes_of_every_kind_are_reported_together() {
    let app = App::with_config_unmigrated(
        r#"[tickets]
prefix = "sup"
colour = "blue"

[[mailboxes]]
name = "support"
port = "imap"

[limits]
max_message_bytes = 2000000000

[sla]
open_update_every = "daily"
pending_reminder_after = "14d"
auto_close_pending_after = "3d"

[http]
listen = "localhost"
token_env = "MAILGATE_API_TOKEN"
token_file = "/etc/mailgate/api-token"

[database]
url = "postgres://mailgate@db.example/mailgate"
"#,
    );
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let mut lines = lines_named(&run.stderr, &config_path(&app));
    lines.sort();
    assert_eq!(lines, [2, 3, 7, 10, 13, 15, 18, 19, 23], "{run}");
    for said in [
        "tickets.prefix \"sup\"",
        "unknown field `colour`",
        "invalid type: string \"imap\"",
        "512 MiB",
        "sla.open_update_every: \"daily\" is not a duration",
        "must be longer than sla.pending_reminder_after",
        "http.listen \"localhost\" must be an IP address and a port",
        "http.token: set either the _env or the _file form, not both",
        "PostgreSQL is not supported by this version yet",
    ] {
        assert!(run.stderr.contains(said), "missing {said:?}\n{run}");
    }

    // Fixed, the same file passes, and the check shows what [sla] and [http] hold.
    app.rewrite_config(
        "[sla]\nopen_update_every = \"24h\"\npending_reminder_after = \"3d\"\nauto_close_pending_after = \"14d\"\n\n[http]\nlisten = \"127.0.0.1:8025\"\ntoken_env = \"MAILGATE_API_TOKEN\"\n",
    );
    let run = app.run(&["config", "check"]);
    run.expect_success();
    assert!(
        run.stdout.contains(
            "sla           open update every 1d, pending reminder after 3d, auto-close pending after 14d (all hours)"
        ),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("http          listen 127.0.0.1:8025, token from $MAILGATE_API_TOKEN"),
        "{run}"
    );
    assert!(!run.stdout.contains("[sla] is accepted"), "{run}");
    assert!(
        run.stdout.contains("[http] is accepted but not used"),
        "{run}"
    );
}

#[test]
fn a_database_url_that_run_refuses_is_refused_by_the_check() {
    let app = App::with_config_unmigrated("[tickets]\nprefix = \"SUP\"\n");
    for (url, said) in [
        ("postgres://mg@db.example/mg", "PostgreSQL is not supported"),
        ("banana", "is not one mailgate accepts"),
    ] {
        let check = app
            .command(&["config", "check"])
            .env("MAILGATE_DATABASE_URL", url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&check.stderr);
        assert_eq!(check.status.code(), Some(1), "{url}: {stderr}");
        assert!(
            stderr.contains("MAILGATE_DATABASE_URL") && stderr.contains(said),
            "{url}: {stderr}"
        );
        let run = app
            .command(&["run"])
            .env("MAILGATE_DATABASE_URL", url)
            .output()
            .unwrap();
        let run_stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{url}: {run_stderr}");
        assert!(run_stderr.contains(said), "{url}: {run_stderr}");
    }
    // The file's own URL, with its line.
    app.rewrite_config(
        "[tickets]\nprefix = \"SUP\"\n\n[database]\nurl = \"postgresql://mg@db/mg\"\n",
    );
    let run = app.run_with_env(&["config", "check"], &[]);
    run.expect_code(1);
    // App sets MAILGATE_DATABASE_URL to its SQLite file, which overrides the file's URL;
    // the file's own mistake is still reported.
    assert_eq!(lines_named(&run.stderr, &config_path(&app)), [5], "{run}");
    assert!(run.stderr.contains("PostgreSQL is not supported"), "{run}");
}
