//! Issue 12 item 3 through the real stack: `mailgate run` polls the support mailbox and sends
//! over Postfix; the customer, the agent and a forger are users of the stack.
//!
//! - a mail whose From is the agent's address, sent by anybody over SMTP, is stored as an
//!   unverified note and never reaches the customer;
//! - the agent's answer to the reply address mailgate signed for them (on the critical
//!   resolution mail they received) is relayed to the customer from the support address.

use std::time::Duration;

use crate::support::*;

const ROUND_TRIP: Duration = Duration::from_secs(60);

fn mail(from: &str, to: &str, subject: &str, id: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Waits until the outbox has no pending row (everything queued was sent or failed).
async fn outbox_drained(test: &PollerTest) {
    wait_for("the outbox to drain", ROUND_TRIP, async || {
        // The table reader runs its own runtime: off this one's threads.
        let rows = std::thread::scope(|s| s.spawn(|| outbox_table(&test.app)).join());
        rows.is_ok_and(|rows| rows.iter().all(|r| r["status"] != "pending"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_an_authenticated_agent_speaks_to_customers() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("trust-relay", |m| m);
    let customer = stack.new_user("trust-relay-cust");
    let agent = stack.new_user("trust-relay-agent");
    let forger = stack.new_user("trust-relay-forger");
    let support = test.user.address.clone();
    let mut run = test
        .start_relaying_for(&agent.address, b"trust-e2e-secret")
        .await;
    let pid = std::process::id();

    // The customer opens SUP-1 with the agent in Cc (so the agent is involved).
    let first = format!("trust-{pid}-1@cust.it.test");
    let raw = mail(
        &customer.address,
        &support,
        "Printer on fire",
        &first,
        &format!("Cc: {}\r\n", agent.address),
        "It is really on fire.",
    );
    stack
        .send_smtp(&customer.address, &[&support], &raw)
        .await
        .unwrap();
    customer.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    test.wait_decisions(1, ROUND_TRIP).await;

    // Anybody can write From: the agent. Not authenticated: a note, never relayed.
    let forged = format!("trust-{pid}-forged@evil.it.test");
    let raw = mail(
        &agent.address,
        &support,
        "Re: [SUP-1] Printer on fire",
        &forged,
        &format!("In-Reply-To: <{first}>\r\n"),
        "Your account is locked: log in at http://evil.test/ to unlock it.",
    );
    stack
        .send_smtp(&forger.address, &[&support], &raw)
        .await
        .unwrap();
    let decisions = test.wait_decisions(2, ROUND_TRIP).await;
    let d = decisions
        .iter()
        .find(|d| str_of(d, "message_id").contains(&forged))
        .unwrap_or_else(|| panic!("{decisions:#?}"));
    assert!(str_of(d, "reason").contains("never relayed"), "{d:#}");
    outbox_drained(&test).await;
    assert_eq!(
        customer.uids("INBOX").await.len(),
        1,
        "the customer got the acknowledgement only"
    );
    let show = test.app.show("SUP-1");
    let note = items(&show, "messages")
        .iter()
        .find(|m| str_of(m, "message_id").contains(&forged))
        .cloned()
        .unwrap_or_else(|| panic!("{show:#}"));
    assert_eq!(str_of(&note, "flag"), "unverified_agent");

    // The ticket turns critical and is resolved: the agent gets the resolution alone, with
    // a reply address signed for them and SUP-1.
    test.app
        .run(&["tickets", "set-priority", "SUP-1", "critical"])
        .expect_success();
    test.app
        .run(&[
            "tickets",
            "set-status",
            "SUP-1",
            "resolved",
            "--note",
            "Fire out, printer replaced.",
        ])
        .expect_success();
    agent.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    let mails = agent.fetch_all("INBOX").await;
    let resolution = &mails
        .iter()
        .find(|(_, raw)| mail_body(raw).contains("Fire out"))
        .unwrap_or_else(|| panic!("no resolution mail for the agent"))
        .1;
    let reply_to = mail_header(resolution, "Reply-To");
    let (local, domain) = support.split_once('@').unwrap();
    assert!(
        reply_to.contains(&format!("{local}+1.a")) && reply_to.contains(domain),
        "{reply_to}"
    );
    assert_eq!(
        mail_header(resolution, "To").trim_matches(['<', '>']),
        agent.address
    );
    customer.wait_for_messages("INBOX", 2, ROUND_TRIP).await;

    // The agent answers it: relayed to the customer, from the support address.
    let reply_address = reply_to
        .rsplit_once('<')
        .map(|(_, a)| a.trim_end_matches('>').to_string())
        .unwrap_or(reply_to.clone());
    let answer = format!("trust-{pid}-agent@agent.it.test");
    let raw = mail(
        &agent.address,
        &reply_address,
        "Re: [SUP-1] Printer on fire",
        &answer,
        "",
        "We replaced the printer; the new one is fireproof.\r\n\r\nAnn",
    );
    stack
        .send_smtp(&agent.address, &[&reply_address], &raw)
        .await
        .unwrap();
    customer.wait_for_messages("INBOX", 3, ROUND_TRIP).await;
    let all = customer.fetch_all("INBOX").await;
    let relayed = &all.last().unwrap().1;
    assert!(
        mail_body(relayed).contains("fireproof"),
        "{}",
        mail_body(relayed)
    );
    assert!(mail_header(relayed, "From").contains(&support));
    assert!(!mail_body(relayed).contains(&agent.address));
    for (_, raw) in &all {
        assert!(
            !mail_body(raw).contains("evil.test"),
            "the forged text reached the customer"
        );
    }
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}
