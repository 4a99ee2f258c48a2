//! The mail stack harness itself (tests/it/support/mailstack.rs) against the running stack of
//! `scripts/mailstack.sh`: per-test users of it.example.test, SMTP delivery, IMAP helpers, bulk
//! APPEND, a Dovecot restart. Without a running stack these tests fail (they never skip).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::{io::AsyncReadExt, net::TcpStream};

use crate::support::{MailStack, block_on, wait_for};

const DELIVERY: Duration = Duration::from_secs(20);

/// A small CRLF message; `n` makes Subject and Message-ID unique within `tag`.
fn message(tag: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Customer <customer@acme.test>\r\n\
         To: support@example.test\r\n\
         Subject: {tag} {n}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{tag}-{n}@harness.mailgate.test>\r\n\
         \r\n\
         Message {n} of the harness test {tag}.\r\n\
         .a line that starts with a dot\r\n"
    )
    .into_bytes()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn mailstack_new_user_gets_smtp_mail_in_inbox() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let user = stack.new_user("harness-smtp");
    let bystander = stack.new_user("harness-smtp");
    assert_ne!(user.address, bystander.address);
    assert!(user.address.ends_with("@it.example.test"), "{user:?}");
    assert!(
        user.uids("INBOX").await.is_empty(),
        "a new user starts empty"
    );

    let raw = message("harness-smtp", 1);
    // Two transactions: Dovecot's LMTP writes Delivered-To only for a single recipient.
    for rcpt in [user.address.clone(), user.plus_address("tok123")] {
        let queued = stack
            .send_smtp("customer@acme.test", &[&rcpt], &raw)
            .await
            .expect("SMTP to a new it.example.test user");
        assert!(queued.starts_with("250"), "{queued}");
    }

    let uids = user.wait_for_messages("INBOX", 2, DELIVERY).await;
    assert_eq!(uids.len(), 2, "plain and plus address both land in INBOX");
    let mail = user.fetch_all("INBOX").await;
    for (uid, bytes) in &mail {
        assert!(
            contains(bytes, "Message-ID: <harness-smtp-1@harness.mailgate.test>"),
            "UID {uid}: {}",
            String::from_utf8_lossy(bytes)
        );
        // dot-stuffing was undone by the server: the line arrives as written
        assert!(
            contains(bytes, "\r\n.a line that starts with a dot\r\n"),
            "UID {uid}: {}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert!(
        mail.iter()
            .any(|(_, b)| contains(b, &format!("Delivered-To: {}", user.plus_address("tok123")))),
        "the plus address is kept in Delivered-To"
    );
    // BODY.PEEK[] left the messages unseen
    for (uid, flags) in user.flags("INBOX").await {
        assert!(
            !flags.contains(&"\\Seen".to_string()),
            "UID {uid}: {flags:?}"
        );
    }
    assert!(
        bystander.uids("INBOX").await.is_empty(),
        "another test's user sees nothing"
    );
}

#[tokio::test]
async fn mailstack_unknown_it_address_bounces_and_non_test_is_refused() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let sender = stack.new_user("harness-bounce");
    // Nobody added this address: Postfix routes it to Dovecot (not to the catch-all), Dovecot's
    // LMTP refuses it, and the bounce goes back to the envelope sender.
    let nobody = format!("nobody-{}@it.example.test", std::process::id());
    stack
        .send_smtp(&sender.address, &[&nobody], &message("harness-bounce", 1))
        .await
        .expect("SMTP accepts any it.example.test address");
    sender.wait_for_messages("INBOX", 1, DELIVERY).await;
    let bounce = &sender.fetch_all("INBOX").await[0].1;
    assert!(
        contains(bounce, "User doesn't exist") && contains(bounce, &nobody),
        "{}",
        String::from_utf8_lossy(bounce)
    );

    let refused = stack
        .send_smtp(
            &sender.address,
            &["someone@example.com"],
            &message("harness-bounce", 2),
        )
        .await
        .expect_err("mail outside *.test must be refused");
    assert_eq!(refused.code, Some(554), "{refused}");
    assert!(refused.step.starts_with("RCPT TO"), "{refused}");
    assert!(refused.reply.contains("only to *.test"), "{refused}");
}

#[tokio::test]
async fn mailstack_append_many_2000_then_uids_and_fetch() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let user = stack.new_user("harness-bulk");
    let messages: Vec<Vec<u8>> = (0..2000).map(|n| message("harness-bulk", n)).collect();

    let started = Instant::now();
    let appended = user.append_many("INBOX", &messages).await;
    let took = started.elapsed();
    eprintln!(
        "append_many: {} messages in {:.3} s = {:.0} msg/s",
        messages.len(),
        took.as_secs_f64(),
        messages.len() as f64 / took.as_secs_f64()
    );

    assert_eq!(appended.len(), 2000);
    assert!(appended.windows(2).all(|w| w[0] < w[1]), "UIDs ascend");
    assert_eq!(user.uids("INBOX").await, appended);
    let fetched = user.fetch_all("INBOX").await;
    assert_eq!(fetched.len(), 2000);
    for (n, (uid, bytes)) in fetched.iter().enumerate() {
        assert_eq!(*uid, appended[n]);
        assert!(*bytes == messages[n], "message {n} (UID {uid}) differs");
    }
}

