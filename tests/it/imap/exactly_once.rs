//! Exactly once: the UID checkpoint across restarts, SIGKILL and SIGINT in the middle of a
//! backlog, mail arriving while the poller works, the repair of mail committed but not moved,
//! and a changed UIDVALIDITY.

use super::*;

/// The UID checkpoint survives a restart: in flags-only mode the handled mail stays in INBOX
/// (keyword `$MailgateProcessed`), a restarted poller handles none of it again — not even after a
/// person changed its \Seen flags — and new mail after the restart is handled. Mail that arrives
/// already \Seen is handled like any other (sync goes by UID, never by \Seen).
#[tokio::test]
async fn uid_checkpoint_survives_a_restart() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-checkpoint", |mb| mb.flags_only());
    let local = local_part(&test.user);
    let first: Vec<Vec<u8>> = (0..2).map(|n| customer_mail(&local, n, None)).collect();
    test.user.append_many("INBOX", &first).await;
    test.user
        .append_flagged("INBOX", &["\\Seen"], &customer_mail(&local, 2, None))
        .await;

    let mut run = test.start_connected().await;
    test.wait_decisions(3, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    assert_eq!(run.handled(), 3, "\\Seen mail is handled too");
    let flags = test.user.flags("INBOX").await;
    assert_eq!(flags.len(), 3, "flags-only mode leaves mail in INBOX");
    for (uid, flags) in &flags {
        assert!(
            flags.iter().any(|f| f == "$MailgateProcessed"),
            "UID {uid}: {flags:?}"
        );
    }
    assert!(
        !flags[0].1.iter().any(|f| f == "\\Seen"),
        "the poller must not mark mail \\Seen: {flags:?}"
    );
    assert!(
        test.user.folders().await == vec!["INBOX".to_string()],
        "flags-only mode creates no folder"
    );

    // A person reads one mail and marks another unread.
    let mut session = test.user.session().await;
    session.select("INBOX").await.expect("SELECT INBOX");
    for (uid, query) in [
        (flags[0].0, "+FLAGS (\\Seen)"),
        (flags[2].0, "-FLAGS (\\Seen)"),
    ] {
        let _: Vec<_> = session
            .uid_store(uid.to_string(), query)
            .await
            .expect("UID STORE")
            .try_collect()
            .await
            .expect("UID STORE");
    }
    session.logout().await.ok();

    let mut again = test.start_connected().await;
    // Time for a full sync; the old mail must not come back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(again.handled(), 0, "the restarted poller handled old mail");
    assert_eq!(test.decisions().len(), 3);

    let id = send(&test, 3).await;
    let decisions = test.wait_decisions(4, ONE_MAIL).await;
    assert_eq!(decisions.len(), 4);
    assert_exactly_once(&decisions);
    assert_eq!(message_id_of(&decisions[0]), id, "newest first");
    assert_eq!(test.tickets().len(), 4);
    again.stop(SHUTDOWN).await;
    assert_eq!(
        again.handled(),
        1,
        "only the new mail is handled after the restart"
    );
    let flags = test.user.flags("INBOX").await;
    assert_eq!(flags.len(), 4);
    assert!(
        flags
            .iter()
            .all(|(_, f)| f.iter().any(|f| f == "$MailgateProcessed"))
    );
}

