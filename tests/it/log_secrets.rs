//! Secrets never reach the log, even at `MAILGATE_LOG=trace`: `mailgate run` logs in over IMAP
//! (LOGIN, which async-imap logs at trace level) and over SMTP submission (AUTH), handles a mail
//! and sends its acknowledgement; neither stderr nor stdout holds the password, in clear or in
//! the base64 of AUTH PLAIN / AUTH LOGIN.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_rfc_4648() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_password_in_the_log_at_trace_level() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let pid = std::process::id();
    let address = format!("log-secrets-{pid}-{nanos}@{IT_DOMAIN}");
    let password = format!("Zq9LogSecret{pid}x{nanos}");
    let user = stack.add_user(&address, &password);

    let app = App::with_config("# rewritten below\n");
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mailbox = MailboxToml::for_user(stack, &user);
    app.rewrite_config(&format!(
        "[database]\nurl = {db}\n\n[tickets]\nprefix = \"SUP\"\nsupport_address = {support}\n\n\
         {mailbox}\n[smtp]\nhost = {host}\nport = {port}\ntls = \"starttls\"\nca_file = {ca}\n\
         username = {user}\npassword_env = {env}\ntimeout_secs = 10\n",
        db = s(&app.db_url()),
        support = s(&format!("Support <{address}>")),
        mailbox = mailbox.to_toml(),
        host = s(&stack.tls_server_name),
        port = stack.submission_port,
        ca = s(&stack.ca_file.display().to_string()),
        user = s(&address),
        env = s(PASSWORD_ENV),
    ));
    let customer = format!("customer-{pid}-{nanos}@acme.test");
    user.append(
        "INBOX",
        format!(
            "From: Jane <{customer}>\r\nTo: {address}\r\nSubject: printer on fire\r\n\
             Message-ID: <log-secrets-{pid}-{nanos}@acme.test>\r\n\r\nHelp!\r\n"
        )
        .as_bytes(),
    )
    .await;

    let stderr_path = app.dir().join("run.stderr");
    let stdout_path = app.dir().join("run.stdout");
    let mut cmd = app.command(&["run"]);
    cmd.env("MAILGATE_LOG", "trace")
        .env(PASSWORD_ENV, &password)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = cmd.spawn().expect("cannot start mailgate run");
    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();

    // Until the mail is handled (IMAP LOGIN done) and its acknowledgement sent (SMTP AUTH).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sent = app
            .ok_json(&["outbox", "list", "--status", "sent", "--json"])
            .as_array()
            .is_some_and(|rows| !rows.is_empty());
        if sent {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "mailgate run exited early ({status})\n{}",
                read(&stderr_path)
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = read(&stderr_path);
            panic!("no acknowledgement sent within 60 s\n{}", tail(&log, 80));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let signal = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mailgate run did not stop within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = read(&stderr_path) + &read(&stdout_path);
    assert!(status.success(), "exit {status}\n{}", tail(&log, 80));

    // Trace logging was really on, dependencies' `log` records included: the test is not
    // vacuous.
    assert!(log.contains(HANDLED), "{}", tail(&log, 80));
    assert!(
        log.lines()
            .any(|l| l.contains("TRACE") && l.contains("rustls")),
        "no trace line of a dependency (rustls) in the log:\n{}",
        tail(&log, 80)
    );
    let plain = base64(format!("\0{address}\0{password}").as_bytes());
    for (what, needle) in [
        ("the password", password.clone()),
        ("the AUTH PLAIN response", plain),
        ("the AUTH LOGIN response", base64(password.as_bytes())),
    ] {
        assert!(
            !log.contains(&needle),
            "{what} is in the log of `mailgate run` at trace level:\n{}",
            log.lines()
                .filter(|l| l.contains(&needle))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(!log.contains("async_imap"), "async-imap is never logged");
}

fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