/// The bulk size the poller tests need; prints the rate (run it with `-- --ignored --nocapture`).
#[tokio::test]
#[ignore = "10,000 + 10,000 messages, ~5 s: run by hand to measure append_many"]
async fn mailstack_append_many_10000_measured() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n".repeat(80);
    for (what, pad) in [("small (~330 B)", ""), ("~5 KB", filler.as_str())] {
        let user = stack.new_user("harness-bulk10k");
        let messages: Vec<Vec<u8>> = (0..10_000)
            .map(|n| {
                let mut m = message("harness-bulk10k", n);
                m.extend_from_slice(pad.as_bytes());
                m
            })
            .collect();
        let started = Instant::now();
        let uids = user.append_many("INBOX", &messages).await;
        let took = started.elapsed().as_secs_f64();
        eprintln!(
            "append_many, 10,000 {what} messages: {took:.2} s = {:.0} msg/s",
            10_000.0 / took
        );
        assert_eq!(uids.len(), 10_000);
        assert_eq!(user.uids("INBOX").await.len(), 10_000);
    }
}

#[tokio::test]
async fn mailstack_folders_flags_and_missing_folders() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let user = stack.new_user("harness-folders");
    assert_eq!(user.folders().await, ["INBOX"]);
    assert!(user.uids("Archive/2024").await.is_empty(), "missing folder");
    assert!(user.fetch_all("Archive/2024").await.is_empty());
    assert!(user.flags("Archive/2024").await.is_empty());

    let first = user
        .append("Archive/2024", &message("harness-folders", 1))
        .await;
    let second = user
        .append_flagged(
            "Archive/2024",
            &["\\Seen", "\\Flagged", "$Forwarded"],
            &message("harness-folders", 2),
        )
        .await;
    user.create_folder("Processed").await;
    user.create_folder("Processed").await; // twice is fine
    let folders = user.folders().await;
    for name in ["INBOX", "Archive/2024", "Processed"] {
        assert!(folders.iter().any(|f| f == name), "{name} in {folders:?}");
    }
    assert_eq!(user.uids("Archive/2024").await, [first, second]);
    assert!(user.uids("Processed").await.is_empty());
    assert_eq!(
        user.flags("Archive/2024").await,
        [
            (first, vec![]),
            (
                second,
                vec![
                    "$Forwarded".to_string(),
                    "\\Flagged".to_string(),
                    "\\Seen".to_string()
                ]
            )
        ]
    );
}

#[test]
fn mailstack_parallel_new_users_are_distinct_and_usable_from_sync_tests() {
    let stack = MailStack::get();
    let _lock = block_on(stack.shared());
    let users: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| stack.new_user("harness-parallel")))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut addresses: Vec<_> = users.iter().map(|u| u.address.clone()).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 8, "{addresses:?}");
    block_on(async {
        for user in &users {
            // logs in at once (no re-read delay for new users), and the mailbox is empty
            assert!(user.uids("INBOX").await.is_empty(), "{user:?}");
        }
    });
}

#[tokio::test]
async fn mailstack_restart_dovecot_keeps_users_and_mail() {
    let stack = MailStack::get();
    let exclusive = stack.exclusive().await;
    let user = stack.new_user("harness-restart");
    let messages: Vec<Vec<u8>> = (0..5).map(|n| message("harness-restart", n)).collect();
    let uids = user.append_many("INBOX", &messages).await;
    let mut live = user.session().await;
    live.select("INBOX").await.expect("SELECT INBOX");
    let pid = stack.dovecot_pid();

    let started = Instant::now();
    stack.restart_dovecot(&exclusive).await;
    eprintln!(
        "restart-dovecot took {:.2} s",
        started.elapsed().as_secs_f64()
    );

    assert_ne!(stack.dovecot_pid(), pid, "Dovecot has a new master process");
    assert!(
        live.noop().await.is_err(),
        "a connection from before the restart is cut"
    );
    assert_eq!(user.uids("INBOX").await, uids, "the mail is still there");
    // ... and delivery works again at once
    stack
        .send_smtp(
            "customer@acme.test",
            &[&user.address],
            &message("harness-restart", 9),
        )
        .await
        .expect("SMTP after the restart");
    let mut latest = Vec::new();
    wait_for("the mail sent after the restart", DELIVERY, async || {
        latest = user.uids("INBOX").await;
        latest.len() == 6
    })
    .await;
    assert_eq!(latest[..5], uids[..]);
}

/// The stack's CA works with rustls (ring) for IMAPS, the unrelated CA is refused: what the
/// poller's TLS tests rely on.
#[tokio::test]
async fn mailstack_imaps_trusts_the_stack_ca_only() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    async fn handshake(ca: &std::path::Path, name: &str) -> Result<String, std::io::Error> {
        let stack = MailStack::get();
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
            roots.add(cert.expect("PEM")).expect("CA certificate");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = TcpStream::connect((stack.host.as_str(), stack.imaps_port)).await?;
        let name = ServerName::try_from(name.to_string()).expect("server name");
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        let mut greeting = vec![0; 512];
        let n = tls.read(&mut greeting).await?;
        Ok(String::from_utf8_lossy(&greeting[..n]).into_owned())
    }
    let greeting = handshake(&stack.ca_file, &stack.tls_server_name)
        .await
        .expect("IMAPS with the stack's CA");
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let greeting = handshake(&stack.ca_file, "127.0.0.1")
        .await
        .expect("IMAPS to the IP address");
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let refused = handshake(&stack.other_ca_file, &stack.tls_server_name)
        .await
        .expect_err("a client trusting only the unrelated CA must refuse the server");
    assert!(refused.to_string().contains("UnknownIssuer"), "{refused}");
}