/// SIGKILL of `mailgate run` three times in the middle of a 10,000-mail backlog (batches of
/// 200), each time after progress, then restarts until drained: every mail is stored exactly
/// once (10,000 distinct Message-IDs, only created/threaded decisions, one ticket per thread
/// starter), none is left in INBOX and Processed holds each mail once.
#[tokio::test]
async fn sigkill_during_a_10000_mail_backlog_loses_and_duplicates_nothing() {
    const COUNT: usize = 10_000;
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-kill9", |mut mb| {
        mb.batch_size = 200;
        mb
    });
    let local = local_part(&test.user);
    let backlog = backlog(&local, COUNT);
    let started = Instant::now();
    let uids = test.user.append_many("INBOX", &backlog.messages).await;
    assert_eq!(uids.len(), COUNT);
    eprintln!("appended {COUNT} mails in {:?}", started.elapsed());

    // Three kills at random-ish points between 2,000 and ~8,000 decisions, each after progress.
    // A kill lands between a batch's commit and its move only some of the time (the move runs
    // while the next batch commits); up to two more kills make it likelier that the repair at
    // the next start is exercised too (test `mail_committed_but_not_moved...` does for sure).
    // MAILGATE_KILL_DRILL=20 runs the issue's drill (20 kills) instead of CI's 3.
    let wanted: usize = std::env::var("MAILGATE_KILL_DRILL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let step = (8000 / wanted.max(1)).max(100);
    let mut threshold = if wanted > 3 {
        step
    } else {
        2000 + fastrand::usize(0..1500)
    };
    let mut kills = Vec::new();
    let mut repairs = Vec::new();
    while kills.len() < wanted
        || (repairs.is_empty() && kills.len() < wanted + 2 && threshold < 9000)
    {
        let before = test.decisions().len();
        let mut run = test.start();
        run.kill_when_handled(threshold - before, Duration::from_secs(180))
            .await;
        repairs.extend(run.lines("repairing mail handled before a crash"));
        let after = test.decisions();
        assert!(
            after.len() > before,
            "the run made no progress before the kill"
        );
        assert_exactly_once(&after);
        kills.push(format!(
            "killed at {} decisions (threshold {threshold}, {before} before the run, after {:?})",
            after.len(),
            run.uptime(),
        ));
        threshold = after.len()
            + if wanted > 3 {
                step / 2 + fastrand::usize(0..step)
            } else if kills.len() < 3 {
                1200 + fastrand::usize(0..1000)
            } else {
                500 + fastrand::usize(0..500)
            };
    }
    eprintln!("{}", kills.join("\n"));

    // Restart until drained.
    let before = test.decisions().len();
    let mut run = test.start();
    run.wait_handled(COUNT - before, Duration::from_secs(240))
        .await;
    test.wait_folder_len("INBOX", 0, Duration::from_secs(60))
        .await;
    run.stop(SHUTDOWN).await;
    repairs.extend(run.lines("repairing mail handled before a crash"));
    eprintln!("repairs after the kills: {repairs:#?}");
    assert_eq!(run.handled(), COUNT - before, "the last run handled more");
    eprintln!(
        "drained after the kills; whole test so far {:?}",
        started.elapsed()
    );

    let decisions = test.decisions();
    assert_eq!(decisions.len(), COUNT, "one decision per mail");
    let ids = assert_exactly_once(&decisions);
    assert!(
        ids == backlog.ids,
        "the decided Message-IDs differ from the mails sent"
    );
    assert_eq!(count_decisions(&decisions, "created"), backlog.starters);
    let tickets = test.tickets();
    assert_eq!(
        tickets.len(),
        backlog.starters,
        "one ticket per thread starter (no duplicate tickets)"
    );
    let stored: u64 = tickets.iter().map(|t| u64_of(t, "message_count")).sum();
    assert_eq!(stored, COUNT as u64, "messages stored on tickets");
    assert!(test.quarantine().is_empty());

    let processed = folder_ids(&test.user, "Processed").await;
    assert_eq!(processed.len(), COUNT, "Processed holds every mail once");
    let distinct: BTreeSet<String> = processed.into_iter().collect();
    assert!(distinct == backlog.ids, "Processed holds other mail");
    assert!(test.user.uids("INBOX").await.is_empty());
    eprintln!("whole test {:?}", started.elapsed());
}

