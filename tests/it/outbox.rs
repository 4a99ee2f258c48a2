//! The outbox sender of `mailgate run` against the real Postfix → Dovecot stack: rows are put
//! into the test's database as the enqueue side writes them (see the row contract in
//! src/store/outbox.rs), `mailgate run` with `[smtp]` and no mailboxes sends them, and the
//! mail is read back from the recipient's IMAP INBOX.
//!
//! SMTP outages: see `outage` (a TCP relay between mailgate and Postfix that can be switched
//! off).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use mail_parser::MessageParser;
use serde_json::Value;

use crate::support::{App, MailStack, TestUser, addresses, array, str_of};

const SECRET: &str = "outbox-it-secret";
const SMTP_PASSWORD_ENV: &str = "MAILGATE_IT_SMTP_PASSWORD";

/// `[smtp]` of a test's config.
struct Smtp {
    port: u16,
    tls: &'static str,
    auth: bool,
    max_attempts: u32,
    retry_max_secs: u32,
}

impl Smtp {
    fn plain(port: u16) -> Smtp {
        Smtp {
            port,
            tls: "none",
            auth: false,
            max_attempts: 50,
            retry_max_secs: 1,
        }
    }
}

/// One installation whose config sends through `smtp` and has no mailboxes.
fn app_with(smtp: &Smtp) -> App {
    let stack = MailStack::get();
    let app = App::with_config("# rewritten below\n");
    let key = app.write_file("hmac.key", SECRET.as_bytes());
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mut text = format!(
        "[database]\nurl = {}\n\n[tickets]\nprefix = \"SUP\"\n\
         support_address = \"Example Support <support@example.test>\"\nsecret_file = {}\n\n\
         [smtp]\nhost = {}\nport = {}\ntls = {}\ntimeout_secs = 5\npool_size = 4\n\
         retry_base_secs = 1\nretry_max_secs = {}\nmax_attempts = {}\n",
        s(&app.db_url()),
        s(&key.display().to_string()),
        s(if smtp.tls == "none" {
            "127.0.0.1"
        } else {
            &stack.tls_server_name
        }),
        smtp.port,
        s(smtp.tls),
        smtp.retry_max_secs,
        smtp.max_attempts,
    );
    if smtp.tls != "none" {
        text.push_str(&format!(
            "ca_file = {}\n",
            s(&stack.ca_file.display().to_string())
        ));
    }
    if smtp.auth {
        text.push_str(&format!(
            "username = \"support@example.test\"\npassword_env = {}\n",
            s(SMTP_PASSWORD_ENV)
        ));
    }
    app.rewrite_config(&text);
    app
}

/// Ticket SUP-1 of `customer` with its first mail, written straight into the database (not
/// through the pipeline, so no acknowledgement is enqueued besides the rows a test inserts).
/// Returns the customer's Message-ID.
async fn open_ticket(app: &App, customer: &str, tag: &str) -> String {
    let id = format!("{tag}-{}@customer.it.test", std::process::id());
    let pool = sqlx::SqlitePool::connect(&app.db_url()).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    for statement in [
        "UPDATE counters SET value = 1 WHERE name = 'ticket_number'",
        "INSERT INTO tickets (id, subject, status, priority, requester, mailbox, created_at, \
         updated_at) VALUES (1, 'printer on fire', 'open', 'normal', ?1, 'support', ?2, ?2)",
        "INSERT INTO participants (ticket_id, address, role) VALUES (1, ?1, 'requester')",
        "INSERT INTO messages (ticket_id, message_id, direction, classification, from_addr, \
         to_addrs, cc_addrs, subject, received_at, references_ids, body_text, reply_text, \
         source, raw_sha256) VALUES (1, ?3, 'inbound', 'plain', ?1, '[]', '[]', \
         'printer on fire', ?2, '', 'Help!', 'Help!', 'test', '')",
    ] {
        sqlx::query(statement)
            .bind(customer)
            .bind(now)
            .bind(&id)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    id
}

/// One row as the enqueue side writes it.
struct Row<'a> {
    ticket: Option<i64>,
    recipients: &'a [&'a str],
    subject: &'a str,
    message_id: String,
    in_reply_to: Option<&'a str>,
    references: &'a str,
    body_html: Option<&'a str>,
}

