//! How an import run starts and ends (issue 18, items 7–9): a run stopped by SIGINT exits
//! 130 saying where it stopped, and the re-run reads only the rest (or says why it starts
//! over); `--dry-run` lists each message's decision and creates no database; a path with no
//! mail fails, saying what was skipped, and an empty file is a skip, not a quarantined mail.

use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

const GENERATED: u64 = 20_000;

/// One query on the app's database, through the library's own SQLite driver.
fn query_i64(url: &str, sql: &'static str) -> Option<i64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.ok()?;
        sqlx::query_scalar(sql)
            .fetch_optional(&mut conn)
            .await
            .ok()?
    })
}

fn checkpoint_position(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT position FROM import_checkpoints")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    })
}

fn decisions_stored(url: &str) -> u64 {
    query_i64(url, "SELECT COUNT(*) FROM decisions").unwrap_or(-1) as u64
}

/// The number on a `  label   N` line of the human summary.
fn summary_count(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(label))
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no {label} line in\n{stdout}"))
}

/// `import PATH` started, stopped with a real SIGINT once its first batches are stored; the
/// finished run.
fn import_stopped_by_sigint(app: &App, mbox: &Path) -> Run {
    let mut cmd = app.command(&["import", mbox.to_str().unwrap()]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot start mailgate");
    let output = collect_output(&mut child);
    let url = app.db_url();
    let deadline = Instant::now() + Duration::from_secs(120);
    // Stored something: the checkpoint is written with each batch.
    while query_i64(&url, "SELECT messages FROM import_checkpoints").unwrap_or(0) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be interrupted"
        );
        assert!(
            Instant::now() < deadline,
            "the import stored nothing in 120 s"
        );
        thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill -INT failed");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGINT");
        thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = output();
    Run {
        args: vec!["import".into(), mbox.display().to_string()],
        code: status.code(),
        stdout,
        stderr,
    }
}

#[test]
fn sigint_stops_an_import_with_130_and_the_rerun_reads_only_the_rest() {
    let app = App::new();
    let mbox = app.dir().join("big.mbox");
    generate_archive(&mbox, GENERATED as usize);
    let url = app.db_url();

    // Stopped by SIGINT: exit 130, the summary says where and how to go on.
    let stopped = import_stopped_by_sigint(&app, &mbox);
    stopped.expect_code(130);
    let first = summary_count(&stopped.stdout, "read");
    assert!(
        first > 0 && first < GENERATED,
        "SIGINT did not land midway\n{stopped}"
    );
    assert!(stopped.stdout.contains("interrupted"), "{stopped}");
    let position = checkpoint_position(&url);
    let stopped_at = position.rsplit_once(" at=").unwrap().1;
    assert!(
        stopped.stdout.contains(&format!(
            "Stopped by a signal after message {stopped_at}: {first} messages of this archive are stored."
        )),
        "the summary names the last message stored ({stopped_at})\n{stopped}"
    );
    assert!(
        stopped.stdout.contains("Run the same command again"),
        "{stopped}"
    );
    assert_eq!(
        decisions_stored(&url),
        first,
        "stored = read before the stop"
    );
    // A copy of the database as the stop left it, for the start-over case below.
    let copy = app.dir().join("copy.db");
    std::fs::copy(app.dir().join("mailgate.db"), &copy).unwrap();

    // The re-run reads only the rest: counts in the summary and in the database.
    let rerun = app.import(&mbox, &[]);
    let resumed = field(&rerun, "resumed");
    assert_eq!(u64_of(resumed, "messages"), first, "{rerun:#}");
    assert_eq!(str_of(resumed, "at"), stopped_at, "{rerun:#}");
    assert_eq!(u64_of(&rerun, "read"), GENERATED - first, "{rerun:#}");
    assert_eq!(
        u64_of(&rerun, "duplicates"),
        0,
        "nothing read twice: {rerun:#}"
    );
    assert_report_balanced(&rerun);
    assert_eq!(decisions_stored(&url), GENERATED);
    assert!(checkpoint_position(&url).contains(" done=1 "));

    // Read to the end: the next run reads it all again, and says why.
    let again = app.import(&mbox, &[]);
    assert!(
        str_of(&again, "started_over").contains("read it to the end"),
        "{again:#}"
    );
    assert_eq!(u64_of(&again, "duplicates"), GENERATED, "{again:#}");

    // A checkpoint of a file modified since is not followed: the run starts over, saying why.
    let file = std::fs::File::options().append(true).open(&mbox).unwrap();
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(file);
    let copy_url = format!("sqlite://{}", copy.display());
    let run = app.run_with_env(
        &["import", mbox.to_str().unwrap()],
        &[("MAILGATE_DATABASE_URL", &copy_url)],
    );
    run.expect_success();
    assert!(
        run.stdout
            .contains("read from the start: it was modified since the import stopped"),
        "{run}"
    );
    assert_eq!(summary_count(&run.stdout, "read"), GENERATED, "{run}");
    assert_eq!(summary_count(&run.stdout, "duplicates"), first, "{run}");
}

