//! Issue 18 item 5: the database URL is checked by every command. `sqlite:` forms are
//! accepted, PostgreSQL is named as not supported yet, anything else is refused naming the
//! accepted forms; a file that cannot be opened is named; and a command that only shows or
//! changes what is stored never creates a database.

use std::path::Path;
use std::process::Stdio;

use crate::support::{App, fixture_path};

struct Outcome {
    code: Option<i32>,
    stderr: String,
    stdout: String,
}

fn run_with_url(app: &App, url: &str, args: &[&str]) -> Outcome {
    let out = app
        .command(args)
        .env("MAILGATE_DATABASE_URL", url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// Every subcommand that touches the database, with arguments it accepts.
fn every_database_command(app: &App) -> Vec<Vec<String>> {
    let mail = fixture_path("new-ticket.eml").display().to_string();
    let escalation = fixture_path("escalation-with-evidence.eml")
        .display()
        .to_string();
    let archive = app.write_file("archive/1.eml", &std::fs::read(&mail).unwrap());
    let archive = archive.parent().unwrap().display().to_string();
    [
        vec!["run"],
        vec!["ingest", &mail],
        vec!["import", &archive],
        vec!["migrate"],
        vec!["tickets", "list"],
        vec!["tickets", "show", "SUP-1"],
        vec!["tickets", "reply", "SUP-1", "--body", "On it."],
        vec!["tickets", "set-status", "SUP-1", "pending"],
        vec!["tickets", "set-priority", "SUP-1", "high"],
        vec!["decisions"],
        vec!["quarantine", "list"],
        vec!["quarantine", "reprocess", "1"],
        vec!["outbox", "list"],
        vec!["outbox", "retry", "1"],
        vec!["escalations", "check", &escalation],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(String::from).collect())
    .collect()
}

/// The commands that only show or change what is stored: they never create a database.
fn uses_an_existing_database(args: &[String]) -> bool {
    !matches!(args[0].as_str(), "run" | "ingest" | "import" | "migrate")
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn urls_that_are_not_sqlite_are_refused_by_every_command_naming_the_accepted_forms() {
    let app = App::new();
    let mut commands = every_database_command(&app);
    commands.push(vec!["config".into(), "check".into()]);
    for url in ["banana", "mysql://mg@db.example/mg", "file:other.db"] {
        for args in &commands {
            let run = run_with_url(&app, url, &refs(args));
            assert_eq!(run.code, Some(1), "{url} {args:?}\n{}", run.stderr);
            assert!(
                run.stderr
                    .contains(&format!("database url {url:?} is not one mailgate accepts"))
                    && run.stderr.contains("sqlite://PATH")
                    && run.stderr.contains("sqlite::memory:")
                    && run.stderr.contains("MAILGATE_DATABASE_URL"),
                "{url} {args:?}\n{}",
                run.stderr
            );
            assert!(run.stdout.trim().is_empty(), "{args:?}\n{}", run.stdout);
        }
    }
    // No file was taken for a database name.
    for name in ["banana", "other.db"] {
        assert!(!app.dir().join(name).exists(), "{name} was created");
    }
}

#[test]
fn postgres_is_named_as_not_supported_yet_by_every_command_with_the_password_hidden() {
    let app = App::new();
    let mut commands = every_database_command(&app);
    commands.push(vec!["config".into(), "check".into()]);
    let url = "postgres://mg:S3cret-pw@db.example/mg";
    for args in &commands {
        let run = run_with_url(&app, url, &refs(args));
        assert_eq!(run.code, Some(1), "{args:?}\n{}", run.stderr);
        assert!(
            run.stderr
                .contains("PostgreSQL is not supported by this version yet")
                && run.stderr.contains("sqlite://PATH"),
            "{args:?}\n{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("S3cret-pw"),
            "{args:?}\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_database_is_named_and_never_created_by_a_command_that_only_uses_one() {
    let app = App::new();
    let db = app.dir().join("elsewhere.db");
    let url = format!("sqlite://{}", db.display());
    for args in every_database_command(&app) {
        if !uses_an_existing_database(&args) {
            continue;
        }
        let run = run_with_url(&app, &url, &refs(&args));
        assert_eq!(run.code, Some(1), "{args:?}\n{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("there is no database at {}", db.display()))
                && run.stderr.contains("`mailgate migrate` creates one"),
            "{args:?}\n{}",
            run.stderr
        );
        assert!(!db.exists(), "{args:?} created {}", db.display());
    }
    // A relative path is named as the absolute one it means.
    let run = run_with_url(&app, "sqlite:relative.db", &["tickets", "list"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let absolute = app.dir().canonicalize().unwrap().join("relative.db");
    assert!(
        run.stderr.contains(&absolute.display().to_string())
            || run
                .stderr
                .contains(&app.dir().join("relative.db").display().to_string()),
        "{}",
        run.stderr
    );
    assert!(!app.dir().join("relative.db").exists());

    // `migrate` creates it, and then the same command works.
    let run = run_with_url(&app, &url, &["migrate"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(db.is_file());
    let run = run_with_url(&app, &url, &["tickets", "list"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "No tickets.");
}

#[test]
fn a_database_in_a_missing_directory_is_named_once_by_every_command() {
    let app = App::new();
    let dir = app.dir().join("no-such-dir");
    let db = dir.join("mailgate.db");
    let url = format!("sqlite://{}", db.display());
    for args in every_database_command(&app) {
        let run = run_with_url(&app, &url, &refs(&args));
        assert_eq!(run.code, Some(1), "{args:?}\n{}", run.stderr);
        let said = if uses_an_existing_database(&args) {
            format!("there is no database at {}", db.display())
        } else {
            format!(
                "cannot create the database {}: the directory {} does not exist",
                db.display(),
                dir.display()
            )
        };
        assert!(run.stderr.contains(&said), "{args:?}\n{}", run.stderr);
        assert_eq!(
            run.stderr.matches(&db.display().to_string()).count(),
            1,
            "the path once, no repeated SQLx text\n{}",
            run.stderr
        );
        assert!(!dir.exists(), "{args:?}");
    }
}

#[test]
fn a_file_that_is_not_a_database_is_named() {
    let app = App::new();
    let not_db = app.write_file("notes.txt", &[b'x'; 8192]);
    let url = format!("sqlite://{}", not_db.display());
    let run = run_with_url(&app, &url, &["tickets", "list"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("cannot open the database {}", not_db.display()))
            || run.stderr.contains(&not_db.display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&not_db).unwrap(),
        vec![b'x'; 8192],
        "left as it was"
    );
}

#[test]
fn every_accepted_sqlite_form_works() {
    let app = App::new();
    let path = |name: &str| app.dir().join(name).display().to_string();
    for url in [
        format!("sqlite://{}", path("a.db")),
        format!("sqlite:{}", path("b.db")),
        format!("sqlite://{}?mode=rwc", path("c.db")),
    ] {
        let run = run_with_url(&app, &url, &["migrate"]);
        assert_eq!(run.code, Some(0), "{url}\n{}", run.stderr);
        let run = run_with_url(&app, &url, &["tickets", "list", "--json"]);
        assert_eq!(run.code, Some(0), "{url}\n{}", run.stderr);
        assert_eq!(run.stdout.trim(), "[]", "{url}");
    }
    for name in ["a.db", "b.db", "c.db"] {
        assert!(Path::new(&path(name)).is_file(), "{name}");
    }
    // In memory: nothing to create, nothing left behind.
    let run = run_with_url(&app, "sqlite::memory:", &["tickets", "list", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "[]");
}