async fn insert(app: &App, row: &Row<'_>) -> i64 {
    let pool = sqlx::SqlitePool::connect(&app.db_url()).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (ticket_id, kind, recipients, subject, message_id, in_reply_to, \
         references_ids, auto_submitted, body_text, body_html, status, next_attempt_at, \
         created_at) VALUES (?1, 'agent_reply', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, \
         ?10) RETURNING id",
    )
    .bind(row.ticket)
    .bind(serde_json::to_string(row.recipients).unwrap())
    .bind(row.subject)
    .bind(&row.message_id)
    .bind(row.in_reply_to)
    .bind(row.references)
    .bind(if row.in_reply_to.is_some() {
        "auto-replied"
    } else {
        "auto-generated"
    })
    .bind("Hello,\n\nwe are on it. Grüße\n")
    .bind(row.body_html)
    .bind(now)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    id
}

fn row<'a>(recipients: &'a [&'a str], n: usize) -> Row<'a> {
    Row {
        ticket: None,
        recipients,
        subject: "[SUP-1] Status update",
        message_id: format!(
            "SUP-1.it{}x{n}.{}@example.test",
            std::process::id(),
            fastrand::u32(..)
        ),
        in_reply_to: None,
        references: "",
        body_html: None,
    }
}

/// A `mailgate run` child; its stderr is collected. Dropping it kills the child.
struct Gate {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Gate {
    fn start(app: &App) -> Gate {
        let stack = MailStack::get();
        let mut cmd = app.command(&["run"]);
        cmd.env(SMTP_PASSWORD_ENV, &stack.password)
            .env("MAILGATE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot start mailgate run");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Gate { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGINT, then waits for a clean exit (0) and the sender's "stopped" line.
    async fn stop(mut self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..400 {
            if let Some(status) = self.child.try_wait().unwrap() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let log = self.log();
                assert!(status.success(), "mailgate run exited with {status}\n{log}");
                assert!(log.contains("outbox sender stopped"), "{log}");
                assert!(!log.contains("panicked"), "{log}");
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mailgate run did not stop within 20 s\n{}", self.log());
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- mailgate run log ---\n{}", self.log());
        }
    }
}

fn outbox(app: &App) -> Vec<Value> {
    array(app.ok_json(&["outbox", "list", "--json"]), "outbox list")
}

async fn wait_for_status(app: &App, gate: &Gate, status: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let rows = outbox(app);
        if rows
            .iter()
            .filter(|r| str_of(r, "status") == status)
            .count()
            >= n
        {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {n} {status} rows: {rows:#?}\n{}",
            gate.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn inbox(user: &TestUser, n: usize) -> Vec<Vec<u8>> {
    user.wait_for_messages("INBOX", n, Duration::from_secs(30))
        .await;
    user.fetch_all("INBOX")
        .await
        .into_iter()
        .map(|(_, raw)| raw)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_mail_arrives_with_every_header() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let customer = stack.new_user("outbox-headers");
    let app = app_with(&Smtp::plain(stack.smtp_port));
    let asked = open_ticket(&app, &customer.address, "outbox-headers").await;
    let our_id = format!("SUP-1.n1.{}.abc@example.test", std::process::id());
    let id = insert(
        &app,
        &Row {
            ticket: Some(1),
            recipients: &[&customer.address],
            subject: "Re: [SUP-1] printer on fire",
            message_id: our_id.clone(),
            in_reply_to: Some(&asked),
            references: &asked,
            body_html: Some("<p>We are on it. Grüße</p>"),
        },
    )
    .await;
    let gate = Gate::start(&app);
    let mail = inbox(&customer, 1).await;
    assert_eq!(mail.len(), 1);
    let m = MessageParser::default().parse(&mail[0]).unwrap();
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.address.as_deref(), Some("support@example.test"));
    assert_eq!(from.name.as_deref(), Some("Example Support"));
    let reply_to = addresses(m.header("Reply-To"));
    assert_eq!(reply_to.len(), 1);
    assert!(
        reply_to[0].starts_with("support+") && reply_to[0].ends_with("@example.test"),
        "{reply_to:?}"
    );
    assert_eq!(addresses(m.header("To")), vec![customer.address.clone()]);
    assert_eq!(m.message_id(), Some(our_id.as_str()));
    assert_eq!(m.in_reply_to().as_text(), Some(asked.as_str()));
    assert_eq!(m.references().as_text(), Some(asked.as_str()));
    assert_eq!(m.subject(), Some("Re: [SUP-1] printer on fire"));
    assert_eq!(
        m.header("Auto-Submitted").and_then(|v| v.as_text()),
        Some("auto-replied")
    );
    assert_eq!(
        m.header("X-Auto-Response-Suppress")
            .and_then(|v| v.as_text()),
        Some("All")
    );
    assert!(m.body_text(0).unwrap().contains("we are on it. Grüße"));
    assert_eq!(m.body_html(0).unwrap(), "<p>We are on it. Grüße</p>");
    let rows = wait_for_status(&app, &gate, "sent", 1).await;
    assert_eq!(rows[0]["id"], id);
    assert_eq!(str_of(&rows[0], "ticket"), "SUP-1");
    assert_eq!(
        rows[0]["delivered_to"],
        serde_json::json!([customer.address])
    );
    assert_eq!(rows[0]["attempts"], 1);
    let log = gate.stop().await;
    assert!(log.contains("sent"), "{log}");
    assert!(!log.contains(SECRET), "the HMAC key is never logged");
    // Our own mail threads back by its plus-address when the customer answers it.
    assert_eq!(outbox(&app).len(), 1, "nothing sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_submission_with_starttls_and_auth() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let customer = stack.new_user("outbox-submission");
    let app = app_with(&Smtp {
        port: stack.submission_port,
        tls: "starttls",
        auth: true,
        max_attempts: 3,
        retry_max_secs: 1,
    });
    insert(&app, &row(&[&customer.address], 1)).await;
    let gate = Gate::start(&app);
    let mail = inbox(&customer, 1).await;
    let m = MessageParser::default().parse(&mail[0]).unwrap();
    assert_eq!(m.subject(), Some("[SUP-1] Status update"));
    wait_for_status(&app, &gate, "sent", 1).await;
    let log = gate.stop().await;
    assert!(
        !log.contains(&stack.password),
        "the SMTP password is never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_refused_recipient_fails_permanently_without_blocking_others() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let good = stack.new_user("outbox-refused");
    let other = stack.new_user("outbox-refused");
    let app = app_with(&Smtp::plain(stack.smtp_port));
    open_ticket(&app, "jane@example.com", "outbox-refused").await;
    // Postfix refuses addresses outside *.test at RCPT with 554.
    let both = [good.address.as_str(), "jane@example.com"];
    let mut mixed = row(&both, 1);
    mixed.ticket = Some(1);
    let mixed = insert(&app, &mixed).await;
    let mut only_bad = row(&["nobody@example.org"], 2);
    only_bad.ticket = Some(1);
    let only_bad = insert(&app, &only_bad).await;
    let after = insert(&app, &row(&[&other.address], 3)).await;
    let gate = Gate::start(&app);
    let rows = wait_for_status(&app, &gate, "sent", 2).await;
    let rows = if rows.iter().any(|r| str_of(r, "status") == "failed") {
        rows
    } else {
        wait_for_status(&app, &gate, "failed", 1).await
    };
    let by_id = |id: i64| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    let m = by_id(mixed);
    assert_eq!(str_of(&m, "status"), "sent", "{m:#}");
    assert_eq!(m["delivered_to"], serde_json::json!([good.address]));
    assert_eq!(m["refused"][0]["address"], "jane@example.com");
    assert!(str_of(&m["refused"][0], "error").contains("554"), "{m:#}");
    let b = by_id(only_bad);
    assert_eq!(str_of(&b, "status"), "failed", "{b:#}");
    assert_eq!(b["attempts"], 1, "5xx is not retried");
    assert!(str_of(&b, "last_error").contains("554"), "{b:#}");
    assert_eq!(str_of(&by_id(after), "status"), "sent");
    assert_eq!(inbox(&good, 1).await.len(), 1);
    assert_eq!(inbox(&other, 1).await.len(), 1);
    gate.stop().await;

    // Recorded on the ticket: a decision per failure, the refused requester bouncing.
    let show = app.show("SUP-1");
    let decisions = show["decisions"].as_array().unwrap();
    let failed: Vec<&Value> = decisions
        .iter()
        .filter(|d| str_of(d, "decision").starts_with("send-"))
        .collect();
    assert_eq!(failed.len(), 2, "{decisions:#?}");
    assert!(
        failed
            .iter()
            .any(|d| str_of(d, "decision") == "send-failed" && str_of(d, "reason").contains("554")),
        "{failed:#?}"
    );
    let requester = show["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| str_of(p, "address") == "jane@example.com")
        .unwrap();
    assert_eq!(requester["bouncing"], true, "{show:#}");

    // `outbox retry` puts the failed row back; a sent one cannot be retried.
    let retry = app.run(&["outbox", "retry", &only_bad.to_string()]);
    retry.expect_success();
    let listed = array(
        app.ok_json(&["outbox", "list", "--status", "pending", "--json"]),
        "pending",
    );
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], only_bad);
    assert_eq!(listed[0]["attempts"], 0);
    let refused = app.run(&["outbox", "retry", &mixed.to_string()]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("only failed or held"),
        "{}",
        refused.stderr
    );
    app.run(&["outbox", "retry", "9999"]).expect_code(1);
}

mod intl;
mod outage;
