//! SPEC 12: "A crash at any point loses no mail and creates no duplicate ticket." An import is
//! killed with SIGKILL midway, rerun (reading on after its checkpoint), and must end exactly
//! where a clean import ends.

use std::{
    thread,
    time::{Duration, Instant},
};

use crate::{generator, support::*};

const MESSAGES: usize = 3_000;

/// Ticket references are `SUP-1..SUP-n` with no gap and no repeat.
#[track_caller]
fn assert_contiguous(tickets: &[serde_json::Value]) {
    for (i, t) in tickets.iter().enumerate() {
        assert_eq!(
            str_of(t, "ref"),
            format!("SUP-{}", i + 1),
            "gap or disorder in {t:#}"
        );
        assert!(u64_of(t, "message_count") >= 1, "{t:#}");
    }
}

fn total_messages(tickets: &[serde_json::Value]) -> u64 {
    tickets.iter().map(|t| u64_of(t, "message_count")).sum()
}

#[test]
fn import_killed_midway_resumes_without_loss_or_duplicates() {
    let messages = generator::archive(MESSAGES);

    // The reference: one clean import, timed.
    let clean = App::new();
    let clean_mbox = clean.dir().join("archive.mbox");
    write_mbox(&clean_mbox, &messages);
    let started = Instant::now();
    let report = clean.import(&clean_mbox, &["--format", "mbox"]);
    let clean_duration = started.elapsed();
    assert_eq!(u64_of(&report, "read"), MESSAGES as u64, "{report:#}");
    assert_eq!(u64_of(&report, "errors"), 0, "{report:#}");
    assert_report_balanced(&report);
    let expected = clean.tickets();
    assert_contiguous(&expected);
    let expected_messages = total_messages(&expected);
    assert_eq!(
        expected_messages,
        u64_of(&report, "created") + u64_of(&report, "threaded")
    );

    // The same archive, killed with SIGKILL midway. ~0.3 s is the target, but the kill must
    // land while the import is running and after it stored something: the delay starts at
    // the smaller of 0.3 s and half the clean run, and moves until a kill lands midway.
    let mut delay = Duration::from_millis(300).min(clean_duration / 2);
    let mut attempts = Vec::new();
    let (app, mbox) = loop {
        let app = App::new();
        let mbox = app.dir().join("archive.mbox");
        write_mbox(&mbox, &messages);
        let mut child = app.spawn(&[
            "import",
            mbox.to_str().unwrap(),
            "--format",
            "mbox",
            "--json",
        ]);
        thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();

        let partial = app.tickets();
        assert_contiguous(&partial);
        for t in &partial {
            let want = ticket_in(&expected, str_of(t, "ref"));
            assert_eq!(
                str_of(t, "subject"),
                str_of(want, "subject"),
                "the partial import numbered tickets in another order"
            );
        }
        let stored = total_messages(&partial);
        attempts.push(format!("{delay:?}: {stored}/{expected_messages} messages"));
        if !finished && stored > 0 && stored < expected_messages {
            break (app, mbox);
        }
        assert!(
            attempts.len() < 8,
            "could not kill the import midway (clean import took {clean_duration:?}); \
             attempts: {attempts:?}"
        );
        delay = if stored == 0 { delay * 2 } else { delay / 2 };
    };
    eprintln!(
        "killed import (clean run {clean_duration:?}): {}",
        attempts.join("; ")
    );

    // The re-run reads on after the last batch the killed run committed (its checkpoint is
    // in the same transaction): what it reads and what was stored before add up to the file.
    let rerun = app.import(&mbox, &["--format", "mbox"]);
    assert_report_balanced(&rerun);
    assert_eq!(u64_of(&rerun, "errors"), 0, "{rerun:#}");
    let before = u64_of(field(&rerun, "resumed"), "messages");
    assert!(before > 0, "{rerun:#}");
    assert_eq!(
        u64_of(&rerun, "read") + before,
        MESSAGES as u64,
        "{rerun:#}"
    );

    let after = app.tickets();
    assert_contiguous(&after);
    assert_eq!(after.len(), expected.len(), "ticket count after resume");
    assert_eq!(
        total_messages(&after),
        expected_messages,
        "message count after resume"
    );
    assert_eq!(
        ticket_summary(&after),
        ticket_summary(&expected),
        "resumed import differs from a clean import"
    );
}
