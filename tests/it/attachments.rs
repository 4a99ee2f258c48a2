//! Issue 18 item 11: agents send files to customers. An authenticated agent's mail is relayed
//! with its files (never its signature images), `tickets reply --attach FILE` sends files, what
//! was sent is listed on the ticket's outbound message, and each content is stored once.
//! `relay_and_reply_deliver_the_files_intact` proves it on the real mail stack (Postfix and
//! Dovecot): the customer's IMAP inbox receives the PDF byte for byte.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const CONFIG: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
secret_file = "hmac.key"

[notify]
agents = ["*@agents.example.test"]

[security]
trusted_authserv_ids = ["mx.example.test"]

[limits]
max_message_bytes = 60000
"#;

/// A PDF-looking file with every byte value in it (what a text-only relay would mangle).
fn pdf(seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.extend((0..=255u8).cycle().skip(usize::from(seed)).take(3000));
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    let lines: Vec<&str> = out
        .as_bytes()
        .chunks(76)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    lines.join("\r\n")
}

/// An agent's answer as a mail client writes it: text and HTML with the signature logo
/// (inline, referenced by `cid:`), and a PDF with a non-ASCII name (RFC 2231).
fn agent_mail(from: &str, to: &str, id: &str, headers: &str, file: &[u8]) -> Vec<u8> {
    let logo = base64(&[0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13]);
    format!(
        "From: Ann Smith <{from}>\r\nTo: {to}\r\nSubject: Re: [SUP-1] Invoice missing\r\n\
         Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"MIX\"\r\n\r\n\
         --MIX\r\nContent-Type: multipart/related; boundary=\"REL\"\r\n\r\n\
         --REL\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n\
         --ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Here is the invoice you asked for.\r\n\r\nAnn Smith\r\n\
         --ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Here is the invoice you asked for.</p><p>Ann Smith<br><img src=\"cid:logo@agent\"></p>\r\n\
         --ALT--\r\n--REL\r\nContent-Type: image/png; name=\"logo.png\"\r\n\
         Content-ID: <logo@agent>\r\nContent-Disposition: inline; filename=\"logo.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{logo}\r\n--REL--\r\n\
         --MIX\r\nContent-Type: application/pdf; name=\"Rechnung.pdf\"\r\n\
         Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--MIX--\r\n",
        base64(file)
    )
    .into_bytes()
}

fn customer_mail(from: &str, to: &str, id: &str) -> Vec<u8> {
    format!(
        "From: Jane <{from}>\r\nTo: {to}\r\nSubject: Invoice missing\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 07 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain\r\n\r\n\
         Please send me the invoice.\r\n"
    )
    .into_bytes()
}

/// Rows of `sql` (one text column per row), read from the test's database.
fn column(app: &App, sql: &str) -> Vec<String> {
    let url = app.db_url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    })
}

fn outbound_files(show: &Value) -> Vec<Vec<Value>> {
    items(show, "messages")
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .map(|m| items(m, "attachments").clone())
        .collect()
}

fn app() -> App {
    let app = App::with_config_unmigrated(CONFIG);
    app.write_file("hmac.key", b"attachments-secret");
    app.run(&["migrate"]).expect_success();
    app
}

#[test]
fn an_agents_files_are_relayed_without_the_signature_logo() {
    let app = app();
    app.ingest_bytes(
        "c1.eml",
        &customer_mail("jane@acme.test", "support@example.test", "c1@acme.test"),
    );
    let file = pdf(0);
    let dkim = "Authentication-Results: mx.example.test; dkim=pass header.d=agents.example.test\r\n\
         In-Reply-To: <c1@acme.test>\r\n";
    let d = app.ingest_bytes(
        "a1.eml",
        &agent_mail(
            "ann.smith@agents.example.test",
            "support@example.test",
            "a1@agents.example.test",
            dkim,
            &file,
        ),
    );
    assert_eq!(str_of(&d, "decision"), "threaded", "{d}");
    let relay = outbox_table(&app)
        .into_iter()
        .find(|r| r["kind"] == "agent_reply")
        .unwrap();
    let linked = column(
        &app,
        &format!(
            "SELECT filename FROM outbox_attachments WHERE outbox_message_id = '{}'",
            str_of(&relay, "message_id")
        ),
    );
    assert_eq!(linked, ["Rechnung März.pdf"], "the logo is not relayed");

    // The ticket lists what was sent: the agent's mail (both parts) and the relay (the PDF).
    let show = app.show("SUP-1");
    let sent = outbound_files(&show);
    assert_eq!(sent.len(), 1, "{show:#}");
    assert_eq!(sent[0].len(), 1, "{show:#}");
    assert_eq!(sent[0][0]["filename"], "Rechnung März.pdf");
    assert_eq!(sent[0][0]["content_type"], "application/pdf");
    assert_eq!(sent[0][0]["size"], file.len());
    let human = app.run(&["tickets", "show", "SUP-1"]);
    human.expect_success();
    assert!(
        human.stdout.contains(&format!(
            "📎 Rechnung März.pdf (application/pdf, {} bytes)",
            file.len()
        )),
        "{human}"
    );
}