/// SIGINT while a backlog drains: `mailgate run` finishes the batch in hand and exits 0 within
/// seconds ("stopped cleanly"); everything decided has left INBOX, nothing else has; a second
/// run drains the rest, each mail exactly once.
#[tokio::test]
async fn sigint_during_a_backlog_stops_cleanly_and_a_rerun_drains_the_rest() {
    const COUNT: usize = 4_000;
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-sigint", |mut mb| {
        mb.batch_size = 100;
        mb
    });
    let local = local_part(&test.user);
    let backlog = backlog(&local, COUNT);
    test.user.append_many("INBOX", &backlog.messages).await;

    let mut run = test.start();
    run.wait_handled(300, Duration::from_secs(120)).await;
    let took = run.stop(SHUTDOWN).await;
    eprintln!(
        "SIGINT after {} handled: exited 0 in {took:?}",
        run.handled()
    );
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");

    let decided = test.decisions();
    assert_eq!(decided.len(), run.handled(), "log and database agree");
    assert!(
        decided.len() < COUNT,
        "the backlog drained before SIGINT: make it bigger"
    );
    assert_exactly_once(&decided);
    // A clean stop acknowledges what it committed: INBOX holds exactly the undecided rest.
    let inbox = folder_ids(&test.user, "INBOX").await;
    let processed = folder_ids(&test.user, "Processed").await;
    assert_eq!(processed.len(), decided.len(), "Processed = decided mail");
    let decided_ids: BTreeSet<String> = decision_ids(&decided).into_iter().collect();
    assert!(
        processed.iter().all(|id| decided_ids.contains(id)),
        "undecided mail in Processed"
    );
    assert_eq!(
        inbox.len(),
        COUNT - decided.len(),
        "INBOX = the undecided rest"
    );
    assert!(
        inbox.iter().all(|id| !decided_ids.contains(id)),
        "decided mail left in INBOX after a clean stop"
    );

    let mut rerun = test.start();
    rerun
        .wait_handled(COUNT - decided.len(), Duration::from_secs(120))
        .await;
    test.wait_folder_len("INBOX", 0, Duration::from_secs(60))
        .await;
    rerun.stop(SHUTDOWN).await;
    let decisions = test.decisions();
    assert_eq!(decisions.len(), COUNT);
    assert!(assert_exactly_once(&decisions) == backlog.ids);
    assert_eq!(test.tickets().len(), backlog.starters);
    assert_eq!(
        test.user.uids("Processed").await.len(),
        COUNT,
        "Processed holds each mail once"
    );
}

/// Mail that keeps arriving while the poller drains a backlog (400 APPENDs one after the other)
/// is handled and moved out of INBOX while the poller runs: none is left behind as "handled but
/// not moved" until a restart.
#[tokio::test]
async fn mail_arriving_while_the_poller_works_is_handled_and_moved() {
    const BACKLOG: usize = 2_000;
    const LATE: usize = 400;
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-late", |mut mb| {
        mb.batch_size = 50;
        mb
    });
    let local = local_part(&test.user);
    let backlog = backlog(&local, BACKLOG);
    test.user.append_many("INBOX", &backlog.messages).await;

    let mut run = test.start();
    run.wait_handled(50, Duration::from_secs(120)).await;
    let mut ids = backlog.ids.clone();
    let mut session = test.user.session().await;
    for n in BACKLOG..BACKLOG + LATE {
        session
            .append("INBOX", None, None, customer_mail(&local, n, None))
            .await
            .expect("APPEND");
        ids.insert(mid(&local, n));
    }
    session.logout().await.ok();
    run.wait_handled(BACKLOG + LATE, Duration::from_secs(120))
        .await;
    let mut in_inbox = test.user.uids("INBOX").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !in_inbox.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        in_inbox = test.user.uids("INBOX").await;
    }
    run.stop(SHUTDOWN).await;
    let decisions = test.decisions();
    assert_eq!(decisions.len(), BACKLOG + LATE);
    assert!(assert_exactly_once(&decisions) == ids);
    assert!(
        in_inbox.is_empty(),
        "{} handled mail(s) still in INBOX while the poller ran (UIDs {in_inbox:?})",
        in_inbox.len()
    );
    assert_eq!(test.user.uids("Processed").await.len(), BACKLOG + LATE);
}

