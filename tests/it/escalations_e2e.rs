//! The escalation gate end to end through the real stack (issue 5): `mailgate run` polls an
//! escalation mailbox and answers over Postfix; tier 1 and the technician are users of the
//! stack who write over SMTP and read their IMAP INBOX.
//!
//! - a tier-1 mail with missing evidence gets the refusal in the tier-1 INBOX, every missing
//!   item named; the reply built from it with the evidence completed is accepted, the ticket
//!   escalated and the confirmation sent;
//! - a critical escalation pages every technician at once.

use std::time::Duration;

use crate::support::*;

const ROUND_TRIP: Duration = Duration::from_secs(60);

struct Desk {
    test: PollerTest,
    tier1: TestUser,
    technician: TestUser,
}

/// An escalation mailbox (the test's user), tier 1 allowed, one technician, `[smtp]` to the
/// stack, the email category requiring a customer and proof mail was sent.
fn desk(tag: &str) -> Desk {
    let test = PollerTest::new(tag, |m| MailboxToml {
        name: "escalations".into(),
        role: "escalation",
        ..m
    });
    let stack = test.stack;
    let tier1 = stack.new_user(&format!("{tag}-tier1"));
    let technician = stack.new_user(&format!("{tag}-tech"));
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let key = test.app.write_file("hmac.key", b"escalations-e2e-secret");
    let tickets = format!(
        "support_address = \"Example Support <support@example.test>\"\nsecret_file = {}\n",
        s(&key.display().to_string())
    );
    let extra = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 5\n\
         retry_base_secs = 1\nretry_max_secs = 1\n\n\
         [notify]\ntechnicians = [{}]\n\n\
         [escalation]\nallowed_senders = [{}]\n\n\
         [escalation.categories.email]\nrequire = [\"customer\", \"sent_mail_verified\"]\n\n\
         [escalation.evidence.sent_mail_verified]\nattachments = [\"*.eml\"]\n\
         phrases = [{{ field = \"steps_taken\", contains = \"confirmed mail was sent\" }}]\n\n\
         [escalation.priority.critical]\nmin_affected_customers = 10\non_violation = \"reject\"\n",
        stack.smtp_port,
        s(&technician.address),
        s(&tier1.address),
    );
    let mailbox = MailboxToml {
        name: "escalations".into(),
        role: "escalation",
        ..MailboxToml::for_user(stack, &test.user)
    };
    test.configure_with(std::slice::from_ref(&mailbox), &tickets, &extra);
    Desk {
        test,
        tier1,
        technician,
    }
}

