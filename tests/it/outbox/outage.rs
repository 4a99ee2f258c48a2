//! SMTP outages, simulated by a TCP relay between mailgate and Postfix: while "down" it drops
//! every connection (new and open ones), so the real stack is never disturbed and the shared
//! lock is enough.
//!
//! The outage under a stream of new tickets lasts `MAILGATE_SMTP_OUTAGE_SECS` (default 6 s; the
//! issue's target is measured with 120):
//! `MAILGATE_SMTP_OUTAGE_SECS=120 cargo test --locked --test it outage_under -- --nocapture`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use mail_parser::MessageParser;
use tokio::net::{TcpListener, TcpStream};

use super::{Gate, Smtp, app_with, inbox, insert, outbox, row, wait_for_status};
use crate::support::{MailStack, array, str_of, wait_for};

/// A TCP relay to Postfix that can be switched off: while down it closes every connection,
/// open ones included.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Relay {
    async fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (up2, gen2) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let born = gen2.load(Ordering::SeqCst);
                let gen3 = gen2.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let mut client = client;
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while gen3.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        _ = cut => {}
                    }
                });
            }
        });
        Relay {
            port,
            up,
            generation,
        }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_smtp_down_then_back_delivers_each_mail_once() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let customer = stack.new_user("outbox-outage");
    let relay = Relay::start(stack.smtp_port).await;
    let app = app_with(&Smtp::plain(relay.port));
    relay.set_up(true);
    let gate = Gate::start(&app);
    // Up: the first mail goes through (and leaves a pooled connection behind).
    let recipients = [customer.address.as_str()];
    let mut ids = vec![insert(&app, &row(&recipients, 0)).await];
    wait_for_status(&app, &gate, "sent", 1).await;
    // Down, with the pooled connection cut: a stream of new rows keeps failing and retrying.
    relay.set_up(false);
    for n in 1..=6 {
        ids.push(insert(&app, &row(&recipients, n)).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_for(
        "every pending row to have failed twice",
        Duration::from_secs(60),
        async || {
            let rows = outbox(&app);
            rows.iter()
                .filter(|r| str_of(r, "status") != "sent")
                .all(|r| r["attempts"].as_i64().unwrap() >= 2 && str_of(r, "status") == "pending")
                && rows.len() == 7
        },
    )
    .await;
    let pending = array(
        app.ok_json(&["outbox", "list", "--status", "pending", "--json"]),
        "pending",
    );
    assert_eq!(pending.len(), 6);
    assert!(
        pending.iter().all(|r| !r["last_error"].is_null()),
        "{pending:#?}"
    );
    // Back: everything is delivered, each mail once.
    relay.set_up(true);
    wait_for_status(&app, &gate, "sent", 7).await;
    let mail = inbox(&customer, 7).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mail_after = customer.fetch_all("INBOX").await;
    assert_eq!(mail.len(), 7);
    assert_eq!(mail_after.len(), 7, "nothing arrives twice");
    let mut seen: Vec<String> = mail
        .iter()
        .map(|raw| {
            MessageParser::default()
                .parse(raw)
                .unwrap()
                .message_id()
                .unwrap()
                .to_string()
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "seven distinct Message-IDs");
    gate.stop().await;
    assert_eq!(ids.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_retries_exhausted_fail_and_are_recorded() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let relay = Relay::start(stack.smtp_port).await;
    let app = app_with(&Smtp {
        max_attempts: 2,
        ..Smtp::plain(relay.port)
    });
    let id = insert(&app, &row(&["someone@it.example.test"], 1)).await;
    let gate = Gate::start(&app);
    let rows = wait_for_status(&app, &gate, "failed", 1).await;
    assert_eq!(rows[0]["id"], id);
    assert_eq!(rows[0]["attempts"], 2);
    assert!(
        str_of(&rows[0], "last_error").contains("after 2 attempts"),
        "{rows:#?}"
    );
    gate.stop().await;
}

/// The customer mail of ticket `n` in the stream, sent from a plus-address of `customer` so
/// each ticket's acknowledgement has its own recipient (the per-recipient cap stays out of it).
fn stream_mail(customer_plus: &str, n: usize, run: u32) -> Vec<u8> {
    format!(
        "From: Customer {n} <{customer_plus}>\r\nTo: Support <support@example.test>\r\n\
         Subject: outage stream ticket {n}\r\nMessage-ID: <stream-{run}-{n}@customer.it.test>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nPlease help with item {n}.\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_under_a_stream_of_new_tickets_loses_and_duplicates_nothing() {
    let outage = std::env::var("MAILGATE_SMTP_OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(6));
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let customer = stack.new_user("outage-stream");
    let relay = Relay::start(stack.smtp_port).await;
    // Retries every 1–4 s and enough attempts to outlast the outage: nothing may fail for good.
    let app = app_with(&Smtp {
        max_attempts: 1000,
        retry_max_secs: 4,
        ..Smtp::plain(relay.port)
    });
    relay.set_up(true);
    let gate = Gate::start(&app);
    let run = std::process::id();
    let mut tickets = 0;
    let mut ingest = |app: &crate::support::App| {
        tickets += 1;
        let from = customer.plus_address(&format!("t{tickets}"));
        let decision = app.ingest_bytes(
            &format!("stream-{tickets}.eml"),
            &stream_mail(&from, tickets, run),
        );
        assert_eq!(str_of(&decision, "decision"), "created", "{decision:#}");
    };

    // Up: the first tickets are acknowledged as they come.
    for _ in 0..3 {
        ingest(&app);
    }
    wait_for_status(&app, &gate, "sent", 3).await;
    // Down: new tickets keep arriving; their acknowledgements wait and retry.
    relay.set_up(false);
    let down_at = Instant::now();
    while down_at.elapsed() < outage {
        ingest(&app);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let pending = array(
        app.ok_json(&["outbox", "list", "--status", "pending", "--json"]),
        "pending",
    );
    assert!(!pending.is_empty(), "nothing waited for the outage");
    // Back up: every acknowledgement arrives, once.
    relay.set_up(true);
    let up_at = Instant::now();
    wait_for(
        "every acknowledgement to be sent",
        Duration::from_secs(120),
        async || outbox(&app).iter().all(|r| str_of(r, "status") == "sent"),
    )
    .await;
    let drained = up_at.elapsed();
    let mail = inbox(&customer, tickets).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = customer.fetch_all("INBOX").await;
    let rows = outbox(&app);
    assert_eq!(rows.len(), tickets, "one acknowledgement per ticket");
    assert!(rows.iter().all(|r| str_of(r, "kind") == "acknowledgement"));
    let mut ids: Vec<String> = after
        .iter()
        .map(|(_, raw)| {
            MessageParser::default()
                .parse(raw)
                .unwrap()
                .in_reply_to()
                .as_text()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(after.len(), tickets, "nothing lost, nothing twice");
    assert_eq!(
        ids.len(),
        tickets,
        "each ticket's mail answered exactly once"
    );
    assert_eq!(mail.len(), tickets);
    println!(
        "SMTP down {:.0} s under {} new tickets ({} waiting at recovery): {} delivered, \
         0 lost, 0 duplicated; drained {:.1} s after recovery",
        outage.as_secs_f64(),
        tickets - 3,
        pending.len(),
        after.len(),
        drained.as_secs_f64()
    );
    gate.stop().await;
}
