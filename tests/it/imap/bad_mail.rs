//! Bad mail (over the size limit, without a sender) is quarantined and moved to the Quarantine
//! folder; the good mail behind it flows.

use super::*;

/// Mail over the mailbox's `max_message_bytes` (only its header is downloaded) and mail without
/// any sender header are quarantined with their reasons and moved to the Quarantine folder, and
/// the good mail behind them becomes a ticket and goes to Processed.
#[tokio::test]
async fn oversized_and_unparseable_mail_is_quarantined_and_good_mail_behind_flows() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-bad", |mut mb| {
        mb.max_message_bytes = Some(20_000);
        mb
    });
    let local = local_part(&test.user);
    let mut big = format!(
        "From: Jane <jane@acme.test>\r\nTo: support@example.test\r\nSubject: full log\r\n\
         Message-ID: <{}>\r\n\r\n",
        mid(&local, 0)
    )
    .into_bytes();
    for i in 0..2300 {
        big.extend_from_slice(
            format!("log line {i:05}: everything is on fire again\r\n").as_bytes(),
        );
    }
    assert!(big.len() > 100_000, "{}", big.len());
    let no_sender = format!(
        "To: support@example.test\r\nSubject: anonymous\r\nMessage-ID: <{}>\r\n\r\nwho am I?\r\n",
        mid(&local, 1)
    );
    test.user
        .append_many(
            "INBOX",
            &[
                big.clone(),
                no_sender.into_bytes(),
                customer_mail(&local, 2, None),
            ],
        )
        .await;

    let mut run = test.start_connected().await;
    test.wait_decisions(3, ONE_MAIL).await;
    test.wait_folder_len("INBOX", 0, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;

    let decisions = test.decisions();
    let by_id = |n: usize| {
        decisions
            .iter()
            .find(|d| message_id_of(d) == mid(&local, n))
            .unwrap_or_else(|| panic!("no decision for mail {n}: {decisions:#?}"))
    };
    assert_decision(by_id(0), "quarantined", "over-size", None);
    assert_decision(by_id(1), "quarantined", "unparseable", None);
    assert_decision(by_id(2), "created", "new-ticket", Some("SUP-1"));

    let held = test.quarantine();
    assert_eq!(held.len(), 2, "{held:#?}");
    let entry = |n: usize| {
        held.iter()
            .find(|e| message_id_of(e) == mid(&local, n))
            .unwrap_or_else(|| panic!("mail {n} not in quarantine list: {held:#?}"))
    };
    let oversized = entry(0);
    assert!(
        str_of(oversized, "reason").starts_with("over-size"),
        "{oversized:#}"
    );
    assert!(
        str_of(oversized, "reason").contains(&format!("{} bytes", big.len())),
        "the reason names the real size: {oversized:#}"
    );
    assert!(bool_of(oversized, "header_only"), "{oversized:#}");
    assert_eq!(
        u64_of(oversized, "size"),
        big.len() as u64,
        "the size is the mail's as the server reported it, not the kept header's"
    );
    let unparseable = entry(1);
    assert!(
        str_of(unparseable, "reason").starts_with("unparseable"),
        "{unparseable:#}"
    );
    assert!(
        str_of(unparseable, "reason").contains("sender"),
        "{unparseable:#}"
    );
    assert!(!bool_of(unparseable, "header_only"), "{unparseable:#}");
    for e in &held {
        assert_eq!(str_of(e, "status"), "held");
        assert_eq!(str_of(e, "mailbox"), "support");
    }

    assert_eq!(test.tickets().len(), 1);
    assert_eq!(
        folder_ids(&test.user, "Quarantine").await,
        vec![mid(&local, 0), mid(&local, 1)]
    );
    assert_eq!(
        folder_ids(&test.user, "Processed").await,
        vec![mid(&local, 2)]
    );
    let kept = test.user.fetch_all("Quarantine").await;
    assert!(
        kept.iter().any(|(_, raw)| raw.len() == big.len()),
        "the big mail is kept whole in the Quarantine folder"
    );
}
