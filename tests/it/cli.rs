//! The command line as a contract (SPEC 9, 10): exit codes, errors people can act on,
//! `config check` naming lines.

use crate::support::*;

#[test]
fn bad_usage_exits_2() {
    let app = App::new();
    for args in [
        &["no-such-command"][..],
        &["import"][..],
        &["import", "x.mbox", "--format", "zip"][..],
        &["tickets", "show"][..],
        &["decisions", "--limit", "many"][..],
    ] {
        let run = app.run(args);
        assert_eq!(run.code, Some(2), "bad usage must exit 2\n{run}");
        run.assert_no_panic();
        assert!(
            run.stdout.trim().is_empty(),
            "usage errors go to stderr\n{run}"
        );
    }
}

#[test]
fn unknown_ticket_exits_1_with_a_clear_message() {
    let app = App::new();
    app.ingest_fixture("new-ticket.eml");
    let run = app.run(&["tickets", "show", "SUP-99", "--json"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("SUP-99"),
        "the message must name SUP-99\n{run}"
    );
    assert!(
        run.stdout.trim().is_empty(),
        "no data on stdout for an error\n{run}"
    );
}

#[test]
fn missing_input_file_exits_1() {
    let app = App::new();
    let missing = app.dir().join("nowhere.eml");
    let run = app.run(&["ingest", missing.to_str().unwrap(), "--json"]);
    run.expect_code(1);
    assert!(run.stderr.contains("nowhere.eml"), "{run}");
    let run = app.run(&[
        "import",
        app.dir().join("nothing").to_str().unwrap(),
        "--json",
    ]);
    run.expect_code(1);
    assert!(run.stderr.contains("nothing"), "{run}");
}

#[test]
fn empty_installation_lists_nothing() {
    let app = App::new();
    assert!(app.tickets().is_empty());
    assert!(app.decisions().is_empty());
}

#[test]
fn migrate_is_idempotent() {
    let app = App::new();
    app.run(&["migrate"]).expect_success();
    app.ingest_fixture("new-ticket.eml");
    app.run(&["migrate"]).expect_success();
    assert_eq!(app.tickets().len(), 1, "migrate keeps data");
}

#[test]
fn human_output_is_not_json_but_names_the_ticket() {
    let app = App::new();
    let path = fixture_path("new-ticket.eml");
    let run = app.run(&["ingest", path.to_str().unwrap()]);
    run.expect_success();
    assert!(run.output().contains("SUP-1"), "{run}");
    let run = app.run(&["tickets", "list"]);
    run.expect_success();
    assert!(run.stdout.contains("SUP-1"), "{run}");
    assert!(
        run.stdout.contains("Cannot receive mail since Monday"),
        "{run}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(&run.stdout).is_err());
}

#[test]
fn config_check_accepts_a_valid_file_and_the_defaults() {
    let app = App::with_config(
        r#"[tickets]
prefix = "SUP"

[notify]
agents = ["*@agents.example.test"]

[[mailboxes]]
name = "escalations"
role = "escalation"

[escalation]
allowed_senders = ["*@tier1.example.test"]
"#,
    );
    app.run(&["config", "check"]).expect_success();
    App::new().run(&["config", "check"]).expect_success();
}

#[test]
fn config_check_names_the_line_of_an_unknown_role() {
    let app = App::with_config_unmigrated(
        r#"[tickets]
prefix = "SUP"

[[mailboxes]]
name = "escalations"
# tier 1 forwards here
role = "escalator"
"#,
    );
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    assert!(
        out.contains("line 7")
            || out.contains(":7:")
            || out.contains(":7\n")
            || out.contains(":7 "),
        "config check must name line 7\n{run}"
    );
    assert!(out.contains("escalator") || out.contains("role"), "{run}");
}

#[test]
fn config_check_names_the_line_of_a_syntax_error() {
    let app = App::with_config_unmigrated("[tickets]\nprefix = \"SUP\"\nsupport_address = \n");
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    assert!(
        out.contains("line 3")
            || out.contains(":3:")
            || out.contains(":3\n")
            || out.contains(":3 "),
        "config check must name line 3\n{run}"
    );
}

#[test]
fn a_bad_config_file_fails_other_commands_too() {
    let app = App::with_config("[tickets]\nprefix = \"SUP\"\n");
    let bad = app.write_file(
        "bad.toml",
        b"[[mailboxes]]\nname = \"x\"\nrole = \"nope\"\n",
    );
    let mut cmd = std::process::Command::new(BIN);
    cmd.current_dir(app.dir())
        .env("MAILGATE_DATABASE_URL", app.db_url())
        .env_remove("MAILGATE_CONFIG")
        .args([
            "--config",
            bad.to_str().unwrap(),
            "tickets",
            "list",
            "--json",
        ]);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a command must refuse to run on an invalid config; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn config_is_found_in_env_then_working_directory() {
    // ./mailgate.toml in the working directory.
    let app = App::new();
    app.write_file("mailgate.toml", b"[tickets]\nprefix = \"CWD\"\n");
    let d = app.ingest_fixture("new-ticket.eml");
    assert_eq!(ticket_of(&d).as_deref(), Some("CWD-1"), "{d:#}");

    // $MAILGATE_CONFIG wins over ./mailgate.toml.
    let env_config = app.write_file("env.toml", b"[tickets]\nprefix = \"ENV\"\n");
    let path = fixture_path("html-only.eml");
    let out = app
        .command(&["ingest", path.to_str().unwrap(), "--json"])
        .env("MAILGATE_CONFIG", &env_config)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ticket_of(&d).as_deref(), Some("ENV-2"), "{d:#}");
}
