//! `config check` through the binary on what could leak a secret: plain-text IMAP/SMTP to a host
//! that only looks local, and a password inside `database.url` (refused in the file, read from
//! `url_env` / `url_file` instead, and never printed).

use std::process::Output;

use crate::support::*;

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn config_check_refuses_plain_text_to_a_host_that_only_looks_local() {
    let app = App::with_config_unmigrated(
        r#"[tickets]
prefix = "SUP"

[[mailboxes]]
name = "support"
host = "127.attacker.example"
tls = "none"
username = "support@example.test"
password_env = "MAILGATE_IT_UNUSED"

[smtp]
host = "127.0.0.1.attacker.example"
tls = "none"
"#,
    );
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    assert!(
        out.contains(":7: mailbox support: tls = \"none\" would send the password in clear"),
        "{run}"
    );
    assert!(out.contains("\"127.attacker.example\""), "{run}");
    assert!(
        out.contains(":13: smtp: tls = \"none\"") && out.contains("127.0.0.0/8"),
        "{run}"
    );

    // A literal loopback address is fine.
    app.rewrite_config(
        "[[mailboxes]]\nname = \"support\"\nhost = \"127.0.0.2\"\ntls = \"none\"\n\
         username = \"support@example.test\"\npassword_env = \"MAILGATE_IT_UNUSED\"\n",
    );
    app.run(&["config", "check"]).expect_success();
}

#[test]
fn config_check_refuses_a_password_in_database_url_and_never_prints_it() {
    let password = "Db-pw-9f3k2";
    let app = App::with_config_unmigrated(&format!(
        "[tickets]\nprefix = \"SUP\"\n\n[database]\nurl = \"postgres://mg:{password}@db.example/mg\"\n"
    ));
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    assert!(!out.contains(password), "the password is printed\n{run}");
    assert!(out.contains(":5: database.url"), "names line 5\n{run}");
    assert!(out.contains("contains a password"), "{run}");
    assert!(
        out.contains("url_env = \"VAR\"") && out.contains("url_file = \"/path\""),
        "{run}"
    );
}

#[test]
fn database_url_from_url_env_or_url_file_is_shown_redacted() {
    let password = "Db-pw-7h1q0";
    let url = format!("postgres://mg:{password}@db.example/mg");
    let app = App::with_config_unmigrated("[database]\nurl_env = \"MAILGATE_IT_DB_URL\"\n");
    let check = |extra: &[(&str, &str)]| {
        let mut cmd = app.command(&["config", "check"]);
        cmd.env_remove("MAILGATE_DATABASE_URL")
            .env("MAILGATE_IT_DB_URL", &url);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    // PostgreSQL is not supported by this version yet: refused as `run` refuses it, and the
    // refusal shows the URL redacted.
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(password), "{}", text(&out));
    assert!(
        text(&out)
            .contains("\"postgres://mg:[redacted]@db.example/mg\": PostgreSQL is not supported"),
        "{}",
        text(&out)
    );

    // MAILGATE_DATABASE_URL still overrides, and is redacted just the same.
    let other = "postgres://ops:Env-pw-55x@db2.example/mg";
    let out = check(&[("MAILGATE_DATABASE_URL", other)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("Env-pw-55x"), "{}", text(&out));
    assert!(
        text(&out).contains("postgres://ops:[redacted]@db2.example/mg"),
        "{}",
        text(&out)
    );

    // Other commands quote the URL in their errors: redacted too.
    let mut cmd = app.command(&["tickets", "list"]);
    cmd.env_remove("MAILGATE_DATABASE_URL")
        .env("MAILGATE_IT_DB_URL", &url);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(password), "{}", text(&out));
    assert!(text(&out).contains("[redacted]"), "{}", text(&out));

    // url_file works the same way.
    let file = app.write_file("db-url", format!("{url}\n").as_bytes());
    app.rewrite_config(&format!(
        "[database]\nurl_file = {:?}\n",
        file.display().to_string()
    ));
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(password), "{}", text(&out));
    assert!(
        text(&out).contains("[redacted]@db.example"),
        "{}",
        text(&out)
    );
}
