//! Autoresponders against the real stack (SPEC 5): an out-of-office that answers every mail,
//! alone and together with a naive responder that answers every mail with a fresh mail and no
//! automatic-mail headers at all. mailgate never answers the out-of-office, and neither can
//! make it send more than the per-recipient cap.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use mail_parser::MessageParser;

use super::{ROUND_TRIP, configure, decision_of, mail, outbox};
use crate::support::*;

/// How a test autoresponder answers what lands in its INBOX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `Auto-Submitted: auto-replied`, In-Reply-To the mail, to its Reply-To.
    OutOfOffice,
    /// A fresh mail to the From address: no In-Reply-To, no automatic-mail header, a subject
    /// of its own. Each answer looks like a new customer request.
    Naive,
}

/// A user of the stack whose mailbox answers everything, with the Message-IDs it sent.
struct Responder {
    user: TestUser,
    style: Style,
    answered: HashSet<u32>,
    sent: Vec<String>,
}

impl Responder {
    fn new(user: TestUser, style: Style) -> Self {
        Self {
            user,
            style,
            answered: HashSet::new(),
            sent: Vec::new(),
        }
    }

    /// Answers every mail not answered yet; true when there was one.
    async fn answer_new_mail(&mut self, stack: &MailStack) -> bool {
        let mut any = false;
        for (uid, raw) in self.user.fetch_all("INBOX").await {
            if !self.answered.insert(uid) {
                continue;
            }
            any = true;
            let m = MessageParser::default().parse(&raw).unwrap();
            let reply_to = addresses(m.header("Reply-To")).into_iter().next();
            let from = addresses(m.header("From")).into_iter().next().unwrap();
            let id =
                format!("{:?}-{}-{uid}@acme.test", self.style, std::process::id()).to_lowercase();
            let (to, answer) = match self.style {
                Style::OutOfOffice => {
                    let to = reply_to.unwrap_or(from);
                    let headers = format!(
                        "In-Reply-To: <{0}>\r\nReferences: <{0}>\r\nAuto-Submitted: auto-replied\r\n",
                        m.message_id().unwrap()
                    );
                    let subject = format!("Automatic reply: {}", m.subject().unwrap_or(""));
                    let body = "I am out of the office until Monday.";
                    let raw = mail(&self.user.address, &to, &subject, &id, &headers, body);
                    (to, raw)
                }
                Style::Naive => {
                    let body = "Thank you for your message. We will get back to you shortly.";
                    let subject = format!("Thank you for contacting us ({uid})");
                    let raw = mail(&self.user.address, &from, &subject, &id, "", body);
                    (from, raw)
                }
            };
            stack
                .send_smtp(&self.user.address, &[&to], &answer)
                .await
                .unwrap();
            self.sent.push(id);
        }
        any
    }
}

/// Lets every responder answer until nothing new arrived for `quiet`.
async fn answer_until_quiet(stack: &MailStack, responders: &mut [&mut Responder], quiet: Duration) {
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < quiet {
        for r in responders.iter_mut() {
            if r.answer_new_mail(stack).await {
                quiet_since = Instant::now();
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `mails` new requests from `user` to `support`.
async fn write_requests(stack: &MailStack, user: &TestUser, support: &str, mails: usize) {
    for n in 0..mails {
        let id = format!("req-{}-{n}-{}@acme.test", std::process::id(), user.address);
        let raw = mail(
            &user.address,
            support,
            &format!("Request {n}"),
            &id,
            "",
            "Please help.",
        );
        stack
            .send_smtp(&user.address, &[support], &raw)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_out_of_office_that_answers_everything_gets_no_more_than_the_cap() {
    const CAP: usize = 3;
    const MAILS: usize = 5;
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("thr-ooo", |m| m);
    configure(&test, CAP as u32);
    let mut ooo = Responder::new(stack.new_user("thr-ooo-away"), Style::OutOfOffice);
    let support = test.user.address.clone();
    let mut run = test.start_connected().await;

    // A person writes five new requests, then leaves with an autoresponder on.
    write_requests(stack, &ooo.user, &support, MAILS).await;
    test.wait_decisions(MAILS, ROUND_TRIP).await;
    answer_until_quiet(stack, &mut [&mut ooo], Duration::from_secs(6)).await;

    assert_eq!(ooo.answered.len(), CAP, "mail the out-of-office got");
    for id in &ooo.sent {
        let d = decision_of(&test, id).await;
        assert_eq!(str_of(&d, "decision"), "threaded", "{d:#}");
        assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
    }
    let rows = outbox(&test.app);
    let status = |s: &str| rows.iter().filter(|r| str_of(r, "status") == s).count();
    assert_eq!(status("sent"), CAP, "{rows:#?}");
    assert_eq!(status("held"), MAILS - CAP, "{rows:#?}");
    assert_eq!(rows.len(), MAILS, "no row answers an auto-reply: {rows:#?}");
    assert!(
        rows.iter().all(|r| str_of(r, "kind") == "acknowledgement"),
        "{rows:#?}"
    );
    assert_eq!(ooo.user.uids("INBOX").await.len(), CAP);
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_autoresponders_at_once_get_no_more_than_the_cap_each() {
    const CAP: usize = 4;
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("thr-two", |m| m);
    configure(&test, CAP as u32);
    let mut ooo = Responder::new(stack.new_user("thr-two-ooo"), Style::OutOfOffice);
    let mut naive = Responder::new(stack.new_user("thr-two-naive"), Style::Naive);
    let support = test.user.address.clone();
    let mut run = test.start_connected().await;

    // Both write in; from then on both answer whatever they get, at the same time. The naive
    // responder's answers look like new requests, so each would open a ticket and earn an
    // acknowledgement, which it answers again: only the cap ends that.
    write_requests(stack, &ooo.user, &support, 2).await;
    write_requests(stack, &naive.user, &support, 2).await;
    test.wait_decisions(4, ROUND_TRIP).await;
    answer_until_quiet(stack, &mut [&mut ooo, &mut naive], Duration::from_secs(8)).await;

    let got = |r: &Responder| r.answered.len();
    assert_eq!(
        got(&ooo),
        2,
        "the out-of-office got one acknowledgement per request"
    );
    assert_eq!(got(&naive), CAP, "the naive responder got exactly the cap");
    for id in &ooo.sent {
        let d = decision_of(&test, id).await;
        assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
        assert_eq!(str_of(&d, "decision"), "threaded", "{d:#}");
    }
    let rows = outbox(&test.app);
    let to = |who: &Responder, status: &str| {
        rows.iter()
            .filter(|r| str_of(r, "status") == status)
            .filter(|r| r["recipients"][0] == who.user.address.as_str())
            .count()
    };
    assert_eq!(to(&ooo, "sent"), 2, "{rows:#?}");
    assert_eq!(to(&naive, "sent"), CAP, "{rows:#?}");
    assert!(
        to(&naive, "held") >= 1,
        "the loop was held at the cap: {rows:#?}"
    );
    assert!(
        rows.iter().all(|r| str_of(r, "kind") == "acknowledgement"),
        "{rows:#?}"
    );
    let held = rows.iter().find(|r| str_of(r, "status") == "held").unwrap();
    assert!(str_of(held, "last_error").contains("cap 4"), "{held:#}");
    assert_eq!(naive.user.uids("INBOX").await.len(), CAP);
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}
