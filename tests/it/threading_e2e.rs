//! Threading end to end through the real stack (issue 4): `mailgate run` polls a support
//! mailbox and sends its notifications through Postfix; customers are other users of the stack
//! who write over SMTP and read their IMAP INBOX. The acknowledgement arrives with the right
//! headers; replies built from it thread back by In-Reply-To and by the plus-address alone.
//! Autoresponders that answer everything (`autoresponders`) get no more than the cap.

use std::time::Duration;

use mail_parser::MessageParser;
use serde_json::Value;

use crate::support::*;

/// One mail's way through SMTP, Dovecot, the poller, the outbox and back.
const ROUND_TRIP: Duration = Duration::from_secs(60);
const SECRET: &str = "threading-e2e-secret";

/// `[smtp]` to the stack's plain SMTP port on loopback, the support address = the polled
/// mailbox's user, a reply-token secret, and `max_automatic_per_hour = cap`.
fn configure(test: &PollerTest, cap: u32) {
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let key = test.app.write_file("hmac.key", SECRET.as_bytes());
    let tickets = format!(
        "support_address = {}\nsecret_file = {}\n",
        s(&format!("Example Support <{}>", test.user.address)),
        s(&key.display().to_string())
    );
    let extra = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 5\n\
         retry_base_secs = 1\nretry_max_secs = 1\n\n[notify]\nmax_automatic_per_hour = {cap}\n",
        test.stack.smtp_port
    );
    let mailbox = MailboxToml::for_user(test.stack, &test.user);
    test.configure_with(std::slice::from_ref(&mailbox), &tickets, &extra);
}

fn mail(from: &str, to: &str, subject: &str, id: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The decision of the mail with Message-ID `id` (bare).
async fn decision_of(test: &PollerTest, id: &str) -> Value {
    let mut found = None;
    wait_for(&format!("a decision on <{id}>"), ROUND_TRIP, async || {
        found = test
            .decisions()
            .into_iter()
            .find(|d| bare_id(str_of(d, "message_id")) == id);
        if found.is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        found.is_some()
    })
    .await;
    found.unwrap()
}

fn outbox(app: &App) -> Vec<Value> {
    array(app.ok_json(&["outbox", "list", "--json"]), "outbox list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plus_addressed_mail_reaches_the_users_inbox() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let user = stack.new_user("thr-plus");
    let to = user.plus_address("SUP1.abc_DEF-9");
    let id = format!("plus-{}@acme.test", std::process::id());
    let raw = mail("a@acme.test", &to, "plus", &id, "", "hello");
    stack.send_smtp("a@acme.test", &[&to], &raw).await.unwrap();
    user.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    let got = user.fetch_all("INBOX").await;
    let m = MessageParser::default().parse(&got[0].1).unwrap();
    assert_eq!(m.message_id(), Some(id.as_str()));
    let delivered = m
        .header_raw("Delivered-To")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    assert_eq!(
        delivered,
        to.to_ascii_lowercase(),
        "Delivered-To keeps the detail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledgement_and_replies_thread_back_through_the_real_stack() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("thr-e2e", |m| m);
    configure(&test, 3);
    let customer = stack.new_user("thr-e2e-cust");
    let support = test.user.address.clone();
    let mut run = test.start_connected().await;

    // 1. The customer's first mail: SUP-1 and an acknowledgement in the customer's INBOX.
    let pid = std::process::id();
    let first = format!("first-{pid}@acme.test");
    let raw = mail(
        &format!("Jane <{}>", customer.address),
        &support,
        "Printer on fire",
        &first,
        "",
        "Hello,\r\n\r\nthe printer is on fire.\r\n\r\nJane",
    );
    stack
        .send_smtp(&customer.address, &[&support], &raw)
        .await
        .unwrap();
    assert_decision(
        &decision_of(&test, &first).await,
        "created",
        "new-ticket",
        Some("SUP-1"),
    );
    customer.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    let inbox = customer.fetch_all("INBOX").await;
    assert_eq!(inbox.len(), 1);
    let ack_raw = inbox[0].1.clone();
    let ack = MessageParser::default().parse(&ack_raw).unwrap();
    assert_eq!(addresses(ack.header("From")), vec![support.clone()]);
    assert_eq!(addresses(ack.header("To")), vec![customer.address.clone()]);
    let reply_to = addresses(ack.header("Reply-To"));
    let (local, domain) = support.split_once('@').unwrap();
    assert_eq!(reply_to.len(), 1, "{reply_to:?}");
    assert!(
        reply_to[0].starts_with(&format!("{local}+"))
            && reply_to[0].ends_with(&format!("@{domain}")),
        "Reply-To is a plus-address of the support address: {reply_to:?}"
    );
    assert_eq!(ack.in_reply_to().as_text(), Some(first.as_str()));
    assert_eq!(ack.references().as_text(), Some(first.as_str()));
    let subject = ack.subject().unwrap().to_string();
    assert!(subject.contains("[SUP-1]"), "{subject}");
    assert_eq!(subject.matches("[SUP-1]").count(), 1, "{subject}");
    assert_eq!(
        ack.header("Auto-Submitted").and_then(|v| v.as_text()),
        Some("auto-replied")
    );
    assert_eq!(
        ack.header("X-Auto-Response-Suppress")
            .and_then(|v| v.as_text()),
        Some("All")
    );
    let ack_id = ack.message_id().unwrap().to_string();
    assert!(ack_id.ends_with(&format!("@{domain}")), "{ack_id}");

    // 2. The customer answers the acknowledgement as a mail client does: In-Reply-To its
    // Message-ID, References its References plus its Message-ID, "Re: " + its subject.
    let reply1 = format!("reply1-{pid}@acme.test");
    let refs = format!("<{first}> <{ack_id}>");
    let raw = mail(
        &format!("Jane <{}>", customer.address),
        &reply_to[0],
        &format!("Re: {subject}"),
        &reply1,
        &format!("In-Reply-To: <{ack_id}>\r\nReferences: {refs}\r\n"),
        "It is still burning.\r\n\r\nOn Mon, support wrote:\r\n> We got your mail.",
    );
    stack
        .send_smtp(&customer.address, &[&reply_to[0]], &raw)
        .await
        .unwrap();
    assert_decision(
        &decision_of(&test, &reply1).await,
        "threaded",
        "in-reply-to",
        Some("SUP-1"),
    );

    // 3. No In-Reply-To, no References, no tag: only the plus-address of the Reply-To.
    let reply2 = format!("reply2-{pid}@acme.test");
    let raw = mail(
        &format!("Jane <{}>", customer.address),
        &reply_to[0],
        "One more thing",
        &reply2,
        "",
        "The fire brigade is here.",
    );
    stack
        .send_smtp(&customer.address, &[&reply_to[0]], &raw)
        .await
        .unwrap();
    assert_decision(
        &decision_of(&test, &reply2).await,
        "threaded",
        "plus-address",
        Some("SUP-1"),
    );
    let tickets = test.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(
        customer.uids("INBOX").await.len(),
        1,
        "replies are not acknowledged"
    );
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}

mod autoresponders;