#[test]
fn a_dry_run_lists_every_decision_and_creates_no_database() {
    let app = App::with_config_unmigrated("");
    let db = app.dir().join("mailgate.db");
    let archive = sample_archive();
    let path = archive.to_str().unwrap();

    // For people: three lines per message, as `decisions` shows them.
    let run = app.run(&["import", path, "--dry-run"]);
    run.expect_success();
    assert!(!db.exists(), "a dry run created {}", db.display());
    let expected = sample_expected();
    let want = items(&expected, "messages");
    let heads: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(heads.len(), want.len(), "{run}");
    for (head, w) in heads.iter().zip(want) {
        let words: Vec<&str> = head.split_whitespace().collect();
        assert_eq!(words[0], format!("#{}", u64_of(w, "position")), "{head}");
        assert_eq!(words[1], str_of(w, "decision"), "{head}");
        assert_eq!(words[3], str_of(w, "rule"), "{head}");
    }
    assert!(run.stdout.contains("Dry run (nothing stored)"), "{run}");

    // JSON: the same decisions, with the counts.
    let report = app.run(&["import", path, "--dry-run", "--json"]);
    report.expect_success();
    let report = report.json();
    assert!(!db.exists(), "a dry run created {}", db.display());
    let listed = items(&report, "decisions");
    assert_eq!(listed.len() as u64, u64_of(&report, "read"));
    assert_eq!(listed.len(), want.len());
    for (got, w) in listed.iter().zip(want) {
        assert_eq!(u64_of(got, "number"), u64_of(w, "position"));
        assert_eq!(message_id_of(got), str_of(w, "message_id"));
        assert_eq!(str_of(got, "decision"), str_of(w, "decision"));
        assert_eq!(str_of(got, "rule"), str_of(w, "rule"));
        // A duplicate names its original's ticket (the expected file leaves it out).
        if str_of(w, "decision") != "duplicate" {
            assert_eq!(ticket_of(got), w["ticket"].as_str().map(String::from));
        }
        assert_eq!(str_of(got, "classification"), str_of(w, "classification"));
        assert!(str_of(got, "source").starts_with(path), "{got:#}");
        assert!(!str_of(got, "reason").is_empty());
    }

    // On an existing database, the dry run decides against it and stores nothing.
    app.run(&["migrate"]).expect_success();
    app.import(&archive, &[]);
    let stored = app.decisions().len();
    let again = app.import(&archive, &["--dry-run"]);
    let listed = items(&again, "decisions");
    assert_eq!(listed.len(), want.len());
    assert!(
        listed.iter().all(|d| str_of(d, "decision") == "duplicate"),
        "{again:#}"
    );
    assert_eq!(
        app.decisions().len(),
        stored,
        "the dry run stored decisions"
    );
}

#[test]
fn a_path_without_mail_fails_and_says_what_was_skipped() {
    let app = App::new();

    // An empty folder.
    let empty = app.dir().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = app.run(&["import", empty.to_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stdout.contains("No mail found in"), "{run}");
    assert!(run.stderr.contains("no mail found in"), "{run}");

    // A folder of files that are not mail: each one named as skipped.
    let notes = app.write_file("papers/notes.txt", b"not mail");
    let scan = app.write_file("papers/scan.pdf", b"%PDF-1.4");
    let papers = app.dir().join("papers");
    let run = app.run(&["import", papers.to_str().unwrap(), "--json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(u64_of(&report, "read"), 0);
    assert_eq!(u64_of(&report, "skipped"), 2, "{report:#}");
    let skipped: Vec<&str> = items(&report, "skips")
        .iter()
        .map(|s| str_of(s, "position"))
        .collect();
    for file in [&notes, &scan] {
        let name = file.display().to_string();
        assert!(skipped.contains(&name.as_str()), "{report:#}");
        assert!(run.stderr.contains(&name), "{run}");
    }

    // An empty file is a reported skip, not a quarantined message.
    let blank = app.write_file("blank.eml", b"");
    let run = app.run(&["import", blank.to_str().unwrap()]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains(&format!("skipped {}: empty file", blank.display())),
        "{run}"
    );
    assert_eq!(summary_count(&run.stdout, "quarantined"), 0, "{run}");
    let held = array(app.ok_json(&["quarantine", "list", "--json"]), "quarantine");
    assert!(held.is_empty(), "an empty file was quarantined: {held:#?}");

    // Among mail, an empty file is skipped and the import succeeds.
    app.write_file("mixed/a.eml", &fixture("new-ticket.eml"));
    app.write_file("mixed/b.eml", b"\n\n");
    let report = app.import(&app.dir().join("mixed"), &[]);
    assert_eq!(u64_of(&report, "read"), 1, "{report:#}");
    assert_eq!(u64_of(&report, "created"), 1, "{report:#}");
    assert_eq!(u64_of(&report, "quarantined"), 0, "{report:#}");
    assert_eq!(u64_of(&report, "skipped"), 1, "{report:#}");
    assert_eq!(str_of(&items(&report, "skips")[0], "reason"), "empty file");
}
