//! The poller keeps going: it reconnects after the IMAP server restarts, one failing mailbox
//! does not stop another, and SIGINT stops it within seconds even when the server does not
//! answer.

use super::*;

/// Dovecot restarted under a running poller, in the middle of a backlog and with mail sent
/// during the restart: the session breaks, the poller reconnects (with backoff) and carries on;
/// every mail of the backlog, the mail sent during the restart and mail sent after it are handled
/// exactly once.
#[tokio::test]
async fn poller_reconnects_after_the_imap_server_restarts() {
    const COUNT: usize = 6_000;
    let stack = MailStack::get();
    let exclusive = stack.exclusive().await;
    let test = PollerTest::new("poller-restart", |mut mb| {
        // Small batches: the drain lasts long enough for the restart to land in the middle.
        mb.batch_size = 25;
        mb
    });
    let local = local_part(&test.user);
    let backlog = backlog(&local, COUNT);
    test.user.append_many("INBOX", &backlog.messages).await;
    let mut run = test.start_connected().await;
    run.wait_handled(200, Duration::from_secs(120)).await;

    let pid = stack.dovecot_pid();
    let (_, during) = tokio::join!(stack.restart_dovecot(&exclusive), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        send(&test, COUNT).await
    });
    assert_ne!(stack.dovecot_pid(), pid, "Dovecot was not restarted");
    let restarted = Instant::now();
    run.wait_connected(2, Duration::from_secs(60)).await;
    let log = run.log();
    let broke_at = log
        .find("mailbox session failed; reconnecting")
        .expect("the broken session is logged");
    let handled_before = log[..broke_at].matches(HANDLED).count();
    eprintln!(
        "the session broke after {handled_before} of {COUNT} mails; reconnected {:?} after the \
         restart returned",
        restarted.elapsed()
    );
    assert!(
        handled_before < COUNT,
        "the backlog drained before Dovecot restarted: make it bigger"
    );

    run.wait_handled(COUNT + 1, Duration::from_secs(120)).await;
    let after = send(&test, COUNT + 1).await;
    let decisions = test.wait_decisions(COUNT + 2, ONE_MAIL).await;
    assert_eq!(message_id_of(&decisions[0]), after);
    assert!(
        decision_ids(&decisions).contains(&during),
        "the mail sent during the restart is handled"
    );
    let mut expected = backlog.ids.clone();
    expected.insert(during);
    expected.insert(after);
    assert!(assert_exactly_once(&decisions) == expected);
    assert_eq!(test.tickets().len(), backlog.starters + 2);
    test.wait_folder_len("INBOX", 0, ONE_MAIL).await;
    assert_eq!(test.user.uids("Processed").await.len(), COUNT + 2);
    run.stop(SHUTDOWN).await;
    assert_eq!(run.handled(), COUNT + 2);
}

/// One mailbox that cannot log in (wrong password) does not stop another: the good one handles
/// its mail while the bad one keeps retrying, and SIGINT stops both cleanly.
#[tokio::test]
async fn a_failing_mailbox_does_not_stop_another() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-two", |mb| mb);
    let other = stack.new_user("poller-two");
    let good = MailboxToml::for_user(stack, &test.user);
    // PASSWORD_ENV holds the first user's password: wrong for `other`.
    let mut bad = MailboxToml::for_user(stack, &other);
    bad.name = "escalations".into();
    test.configure_all(&[bad, good]);

    let mut run = test.start();
    run.wait_log("cannot log in to the mailbox; retrying", 1, ONE_MAIL)
        .await;
    run.wait_connected(1, ONE_MAIL).await;
    let id = send(&test, 1).await;
    let decisions = test.wait_decisions(1, ONE_MAIL).await;
    assert_eq!(message_id_of(&decisions[0]), id);
    assert_eq!(str_of(&decisions[0], "mailbox"), "support");
    test.wait_folder_len("Processed", 1, ONE_MAIL).await;
    run.wait_log("cannot log in to the mailbox; retrying", 2, ONE_MAIL)
        .await;
    assert!(
        run.log()
            .contains(&format!("login as {} refused", other.address)),
        "the refused login is named"
    );
    run.stop(SHUTDOWN).await;
    assert_eq!(other.folders().await, vec!["INBOX".to_string()]);
}

/// SIGINT while the poller waits for a server that accepted the TCP connection but never
/// answers (a hung or overloaded IMAP server): `mailgate run` still stops within seconds, as it
/// does while waiting in IDLE or backing off.
#[tokio::test]
async fn sigint_while_the_server_does_not_answer_stops_within_seconds() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    // The kernel completes the TCP handshake for a listener nobody accepts on: the client is
    // connected and waits for a greeting that never comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = silent.local_addr().unwrap().port();
    let test = PollerTest::new("poller-silent", |mut mb| {
        mb.host = "127.0.0.1".into();
        mb.port = port;
        mb.tls = "none";
        mb.ca_file = None;
        mb
    });
    let mut run = test.start();
    tokio::time::sleep(Duration::from_secs(2)).await;
    run.assert_running();
    assert_eq!(run.connected(), 0);
    run.signal("INT");
    let exited = run.try_wait_exit(Duration::from_secs(10)).await;
    let Some((status, took)) = exited else {
        run.kill();
        panic!(
            "mailgate run still ran 10 s after SIGINT: a poller waiting for a server that does \
             not answer ignores shutdown (it gives up only at the 30 s connect step timeout)"
        );
    };
    eprintln!("SIGINT while connecting to a silent server: {status} after {took:?}");
    assert_eq!(status.code(), Some(0), "exit status after SIGINT");
    assert!(run.log().contains(STOPPED_CLEANLY));
    drop(silent);
}