fn mail(from: &str, to: &str, subject: &str, id: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

const FORWARDED: &str = "---------- Forwarded message ---------\r\n\
    From: Jane Doe <jane@acme.test>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\
    Subject: No mail since Monday\r\nTo: support@example.test\r\n\r\n\
    Nobody has sent me anything for a week?\r\n";

/// The single mail in `user`'s INBOX once it arrived.
async fn only_mail(user: &TestUser, n: usize) -> Vec<u8> {
    user.wait_for_messages("INBOX", n, ROUND_TRIP).await;
    let all = user.fetch_all("INBOX").await;
    assert_eq!(
        all.len(),
        n,
        "{} mails in {}'s INBOX",
        all.len(),
        user.address
    );
    all.into_iter().last().unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_escalation_names_every_missing_item_and_the_completed_resend_is_accepted() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let desk = desk("esc-refuse");
    let escalations = desk.test.user.address.clone();
    let mut run = desk.test.start_connected().await;
    let pid = std::process::id();

    // Missing: Error, Steps-Taken and the proof mail was sent (category email).
    let first = format!("esc-{pid}-1@tier1.it.test");
    let raw = mail(
        &desk.tier1.address,
        &escalations,
        "Acme: customer has no mail",
        &first,
        "",
        &format!("Category: email\r\nCustomer: jane@acme.test\r\n\r\n{FORWARDED}"),
    );
    stack
        .send_smtp(&desk.tier1.address, &[&escalations], &raw)
        .await
        .unwrap();
    let refusal = only_mail(&desk.tier1, 1).await;
    assert_eq!(
        mail_header(&refusal, "Subject"),
        "Escalation refused: Acme: customer has no mail"
    );
    assert_eq!(mail_header(&refusal, "In-Reply-To"), format!("<{first}>"));
    assert_eq!(mail_header(&refusal, "Auto-Submitted"), "auto-replied");
    assert!(mail_header(&refusal, "Reply-To").contains(&escalations));
    assert!(mail_header(&refusal, "From").contains("support@example.test"));
    let text = mail_body(&refusal);
    for missing in ["Error", "Steps-Taken", "Sent-Mail-Verified"] {
        assert!(text.contains(missing), "{missing} not named:\n{text}");
    }
    assert!(
        text.contains("Customer: jane@acme.test"),
        "pre-filled:\n{text}"
    );
    assert!(desk.test.tickets().is_empty(), "nothing escalated");
    let d = &desk.test.decisions()[0];
    assert_eq!(str_of(d, "decision"), "rejected", "{d:#}");
    assert_eq!(str_of(d, "rule"), "escalation-refused", "{d:#}");
    desk.test
        .user
        .wait_for_messages("Rejected", 1, ROUND_TRIP)
        .await;

    // The resend: a reply to the refusal (to its Reply-To), the block completed on top.
    let resend = format!("esc-{pid}-2@tier1.it.test");
    let reply_to = mail_header(&refusal, "Reply-To");
    let refusal_id = mail_header(&refusal, "Message-ID");
    let raw = mail(
        &desk.tier1.address,
        &escalations,
        "Re: Escalation refused: Acme: customer has no mail",
        &resend,
        &format!("In-Reply-To: {refusal_id}\r\nReferences: {refusal_id}\r\n"),
        &format!(
            "Category: email\r\nCustomer: jane@acme.test\r\n\
             Error: no message received since 2026-11-16; no bounce\r\n\
             Steps-Taken:\r\n - confirmed mail was sent to her on 2026-11-20 (queue log)\r\n\
             - checked the MX record\r\nPriority: high\r\n\r\n{FORWARDED}"
        ),
    );
    assert!(reply_to.contains(&escalations), "{reply_to}");
    stack
        .send_smtp(&desk.tier1.address, &[&escalations], &raw)
        .await
        .unwrap();
    let confirmation = only_mail(&desk.tier1, 2).await;
    assert_eq!(
        mail_header(&confirmation, "Subject"),
        "[SUP-1] Escalation accepted: Acme: customer has no mail"
    );
    assert_eq!(
        mail_header(&confirmation, "In-Reply-To"),
        format!("<{resend}>")
    );
    let tickets = desk.test.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(str_of(&tickets[0], "requester"), "jane@acme.test");
    assert_eq!(str_of(&tickets[0], "priority"), "high");
    assert!(bool_of(&tickets[0], "escalation"));
    let show = desk.test.app.show("SUP-1");
    assert_eq!(str_of(&show, "subject"), "No mail since Monday");
    let note = &items(&show, "messages")[0];
    assert_eq!(str_of(note, "direction"), "note", "{note:#}");
    assert!(
        desk.technician.uids("INBOX").await.is_empty(),
        "not critical: nobody paged"
    );
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_critical_escalation_pages_the_technicians() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let desk = desk("esc-crit");
    let escalations = desk.test.user.address.clone();
    let mut run = desk.test.start_connected().await;
    let id = format!("esc-crit-{}@tier1.it.test", std::process::id());
    let raw = mail(
        &desk.tier1.address,
        &escalations,
        "Mail outage for the Lyon office",
        &id,
        "",
        &format!(
            "Category: email\r\nCustomer: jane@acme.test\r\nAffected-Customers: 25\r\n\
             Error: every inbound message deferred with 451 since 09:10\r\n\
             Steps-Taken:\r\n - confirmed mail was sent from three outside accounts\r\n\
             Priority: critical\r\n\r\n{FORWARDED}"
        ),
    );
    stack
        .send_smtp(&desk.tier1.address, &[&escalations], &raw)
        .await
        .unwrap();
    let page = only_mail(&desk.technician, 1).await;
    assert!(
        mail_header(&page, "Subject").contains("[SUP-1]"),
        "{}",
        mail_header(&page, "Subject")
    );
    assert!(
        mail_body(&page).contains("CRITICAL"),
        "{}",
        mail_body(&page)
    );
    let confirmation = only_mail(&desk.tier1, 1).await;
    assert!(mail_body(&confirmation).contains("Priority: critical"));
    let tickets = desk.test.tickets();
    assert_eq!(str_of(&tickets[0], "priority"), "critical");
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}
