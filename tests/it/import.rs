//! `mailgate import` of the sample archive (SPEC 8): mbox, Maildir, eml folder, re-import,
//! dry run, archive mode, and the decision log.

use serde_json::Value;

use crate::support::*;

const COUNT_KEYS: [&str; 6] = [
    "read",
    "created",
    "threaded",
    "duplicates",
    "ignored",
    "quarantined",
];

#[track_caller]
fn assert_counts_match_expected(report: &Value, expected: &Value) {
    for key in COUNT_KEYS {
        assert_eq!(
            u64_of(report, key),
            u64_of(expected, key),
            "import report {key} differs from fixtures/sample-archive.expected.json\n{report:#}"
        );
    }
    assert_eq!(u64_of(report, "rejected"), 0, "{report:#}");
    assert_eq!(u64_of(report, "errors"), 0, "{report:#}");
    assert!(items(report, "failures").is_empty(), "{report:#}");
    assert_report_balanced(report);
}

#[track_caller]
fn assert_tickets_match_expected(tickets: &[Value], expected: &Value) {
    let want = items(expected, "tickets");
    let got: Vec<String> = tickets
        .iter()
        .map(|t| str_of(t, "ref").to_string())
        .collect();
    let want_refs: Vec<String> = want.iter().map(|t| str_of(t, "ref").to_string()).collect();
    assert_eq!(got, want_refs, "ticket references (ordered by number)");
    for (t, w) in tickets.iter().zip(want) {
        let reference = str_of(w, "ref");
        assert!(
            names_address(str_of(t, "requester"), str_of(w, "requester")),
            "{reference} requester: {t:#}"
        );
        assert_eq!(
            str_of(t, "subject"),
            str_of(w, "subject"),
            "{reference} subject"
        );
        assert_eq!(
            u64_of(t, "message_count"),
            u64_of(w, "message_count"),
            "{reference} message_count: {t:#}"
        );
        assert!(!bool_of(t, "escalation"));
    }
}

#[test]
fn mbox_sample_archive_matches_its_expected_outcome() {
    let expected = sample_expected();
    let app = App::new();
    let report = app.import(&sample_archive(), &[]);
    assert_counts_match_expected(&report, &expected);
    assert_tickets_match_expected(&app.tickets(), &expected);

    // Per message: the decision log, oldest first, equals the expected list.
    let mut logged = app.decisions();
    logged.reverse();
    let want = items(&expected, "messages");
    assert_eq!(
        logged.len(),
        want.len(),
        "one decision per message read: {logged:#?}"
    );
    for (got, w) in logged.iter().zip(want) {
        let position = u64_of(w, "position");
        assert_eq!(
            message_id_of(got),
            str_of(w, "message_id"),
            "message {position}: {got:#}"
        );
        assert_eq!(
            str_of(got, "decision"),
            str_of(w, "decision"),
            "message {position}: {got:#}"
        );
        assert_eq!(
            str_of(got, "rule"),
            str_of(w, "rule"),
            "message {position}: {got:#}"
        );
        assert_eq!(
            str_of(got, "classification"),
            str_of(w, "classification"),
            "message {position}: {got:#}"
        );
        if str_of(w, "decision") != "duplicate" {
            assert_eq!(
                ticket_of(got).as_deref(),
                w["ticket"].as_str(),
                "message {position}: {got:#}"
            );
        }
        assert!(!str_of(got, "reason").is_empty());
        assert!(!field(got, "source").is_null());
        rfc3339(got, "created_at");
        assert!(field(got, "id").is_number() || field(got, "id").is_string());
    }
}

#[test]
fn decisions_list_every_message_of_the_archive_newest_first() {
    let expected = sample_expected();
    let app = App::new();
    app.import(&sample_archive(), &["--format", "mbox"]);
    let logged = app.decisions();
    let mut ids: Vec<String> = logged.iter().map(message_id_of).collect();
    ids.reverse();
    let want: Vec<String> = items(&expected, "messages")
        .iter()
        .map(|m| str_of(m, "message_id").to_string())
        .collect();
    assert_eq!(ids, want);
    let times: Vec<_> = logged.iter().map(|d| rfc3339(d, "created_at")).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    let limited = array(
        app.ok_json(&["decisions", "--limit", "3", "--json"]),
        "decisions --limit 3",
    );
    assert_eq!(limited, logged[..3].to_vec(), "--limit keeps the newest");
}

fn sample_messages() -> Vec<Vec<u8>> {
    let messages = split_mbox(&std::fs::read(sample_archive()).unwrap());
    assert_eq!(messages.len() as u64, u64_of(&sample_expected(), "read"));
    messages
}

