//! `[[mailboxes]] role` (SPEC 10) through `config check`: a mailbox without a role is a support
//! mailbox, an escalation mailbox needs someone allowed to escalate (each one without is named
//! with its line), and a role is written in lower case. `config::Role` has its own file, which
//! the file format and the escalation rules both use.

use crate::support::App;

const MAILBOXES: &str = r#"[tickets]
prefix = "SUP"

[[mailboxes]]
name = "support"

[[mailboxes]]
name = "tier2"
role = "escalation"
address = "tier2@example.test"

[[mailboxes]]
name = "tier3"
role = "escalation"
address = "tier3@example.test"
"#;

fn config_path(app: &App) -> String {
    app.dir().join("test-config.toml").display().to_string()
}

#[test]
fn escalation_mailboxes_without_allowed_senders_are_each_named_with_their_line() {
    let app = App::with_config_unmigrated(MAILBOXES);
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let config = config_path(&app);
    assert!(run.stderr.contains("2 mistake(s)"), "{run}");
    for (line, name) in [(8, "tier2"), (13, "tier3")] {
        let expected = format!(
            "{config}:{line}: mailbox {name}: role escalation, but every escalation would be \
             refused as unauthorised: set [escalation] allowed_senders"
        );
        assert!(run.stderr.contains(&expected), "{expected}\n{run}");
    }
    assert!(!run.stderr.contains("mailbox support:"), "{run}");
    assert!(run.stdout.trim().is_empty(), "{run}");
}

#[test]
fn with_allowed_senders_the_roles_are_shown() {
    let app = App::with_config_unmigrated(&format!(
        "{MAILBOXES}\n[escalation]\nallowed_senders = [\"*@tier1.example.test\"]\n"
    ));
    let run = app.run(&["config", "check"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("mailbox       support (support)"),
        "{run}"
    );
    assert!(
        run.stdout.contains("mailbox       tier2 (escalation)"),
        "{run}"
    );
    assert!(
        run.stdout.contains("mailbox       tier3 (escalation)"),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("escalations   from *@tier1.example.test"),
        "{run}"
    );
}

#[test]
fn a_role_is_written_in_lower_case() {
    let app = App::with_config_unmigrated(&MAILBOXES.replace(
        "name = \"tier3\"\nrole = \"escalation\"",
        "name = \"tier3\"\nrole = \"Escalation\"",
    ));
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "{}:14: unknown variant `Escalation`, expected `support` or `escalation`",
            config_path(&app)
        )),
        "{run}"
    );
}