/// A crash between the commit and the move is repaired at the next start: mail at or below the
/// checkpoint still in INBOX (here: handled in flags-only mode, then its keyword removed — what a
/// crash right after the commit leaves) is moved by its stored decision (Processed, or Quarantine
/// for quarantined mail) without being decided again; new mail is handled as usual.
#[tokio::test]
async fn mail_committed_but_not_moved_is_moved_at_the_next_start() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-repair", |mb| mb.flags_only());
    let local = local_part(&test.user);
    let no_sender = format!(
        "To: support@example.test\r\nSubject: who sent this?\r\nMessage-ID: <{}>\r\n\r\nno sender\r\n",
        mid(&local, 1)
    );
    test.user
        .append_many(
            "INBOX",
            &[
                customer_mail(&local, 0, None),
                no_sender.into_bytes(),
                customer_mail(&local, 2, Some(0)),
            ],
        )
        .await;
    let mut run = test.start_connected().await;
    test.wait_decisions(3, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    let flags = test.user.flags("INBOX").await;
    let keywords: Vec<&str> = flags
        .iter()
        .map(|(_, f)| {
            f.iter()
                .find(|f| f.starts_with("$Mailgate"))
                .map(String::as_str)
                .unwrap_or("none")
        })
        .collect();
    assert_eq!(
        keywords,
        [
            "$MailgateProcessed",
            "$MailgateQuarantined",
            "$MailgateProcessed"
        ]
    );

    // "Committed but not acknowledged": the keywords go; a new mail arrives meanwhile.
    let mut session = test.user.session().await;
    session.select("INBOX").await.expect("SELECT INBOX");
    let _: Vec<_> = session
        .uid_store(
            "1:*",
            "-FLAGS.SILENT ($MailgateProcessed $MailgateQuarantined)",
        )
        .await
        .expect("UID STORE -FLAGS")
        .try_collect()
        .await
        .expect("UID STORE -FLAGS");
    session.logout().await.ok();
    test.user
        .append("INBOX", &customer_mail(&local, 3, None))
        .await;

    test.configure(&MailboxToml::for_user(stack, &test.user));
    let mut run = test.start_connected().await;
    test.wait_folder_len("INBOX", 0, ONE_MAIL).await;
    test.wait_decisions(4, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    assert_eq!(run.handled(), 1, "only the new mail is decided");
    assert_eq!(
        run.count("repairing mail handled before a crash acknowledged=3 without_decision=0"),
        1,
        "the repair is logged"
    );
    let decisions = test.decisions();
    assert_eq!(decisions.len(), 4, "no mail decided twice: {decisions:#?}");
    assert_eq!(count_decisions(&decisions, "quarantined"), 1);
    assert_eq!(
        folder_ids(&test.user, "Processed").await,
        vec![mid(&local, 0), mid(&local, 2), mid(&local, 3)]
    );
    assert_eq!(
        folder_ids(&test.user, "Quarantine").await,
        vec![mid(&local, 1)]
    );
    assert_eq!(test.tickets().len(), 2);
}

/// A stored decision the crash repair does not know (a decision renamed since it was stored) is
/// reported and its mail left where it is: never moved to Processed by guess. The mail with a
/// known decision is still repaired, and nothing is decided again.
#[tokio::test]
async fn mail_with_an_unknown_stored_decision_is_reported_and_left_in_place() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-unknown-decision", |mb| mb.flags_only());
    let local = local_part(&test.user);
    test.user
        .append_many(
            "INBOX",
            &[
                customer_mail(&local, 0, None),
                customer_mail(&local, 1, None),
            ],
        )
        .await;
    let mut run = test.start_connected().await;
    test.wait_decisions(2, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;

    // Mail 1's decision under a name the repair does not know.
    {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&test.app.db_url())
            .await
            .expect("open the test database");
        let renamed =
            sqlx::query("UPDATE decisions SET decision = 'escalated' WHERE message_id = ?1")
                .bind(mid(&local, 1))
                .execute(&mut db)
                .await
                .expect("rename the decision")
                .rows_affected();
        assert_eq!(renamed, 1);
    }
    // Committed but not acknowledged: the keywords go.
    let mut session = test.user.session().await;
    session.select("INBOX").await.expect("SELECT INBOX");
    let _: Vec<_> = session
        .uid_store("1:*", "-FLAGS.SILENT ($MailgateProcessed)")
        .await
        .expect("UID STORE -FLAGS")
        .try_collect()
        .await
        .expect("UID STORE -FLAGS");
    session.logout().await.ok();

    test.configure(&MailboxToml::for_user(stack, &test.user));
    let mut run = test.start_connected().await;
    run.wait_log("cannot repair this mail", 1, ONE_MAIL).await;
    test.wait_folder_len("Processed", 1, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    let reported = run.lines("cannot repair this mail");
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert!(
        reported[0].contains("ERROR") && reported[0].contains(r#"unknown decision "escalated""#),
        "{}",
        reported[0]
    );
    assert_eq!(
        run.count("repairing mail handled before a crash acknowledged=1 without_decision=0"),
        1,
        "only the mail with a known decision is acknowledged"
    );
    assert_eq!(run.handled(), 0, "nothing is decided again");
    assert_eq!(folder_ids(&test.user, "INBOX").await, vec![mid(&local, 1)]);
    assert_eq!(
        folder_ids(&test.user, "Processed").await,
        vec![mid(&local, 0)]
    );
    assert!(folder_ids(&test.user, "Quarantine").await.is_empty());
    assert_eq!(test.decisions().len(), 2);
}

/// A folder deleted and re-created (new UIDVALIDITY) with the same mail in it: the poller
/// re-scans it, stores nothing twice (an exact copy leaves no trace, a copy with one more trace
/// header is a `duplicate`), opens no ticket for old mail, moves it all out and handles new mail.
#[tokio::test]
async fn changed_uidvalidity_rescans_without_storing_twice() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-uidvalidity", |mut mb| {
        mb.folder = "Support".into();
        mb
    });
    let local = local_part(&test.user);
    let first: Vec<Vec<u8>> = vec![
        customer_mail(&local, 0, None),
        customer_mail(&local, 1, None),
        customer_mail(&local, 2, Some(0)),
    ];
    test.user.append_many("Support", &first).await;
    let mut run = test.start_connected().await;
    let decided = test.wait_decisions(3, ONE_MAIL).await;
    test.wait_folder_len("Support", 0, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    let old_validity = source_uid_validity(&decided[0]);

    // DELETE and CREATE: a new UIDVALIDITY; the same mail comes back, plus one new.
    let mut session = test.user.session().await;
    session.delete("Support").await.expect("DELETE Support");
    session.create("Support").await.expect("CREATE Support");
    let status = session
        .status("Support", "(UIDVALIDITY)")
        .await
        .expect("STATUS Support");
    session.logout().await.ok();
    let new_validity = status.uid_validity.expect("UIDVALIDITY");
    assert_ne!(new_validity, old_validity, "Dovecot kept the UIDVALIDITY");
    let mut changed = first[2].clone();
    changed.splice(
        0..0,
        b"X-Forwarded-By: someone@acme.test\r\n".iter().copied(),
    );
    test.user
        .append_many(
            "Support",
            &[
                first[0].clone(),
                first[1].clone(),
                changed,
                customer_mail(&local, 3, None),
            ],
        )
        .await;

    let mut run = test.start_connected().await;
    test.wait_folder_len("Support", 0, ONE_MAIL).await;
    let decisions = test.wait_decisions(5, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    assert!(
        run.count("UIDVALIDITY changed: re-scanning the folder") >= 1,
        "the re-scan is logged"
    );
    assert_eq!(decisions.len(), 5, "{decisions:#?}");
    let new: Vec<&Value> = decisions
        .iter()
        .filter(|d| source_uid_validity(d) == new_validity)
        .collect();
    assert_eq!(new.len(), 2, "{decisions:#?}");
    let duplicate = new
        .iter()
        .find(|d| message_id_of(d) == mid(&local, 2))
        .expect("the changed copy is decided on");
    assert_eq!(str_of(duplicate, "decision"), "duplicate", "{duplicate:#}");
    let fresh = new
        .iter()
        .find(|d| message_id_of(d) == mid(&local, 3))
        .expect("the new mail is decided on");
    assert_eq!(str_of(fresh, "decision"), "created", "{fresh:#}");
    let tickets = test.tickets();
    assert_eq!(tickets.len(), 3, "only the new mail opened a ticket");
    let stored: u64 = tickets.iter().map(|t| u64_of(t, "message_count")).sum();
    assert_eq!(stored, 4, "no message stored twice");
    assert_eq!(test.user.uids("Processed").await.len(), 7);

    // The new checkpoint holds: one more mail is handled once.
    test.user
        .append("Support", &customer_mail(&local, 4, None))
        .await;
    let mut run = test.start_connected().await;
    test.wait_decisions(6, ONE_MAIL).await;
    test.wait_folder_len("Support", 0, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
    assert_eq!(run.handled(), 1);
    assert_eq!(test.decisions().len(), 6);
}
