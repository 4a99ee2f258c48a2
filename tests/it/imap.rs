//! The IMAP poller (`mailgate run`, README "How the IMAP poller keeps mail exactly once")
//! against the real test mail stack (Dovecot + Postfix on 127.0.0.1): the real binary with a
//! per-test config and a per-test mailbox, stopped with SIGINT or killed with SIGKILL, checked
//! through `tickets list`, `decisions`, `quarantine list` and the IMAP folders. Without a running
//! stack these tests fail (they never skip). On failure each test prints the stderr log of every
//! `mailgate run` it started.
//!
//! By subject: [`pickup`] (mail delivered, IDLE, polling), [`exactly_once`] (checkpoint,
//! restarts, crashes, repair, UIDVALIDITY), [`resilience`] (server restarts, a failing mailbox,
//! a server that does not answer), [`bad_mail`] (quarantined mail), [`tls`]. The helpers shared
//! by them are here.

mod bad_mail;
mod exactly_once;
mod pickup;
mod resilience;
mod tls;

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use serde_json::Value;

use crate::support::*;

/// One mail's way through SMTP, Dovecot and the poller, with room for a loaded 2-core machine.
const ONE_MAIL: Duration = Duration::from_secs(30);
/// SIGINT to exit: the batch in hand is finished, committed and moved first.
const SHUTDOWN: Duration = Duration::from_secs(15);

/// The Message-ID (without brackets) of mail `n` of a test whose user is `local`.
fn mid(local: &str, n: usize) -> String {
    format!("{local}.{n}@acme.test")
}

fn local_part(user: &TestUser) -> String {
    user.address.split('@').next().unwrap().to_string()
}

/// A small, realistic customer mail: unique Message-ID `mid(local, n)`, a reply (In-Reply-To and
/// References, "Re:" subject) when `parent` is given.
fn customer_mail(local: &str, n: usize, parent: Option<usize>) -> Vec<u8> {
    let customer = n % 97;
    let order = parent.unwrap_or(n);
    let (subject, threading) = match parent {
        Some(p) => (
            format!("Re: Order {order} has not arrived"),
            format!(
                "In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n",
                id = mid(local, p)
            ),
        ),
        None => (format!("Order {order} has not arrived"), String::new()),
    };
    format!(
        "Return-Path: <customer{customer}@acme{d}.test>\r\n\
         From: Customer {customer} <customer{customer}@acme{d}.test>\r\n\
         To: Support <support@example.test>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 {h:02}:{m:02}:{s:02} +0000\r\n\
         Message-ID: <{id}>\r\n\
         {threading}\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         Hello,\r\n\
         \r\n\
         my order {order} still has not arrived. The tracking page says \"in transit\" since\r\n\
         last week. Could you look into it, please? (mail {n})\r\n\
         \r\n\
         Regards,\r\n\
         Customer {customer}\r\n",
        d = n % 13,
        h = (n / 3600) % 24,
        m = (n / 60) % 60,
        s = n % 60,
        id = mid(local, n),
    )
    .into_bytes()
}

/// A backlog of `count` customer mails: about a third are replies, to the mail just before or
/// (crossing batch boundaries) to one ~590 mails earlier. `starters` is how many open a ticket.
struct Backlog {
    messages: Vec<Vec<u8>>,
    ids: BTreeSet<String>,
    starters: usize,
}

fn backlog(local: &str, count: usize) -> Backlog {
    let mut messages = Vec::with_capacity(count);
    let mut ids = BTreeSet::new();
    let mut starters = 0;
    for n in 0..count {
        let parent = if n % 4 == 3 {
            Some(n - 1)
        } else if n % 9 == 4 && n >= 600 {
            Some(n - 587)
        } else {
            None
        };
        if parent.is_none() {
            starters += 1;
        }
        messages.push(customer_mail(local, n, parent));
        ids.insert(mid(local, n));
    }
    Backlog {
        messages,
        ids,
        starters,
    }
}

/// The Message-ID (without brackets) in the header of a raw mail.
fn header_message_id(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let header = text.split("\r\n\r\n").next().unwrap_or("");
    header.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("message-id")
            .then(|| bare_id(value))
    })
}

/// Message-IDs of the mail in `folder`, sorted (repeats kept).
async fn folder_ids(user: &TestUser, folder: &str) -> Vec<String> {
    let mut ids: Vec<String> = user
        .fetch_all(folder)
        .await
        .iter()
        .map(|(uid, raw)| {
            header_message_id(raw).unwrap_or_else(|| panic!("{folder} UID {uid}: no Message-ID"))
        })
        .collect();
    ids.sort();
    ids
}

/// Sends one customer mail to the test's user over SMTP.
async fn send(test: &PollerTest, n: usize) -> String {
    let local = local_part(&test.user);
    test.stack
        .send_smtp(
            "customer@acme.test",
            &[&test.user.address],
            &customer_mail(&local, n, None),
        )
        .await
        .unwrap_or_else(|e| panic!("SMTP to {}: {e}", test.user.address));
    mid(&local, n)
}

/// Asserts every decision is `created` or `threaded`, with distinct Message-IDs; returns them.
#[track_caller]
fn assert_exactly_once(decisions: &[Value]) -> BTreeSet<String> {
    let ids = decision_ids(decisions);
    let distinct: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "a Message-ID was decided on twice"
    );
    for d in decisions {
        let name = str_of(d, "decision");
        assert!(
            name == "created" || name == "threaded",
            "unexpected decision {name}: {d:#}"
        );
        assert!(
            str_of(d, "source").starts_with("imap:support;uidvalidity="),
            "not from the poller: {d:#}"
        );
    }
    distinct
}

/// The UIDVALIDITY in an `imap:<mailbox>;uidvalidity=V;uid=U` source.
fn source_uid_validity(decision: &Value) -> u32 {
    let source = str_of(decision, "source");
    source
        .split(';')
        .find_map(|p| p.strip_prefix("uidvalidity="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no uidvalidity in source {source:?}"))
}
