//! Mail is picked up: delivered over SMTP it becomes a ticket and moves to Processed; with
//! IDLE within seconds, with polling on its interval.

use super::*;

/// Mail delivered over SMTP becomes a ticket; the message is moved from INBOX to Processed
/// without being marked \Seen, and SIGINT stops the poller cleanly (exit 0).
#[tokio::test]
async fn smtp_mail_becomes_a_ticket_and_moves_to_processed() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-smtp", |mb| mb);
    let mut run = test.start_connected().await;
    let id = send(&test, 1).await;

    let decisions = test.wait_decisions(1, ONE_MAIL).await;
    assert_eq!(decisions.len(), 1, "{decisions:#?}");
    assert_decision(&decisions[0], "created", "new-ticket", Some("SUP-1"));
    assert_eq!(message_id_of(&decisions[0]), id);
    assert_eq!(str_of(&decisions[0], "mailbox"), "support");
    let tickets = test.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(str_of(&tickets[0], "subject"), "Order 1 has not arrived");
    assert!(names_address(
        str_of(&tickets[0], "requester"),
        "customer1@acme1.test"
    ));

    test.wait_folder_len("INBOX", 0, ONE_MAIL).await;
    assert_eq!(folder_ids(&test.user, "Processed").await, vec![id]);
    let flags = test.user.flags("Processed").await;
    assert!(
        !flags[0].1.iter().any(|f| f == "\\Seen"),
        "the poller must not mark mail \\Seen: {flags:?}"
    );
    run.stop(SHUTDOWN).await;
    assert_eq!(run.handled(), 1);
}

/// Sends one mail to an idle poller configured with `idle` and `poll_interval_secs`, then stops
/// it with `signal`: returns how long the mail took from SMTP to its committed decision.
async fn pickup_latency(tag: &str, idle: bool, poll_interval_secs: u64, signal: &str) -> Duration {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new(tag, |mut mb| {
        mb.idle = idle;
        mb.poll_interval_secs = poll_interval_secs;
        mb
    });
    let mut run = test.start_connected().await;
    assert_eq!(
        run.count(&format!("idle={idle}")),
        1,
        "the connected line says whether IDLE is used"
    );
    // Let the first (empty) sync finish so that the poller is waiting when the mail comes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = Instant::now();
    let id = send(&test, 1).await;
    let decisions = test.wait_decisions(1, ONE_MAIL).await;
    let latency = sent.elapsed();
    assert_eq!(message_id_of(&decisions[0]), id);
    assert_eq!(str_of(&decisions[0], "decision"), "created");
    test.wait_folder_len("Processed", 1, ONE_MAIL).await;
    run.stop_with(signal, SHUTDOWN).await;
    latency
}

/// With IDLE, new mail is handled within seconds although the poll interval is an hour.
#[tokio::test]
async fn idle_picks_up_new_mail_without_waiting_for_a_poll() {
    let latency = pickup_latency("poller-idle", true, 3600, "INT").await;
    eprintln!("IDLE: SMTP to committed decision in {latency:?}");
    assert!(
        latency < Duration::from_secs(10),
        "IDLE took {latency:?}: the poller did not wake up on EXISTS"
    );
}

/// IDLE is ended and re-issued every `idle_renew_secs` even when the server keeps it alive
/// with keepalives, and new mail still wakes the poller after renewals.
#[tokio::test]
async fn idle_is_renewed_on_its_cap_and_still_wakes_on_new_mail() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-idle-renew", |mut mb| {
        mb.idle_renew_secs = Some(1);
        mb.poll_interval_secs = 3600;
        mb
    });
    let mut run = test.start_connected().await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let renewals = run.count("IDLE renewed");
    assert!(
        renewals >= 2,
        "IDLE renewed {renewals} times in 3.5 s with a 1 s cap"
    );
    let id = send(&test, 1).await;
    let decisions = test.wait_decisions(1, ONE_MAIL).await;
    assert_eq!(message_id_of(&decisions[0]), id);
    run.stop(SHUTDOWN).await;
}

/// With `idle = false` the poller polls every `poll_interval_secs` and still picks mail up;
/// SIGTERM stops it as cleanly as SIGINT.
#[tokio::test]
async fn polling_fallback_picks_up_new_mail() {
    let latency = pickup_latency("poller-poll", false, 1, "TERM").await;
    eprintln!("polling every 1 s: SMTP to committed decision in {latency:?}");
    assert!(
        latency < Duration::from_secs(15),
        "polling took {latency:?}"
    );
}
