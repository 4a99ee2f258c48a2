//! Issue 13, our own group through the real stack: `mailgate run` polls the support mailbox,
//! which is a Google Group. A customer's mail relayed by the group (sent over SMTP to support@
//! with the group's headers) opens a ticket whose acknowledgement reaches the customer; a
//! mail of someone else's list sent to the same mailbox is ignored as `list`.

use std::time::Duration;

use crate::support::*;

const ROUND_TRIP: Duration = Duration::from_secs(60);

/// A mail as Google Groups relays it for the group `group` (an address).
fn through_google_group(group: &str, from: &str, subject: &str, id: &str) -> Vec<u8> {
    let (local, domain) = group.split_once('@').unwrap();
    format!(
        "Return-Path: <{local}+bncBDZ4VQMKVUMRBXH3TSVQMGQEJK3FY4Y@{domain}>\r\n\
         X-BeenThere: {group}\r\n\
         From: Jane Customer <{from}>\r\nTo: {group}\r\nSubject: {subject}\r\n\
         Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n\
         X-Original-Sender: {from}\r\nPrecedence: list\r\n\
         Mailing-list: list {group}; contact {local}+owners@{domain}\r\n\
         List-ID: <{local}.{domain}>\r\nX-Google-Group-Id: 123456789012\r\n\
         List-Post: <https://groups.google.com/a/{domain}/group/{local}/post>, <mailto:{group}>\r\n\
         List-Unsubscribe: <mailto:googlegroups-manage+123456789012+unsubscribe@googlegroups.com>,\r\n \
         <https://groups.google.com/a/{domain}/group/{local}/subscribe>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\
         The printer on floor 3 is offline.\r\n"
    )
    .into_bytes()
}

/// A mail of someone else's Mailman 2 list.
fn through_foreign_list(to: &str, id: &str) -> Vec<u8> {
    format!(
        "Return-Path: <users-bounces+support=example.test@lists.project.test>\r\n\
         From: Ana Silva <ana@silva.test>\r\nTo: users@lists.project.test\r\nCc: {to}\r\n\
         Subject: Build fails on ARM64\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{id}>\r\nX-BeenThere: users@lists.project.test\r\n\
         X-Mailman-Version: 2.1.39\r\nPrecedence: list\r\n\
         List-Id: Project users <users.lists.project.test>\r\n\
         List-Post: <mailto:users@lists.project.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHello list\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn our_own_google_group_opens_tickets_acknowledged_to_the_customer() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("lists-group", |m| m);
    let customer = stack.new_user("lists-group-cust");
    let support = test.user.address.clone();
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let tickets = format!("support_address = {}\n", s(&format!("Support <{support}>")));
    let extra = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 5\n\
         retry_base_secs = 1\nretry_max_secs = 1\n",
        stack.smtp_port
    );
    let mailbox = MailboxToml::for_user(stack, &test.user);
    test.configure_with(std::slice::from_ref(&mailbox), &tickets, &extra);
    let mut run = test.start_connected().await;
    let pid = std::process::id();

    let own = format!("lists-{pid}-own@cust.it.test");
    let raw = through_google_group(&support, &customer.address, "Printer offline", &own);
    stack
        .send_smtp(&customer.address, &[&support], &raw)
        .await
        .unwrap();
    let foreign = format!("lists-{pid}-foreign@silva.test");
    stack
        .send_smtp(
            "ana@silva.test",
            &[&support],
            &through_foreign_list(&support, &foreign),
        )
        .await
        .unwrap();

    let decisions = test.wait_decisions(2, ROUND_TRIP).await;
    let of = |id: &str| {
        decisions
            .iter()
            .find(|d| str_of(d, "message_id") == id)
            .cloned()
            .unwrap_or_else(|| panic!("no decision for {id}: {decisions:#?}"))
    };
    let d = of(&own);
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");
    let d = of(&foreign);
    assert_eq!(str_of(&d, "decision"), "ignored", "{d:#}");
    assert!(
        str_of(&d, "reason")
            .contains("list: mail of the discussion list <users.lists.project.test>"),
        "{d:#}"
    );

    // The acknowledgement reaches the customer (the From), not the group.
    customer.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    let mails = customer.fetch_all("INBOX").await;
    let ack = &mails[0].1;
    assert!(
        mail_header(ack, "Subject").contains("[SUP-1]"),
        "{}",
        mail_header(ack, "Subject")
    );
    assert!(
        mail_header(ack, "To").contains(&customer.address),
        "{}",
        mail_header(ack, "To")
    );
    let shown = test.app.show("SUP-1");
    assert_eq!(str_of(&shown, "requester"), customer.address);
    assert_eq!(test.tickets().len(), 1);
    run.stop(Duration::from_secs(30)).await;
}