#[test]
fn maildir_and_eml_folder_give_the_same_tickets_as_mbox() {
    let expected = sample_expected();
    let mbox = App::new();
    mbox.import(&sample_archive(), &["--format", "mbox"]);
    let reference = ticket_summary(&mbox.tickets());

    let maildir = App::new();
    let root = maildir.dir().join("Maildir");
    write_maildir(&root, &sample_messages());
    let report = maildir.import(&root, &[]);
    assert_counts_match_expected(&report, &expected);
    assert_eq!(
        ticket_summary(&maildir.tickets()),
        reference,
        "Maildir (detected)"
    );

    let maildir2 = App::new();
    let root2 = maildir2.dir().join("md");
    write_maildir(&root2, &sample_messages());
    maildir2.import(&root2, &["--format", "maildir"]);
    assert_eq!(
        ticket_summary(&maildir2.tickets()),
        reference,
        "Maildir (--format)"
    );

    let eml = App::new();
    let folder = eml.dir().join("eml");
    write_eml_dir(&folder, &sample_messages());
    let report = eml.import(&folder, &[]);
    assert_counts_match_expected(&report, &expected);
    assert_eq!(
        ticket_summary(&eml.tickets()),
        reference,
        "eml folder (detected)"
    );

    let eml2 = App::new();
    let folder2 = eml2.dir().join("mails");
    write_eml_dir(&folder2, &sample_messages());
    eml2.import(&folder2, &["--format", "eml"]);
    assert_eq!(
        ticket_summary(&eml2.tickets()),
        reference,
        "eml folder (--format)"
    );
}

#[test]
fn reimport_is_idempotent() {
    let expected = sample_expected();
    let app = App::new();
    app.import(&sample_archive(), &[]);
    let tickets = app.tickets();
    let shown: Vec<Value> = tickets.iter().map(|t| app.show(str_of(t, "ref"))).collect();

    let again = app.import(&sample_archive(), &[]);
    assert_eq!(
        u64_of(&again, "read"),
        u64_of(&expected, "read"),
        "{again:#}"
    );
    assert_eq!(u64_of(&again, "created"), 0, "{again:#}");
    assert_eq!(u64_of(&again, "threaded"), 0, "{again:#}");
    assert_eq!(
        u64_of(&again, "duplicates"),
        u64_of(&again, "read"),
        "{again:#}"
    );
    assert_report_balanced(&again);
    assert_eq!(app.tickets(), tickets, "the ticket table is unchanged");
    for before in &shown {
        let after = app.show(str_of(before, "ref"));
        assert_eq!(items(&after, "messages"), items(before, "messages"));
        assert_eq!(items(&after, "participants"), items(before, "participants"));
    }
}

#[test]
fn dry_run_reports_the_same_counts_and_stores_nothing() {
    let expected = sample_expected();
    let app = App::new();
    let report = app.import(&sample_archive(), &["--dry-run"]);
    assert_counts_match_expected(&report, &expected);
    assert!(app.tickets().is_empty(), "--dry-run stored tickets");
    assert!(app.decisions().is_empty(), "--dry-run stored decisions");
    // And a real import afterwards still sees everything as new.
    let real = app.import(&sample_archive(), &[]);
    assert_counts_match_expected(&real, &expected);
}

#[test]
fn archive_mode_closes_tickets_and_keeps_original_dates() {
    let expected = sample_expected();
    let app = App::new();
    let report = app.import(&sample_archive(), &["--archive"]);
    assert_counts_match_expected(&report, &expected);
    let tickets = app.tickets();
    assert_tickets_match_expected(&tickets, &expected);
    for t in &tickets {
        assert_eq!(str_of(t, "status"), "closed", "{t:#}");
    }
    let first_dates = [
        ("SUP-1", "2024-03-04T09:15:00Z"),
        ("SUP-2", "2024-03-04T09:40:00Z"),
        ("SUP-3", "2024-03-04T16:00:00Z"),
        ("SUP-6", "2024-03-05T10:00:00Z"),
        ("SUP-7", "2024-03-06T08:00:00Z"),
    ];
    for (reference, date) in first_dates {
        let t = ticket_in(&tickets, reference);
        let want = chrono::DateTime::parse_from_rfc3339(date).unwrap();
        assert_eq!(
            rfc3339(t, "created_at"),
            want,
            "{reference} created_at: {t:#}"
        );
        assert!(rfc3339(t, "updated_at") >= want, "{t:#}");
    }
    // Messages keep their own Date.
    let shown = app.show("SUP-3");
    let dates: Vec<_> = items(&shown, "messages")
        .iter()
        .map(|m| rfc3339(m, "date").to_utc().to_rfc3339())
        .collect();
    assert_eq!(
        dates,
        [
            "2024-03-04T16:00:00+00:00",
            "2024-03-04T18:00:00+00:00",
            "2024-03-05T14:00:00+00:00"
        ]
    );
}

#[test]
fn status_filter_lists_only_matching_tickets() {
    let app = App::new();
    app.import(&sample_archive(), &[]);
    let all = app.tickets();
    let mut total = 0;
    for status in ["new", "open", "pending", "resolved", "closed"] {
        let listed = app.tickets_with_status(status);
        assert!(
            listed.iter().all(|t| str_of(t, "status") == status),
            "{listed:#?}"
        );
        total += listed.len();
    }
    assert_eq!(total, all.len());
    let run = app.run(&["tickets", "list", "--status", "sleeping", "--json"]);
    assert!(
        matches!(run.code, Some(1) | Some(2)),
        "an unknown status is refused\n{run}"
    );
    run.assert_no_panic();
}
