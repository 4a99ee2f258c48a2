//! Non-ASCII recipients through the real Postfix. The test stack runs with
//! `smtputf8_enable = no` (scripts/mailstack/main.cf.in: Dovecot's LMTP behind it takes no
//! SMTPUTF8), so its EHLO offers no SMTPUTF8: a non-ASCII domain goes as its A-label and is
//! delivered; a non-ASCII local part is refused for that recipient, before any RCPT, with the
//! reason, and the others still get the mail. (The SMTPUTF8 side — UTF-8 header, `MAIL FROM:<…>
//! SMTPUTF8` — is unit-tested in src/outbox/render.rs and src/delivery/smtp.rs.)

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use mail_parser::MessageParser;

use super::{Gate, Smtp, app_with, inbox, insert, open_ticket, outbox, row, wait_for_status};
use crate::support::{IT_DOMAIN, MailStack, TestUser, addresses, str_of, wait_for};

/// The raw mail with Message-ID `id` in `user`'s INBOX, waiting up to 30 s for it.
async fn find_by_message_id(user: &TestUser, id: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut session = user.session().await;
        session.examine("INBOX").await.expect("EXAMINE INBOX");
        let uids = session
            .uid_search(format!("HEADER Message-ID \"{id}\""))
            .await
            .expect("UID SEARCH");
        if let Some(uid) = uids.into_iter().next() {
            let fetches: Vec<_> = session
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                .await
                .expect("UID FETCH")
                .try_collect()
                .await
                .expect("UID FETCH");
            let _ = session.logout().await;
            return fetches[0].body().expect("BODY[]").to_vec();
        }
        let _ = session.logout().await;
        assert!(
            Instant::now() < deadline,
            "{}: no mail with Message-ID <{id}> after 30 s",
            user.address
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_non_ascii_recipients_without_smtputf8() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let good = stack.new_user("outbox-intl");
    let app = app_with(&Smtp::plain(stack.smtp_port));
    let pid = std::process::id();
    let nonce = fastrand::u32(..);
    // Needs SMTPUTF8 (refused by us, never sent to Postfix).
    let utf8_local = format!("josé-{pid}@{IT_DOMAIN}");
    // Only the domain is non-ASCII: sent as idn-…@xn--bcher-kva.test, which the stack delivers
    // to its catch-all mailbox.
    let idn = format!("idn-{pid}-{nonce}@bücher.test");
    let idn_a_label = format!("idn-{pid}-{nonce}@xn--bcher-kva.test");
    open_ticket(&app, &utf8_local, "outbox-intl").await;

    let recipients = [good.address.as_str(), utf8_local.as_str(), idn.as_str()];
    let mut mixed = row(&recipients, 1);
    mixed.ticket = Some(1);
    let mixed_message_id = mixed.message_id.clone();
    let mixed = insert(&app, &mixed).await;
    let alone = [utf8_local.as_str()];
    let mut only_utf8 = row(&alone, 2);
    only_utf8.ticket = Some(1);
    let only_utf8 = insert(&app, &only_utf8).await;

    let gate = Gate::start(&app);
    let rows = wait_for_status(&app, &gate, "sent", 1).await;
    let rows = if rows.iter().any(|r| str_of(r, "status") == "failed") {
        rows
    } else {
        wait_for_status(&app, &gate, "failed", 1).await
    };
    let by_id = |id: i64| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    let reason = format!("recipient {utf8_local} needs SMTPUTF8, which the server does not offer");

    let m = by_id(mixed);
    assert_eq!(str_of(&m, "status"), "sent", "{m:#}");
    assert_eq!(
        m["delivered_to"],
        serde_json::json!([good.address, idn]),
        "{m:#}"
    );
    assert_eq!(m["refused"][0]["address"], utf8_local.as_str(), "{m:#}");
    assert_eq!(str_of(&m["refused"][0], "error"), reason, "{m:#}");
    assert_eq!(m["attempts"], 1);

    let only = by_id(only_utf8);
    assert_eq!(str_of(&only, "status"), "failed", "{only:#}");
    assert_eq!(only["attempts"], 1, "a refusal is not retried");
    assert_eq!(str_of(&only, "last_error"), reason, "{only:#}");

    // Delivered, 7-bit, with the A-label in To: and the refused address left out.
    let mail = inbox(&good, 1).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].is_ascii(), "{}", String::from_utf8_lossy(&mail[0]));
    let parsed = MessageParser::default().parse(&mail[0]).unwrap();
    assert_eq!(parsed.message_id(), Some(mixed_message_id.as_str()));
    let to = vec![good.address.clone(), idn_a_label.clone()];
    assert_eq!(addresses(parsed.header("To")), to);
    // The A-label address reached its mailbox (the catch-all), with the same header.
    let catchall = stack.fixed_user(&stack.catchall);
    let copy = find_by_message_id(&catchall, &mixed_message_id).await;
    let parsed = MessageParser::default().parse(&copy).unwrap();
    assert_eq!(addresses(parsed.header("To")), to);
    // Postfix's log names the envelope recipient it was given: the A-label.
    let log = stack
        .env
        .get("MAILSTACK_POSTFIX_LOG")
        .expect("MAILSTACK_POSTFIX_LOG");
    let delivered = format!("orig_to=<{idn_a_label}>");
    wait_for(
        "the catch-all delivery in Postfix's log",
        Duration::from_secs(10),
        async || {
            let text = std::fs::read(log).unwrap_or_default();
            String::from_utf8_lossy(&text)
                .lines()
                .any(|l| l.contains(&delivered) && l.contains("status=sent"))
        },
    )
    .await;
    gate.stop().await;

    // Recorded on the ticket like any refusal.
    let show = app.show("SUP-1");
    let notes: Vec<(String, String)> = show["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| str_of(d, "decision").starts_with("send-"))
        .map(|d| (str_of(d, "decision").into(), str_of(d, "reason").into()))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(
        notes
            .iter()
            .any(|(d, r)| d == "send-partly-refused" && r.contains(&reason)),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|(d, r)| d == "send-failed" && r.contains(&reason)),
        "{notes:#?}"
    );
    assert_eq!(outbox(&app).len(), 2, "nothing sent twice");
}