#[test]
fn tickets_reply_attach_refuses_bad_files_and_stores_contents_once() {
    let app = app();
    app.ingest_bytes(
        "c1.eml",
        &customer_mail("jane@acme.test", "support@example.test", "c1@acme.test"),
    );
    let before = (
        outbox_table(&app).len(),
        items(&app.show("SUP-1"), "messages").len(),
    );
    let big = app.write_file("big.bin", &vec![1u8; 70_000]);
    let half = app.write_file("half.bin", &vec![2u8; 35_000]);
    let missing = app.dir().join("missing.pdf");
    let dir = app.dir().to_path_buf();
    let path = |p: &std::path::Path| p.display().to_string();
    let cases: [(Vec<String>, &str); 4] = [
        (vec![path(&missing)], "missing.pdf"),
        (vec![path(&dir)], "not a file"),
        (vec![path(&big)], "max_message_bytes"),
        (vec![path(&half), path(&half)], "max_message_bytes"),
    ];
    for (files, expected) in cases {
        let mut args = vec!["tickets", "reply", "SUP-1", "--body", "See attached."];
        for f in &files {
            args.extend(["--attach", f.as_str()]);
        }
        let run = app.run(&args);
        run.expect_code(1);
        assert!(run.stderr.contains(expected), "{expected}: {run}");
        let after = (
            outbox_table(&app).len(),
            items(&app.show("SUP-1"), "messages").len(),
        );
        assert_eq!(after, before, "nothing stored: {run}");
    }

    let report = app.write_file("report.pdf", &pdf(1));
    let log = app.write_file("Überblick.log", b"line 1\nline 2\n");
    let run = app.run(&[
        "tickets",
        "reply",
        "SUP-1",
        "--body",
        "Here are the files.",
        "--attach",
        &path(&report),
        "--attach",
        &path(&log),
    ]);
    run.expect_success();
    let expected = format!(
        "attached report.pdf (application/pdf, {} bytes)",
        pdf(1).len()
    );
    assert!(run.stdout.contains(&expected), "{run}");
    assert!(
        run.stdout
            .contains("attached Überblick.log (text/plain, 14 bytes)"),
        "{run}"
    );
    // The same report again: a second mail, the content still stored once; `--json` lists
    // what was attached.
    let again = app.ok_json(&[
        "tickets",
        "reply",
        "SUP-1",
        "--body",
        "Again.",
        "--attach",
        &path(&report),
        "--json",
    ]);
    let attached = items(&again, "attachments");
    assert_eq!(attached.len(), 1, "{again:#}");
    assert_eq!(str_of(&attached[0], "filename"), "report.pdf");
    assert_eq!(str_of(&attached[0], "content_type"), "application/pdf");
    assert!(u64_of(&attached[0], "size") > 0, "{again:#}");
    let show = app.show("SUP-1");
    let sent = outbound_files(&show);
    let names: Vec<Vec<&str>> = sent
        .iter()
        .map(|files| files.iter().map(|f| str_of(f, "filename")).collect())
        .collect();
    assert_eq!(
        names,
        [vec!["report.pdf", "Überblick.log"], vec!["report.pdf"]]
    );
    assert_eq!(
        column(&app, "SELECT sha256 FROM outbound_attachment_contents").len(),
        2,
        "each content once"
    );
    assert_eq!(
        column(&app, "SELECT filename FROM outbox_attachments").len(),
        3
    );
}

const ROUND_TRIP: Duration = Duration::from_secs(60);

/// The attachments of a received mail: (name, content).
fn files_of(raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    use mail_parser::MimeHeaders;
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    m.attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or_default().to_string(),
                a.contents().to_vec(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_and_reply_deliver_the_files_intact() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("attach-e2e", |m| m);
    let customer = stack.new_user("attach-e2e-cust");
    let agent = stack.new_user("attach-e2e-agent");
    let support = test.user.address.clone();
    let agent_domain = agent.address.split_once('@').unwrap().1.to_string();
    let mut run = test
        .start_relaying_for(&agent.address, b"attach-e2e-secret")
        .await;
    let pid = std::process::id();

    let first = format!("attach-{pid}-1@cust.it.test");
    let raw = customer_mail(&customer.address, &support, &first);
    stack
        .send_smtp(&customer.address, &[&support], &raw)
        .await
        .unwrap();
    customer.wait_for_messages("INBOX", 1, ROUND_TRIP).await;
    test.wait_decisions(1, ROUND_TRIP).await;

    // The agent answers with the invoice; their server vouched for them (DKIM).
    let file = pdf(7);
    let headers = format!(
        "Authentication-Results: mx.example.test; dkim=pass header.d={agent_domain}\r\n\
         In-Reply-To: <{first}>\r\n"
    );
    let answer = format!("attach-{pid}-agent@agent.it.test");
    let raw = agent_mail(&agent.address, &support, &answer, &headers, &file);
    stack
        .send_smtp(&agent.address, &[&support], &raw)
        .await
        .unwrap();
    customer.wait_for_messages("INBOX", 2, ROUND_TRIP).await;
    let inbox = customer.fetch_all("INBOX").await;
    let relayed = &inbox.last().unwrap().1;
    assert!(mail_header(relayed, "From").contains(&support));
    assert!(mail_body(relayed).contains("Here is the invoice"));
    assert_eq!(
        files_of(relayed),
        [("Rechnung März.pdf".to_string(), file.clone())],
        "the PDF intact, the logo left out"
    );

    // `tickets reply --attach`, sent by the running sender.
    let report = pdf(9);
    let path = test.app.write_file("Prüfbericht.pdf", &report);
    test.app
        .run(&[
            "tickets",
            "reply",
            "SUP-1",
            "--body",
            "And the test report.",
            "--attach",
            &path.display().to_string(),
        ])
        .expect_success();
    customer.wait_for_messages("INBOX", 3, ROUND_TRIP).await;
    let inbox = customer.fetch_all("INBOX").await;
    let replied = &inbox.last().unwrap().1;
    assert!(mail_body(replied).contains("And the test report."));
    assert_eq!(files_of(replied), [("Prüfbericht.pdf".to_string(), report)]);
    let show = test.app.show("SUP-1");
    assert_eq!(outbound_files(&show).len(), 2, "{show:#}");
    run.assert_running();
    run.stop(Duration::from_secs(30)).await;
}
