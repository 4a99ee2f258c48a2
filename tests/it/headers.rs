//! Header text through the real binary: undeclared 8-bit subjects, display names and
//! attachment names read as a person reads them (the raw bytes stored as they came), and the
//! requester order From, Sender, Reply-To, Return-Path (SPEC 2, Trust).

use sha2::{Digest, Sha256};

use crate::support::*;

/// `text` in charset `label`, unencoded.
fn raw(text: &str, label: &str) -> Vec<u8> {
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text} in {label}");
    bytes.into_owned()
}

/// A mail from an old client: From display name, Subject and the attachment's file name in
/// raw `label` bytes, no RFC 2047; the body part declares `declared` (or nothing).
fn old_client_mail(
    n: usize,
    label: &str,
    name: &str,
    subject: &str,
    file: &str,
    declared: Option<&str>,
) -> Vec<u8> {
    let mut m = b"From: ".to_vec();
    m.extend(raw(name, label));
    m.extend(b" <customer@example.test>\r\nTo: support@example.test\r\nSubject: ");
    m.extend(raw(subject, label));
    m.extend(
        format!(
            "\r\nMessage-ID: <old-client-{n}@example.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
        )
        .as_bytes(),
    );
    match declared {
        Some(c) => m.extend(format!("Content-Type: text/plain; charset={c}\r\n").as_bytes()),
        None => m.extend(b"Content-Type: text/plain\r\n"),
    }
    m.extend(b"Content-Transfer-Encoding: 8bit\r\n\r\n");
    m.extend(raw(subject, label));
    m.extend(b"\r\n--b\r\nContent-Type: application/pdf\r\n");
    m.extend(b"Content-Disposition: attachment; filename=\"");
    m.extend(raw(file, label));
    m.extend(b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n");
    m
}

#[test]
fn undeclared_8bit_headers_read_as_the_sender_wrote_them() {
    let cases = [
        (
            "gbk",
            None,
            "张伟",
            "打印机无法连接网络，请帮忙处理",
            "发票.pdf",
        ),
        (
            "gb2312",
            Some("gb2312"),
            "李娜",
            "关于发票的问题",
            "合同.pdf",
        ),
        (
            "shift_jis",
            None,
            "山田太郎",
            "プリンターが動きません。至急対応をお願いします",
            "見積書.pdf",
        ),
        (
            "euc-kr",
            Some("euc-kr"),
            "김민준",
            "프린터가 작동하지 않습니다 도와주세요",
            "청구서.pdf",
        ),
        (
            "windows-1251",
            None,
            "Иван Петров",
            "Не работает принтер, помогите пожалуйста",
            "Счёт.pdf",
        ),
        (
            "iso-8859-1",
            Some("iso-8859-1"),
            "Jörg Müller",
            "Drucker geht nicht, bitte um Rückmeldung",
            "Übersicht.pdf",
        ),
        (
            "iso-8859-2",
            None,
            "Paweł Łukasz",
            "Drukarka nie działa, proszę o pomoc",
            "Umowa_źródło.pdf",
        ),
    ];
    let app = App::new();
    let mut sent = Vec::new();
    for (n, (label, declared, name, subject, file)) in cases.into_iter().enumerate() {
        let mail = old_client_mail(n, label, name, subject, file, declared);
        sent.push(hex::encode(Sha256::digest(&mail)));
        let d = app.ingest_bytes(&format!("{label}.eml"), &mail);
        assert_eq!(str_of(&d, "decision"), "created", "{label}: {d:#}");
        let reference = ticket_of(&d).unwrap();
        let shown = app.show(&reference);
        assert_eq!(str_of(&shown, "subject"), subject, "{label} ({declared:?})");
        let message = &items(&shown, "messages")[0];
        assert_eq!(str_of(message, "from_name"), name, "{label}");
        assert_eq!(str_of(message, "subject"), subject, "{label}");
        let requester = &items(&shown, "participants")[0];
        assert_eq!(str_of(requester, "name"), name, "{label}");
        let files: Vec<&str> = items(message, "attachments")
            .iter()
            .map(|a| str_of(a, "filename"))
            .collect();
        assert_eq!(files, [file], "{label}");
    }
    // Only the text is decoded: the bytes stored are the bytes received.
    assert_eq!(raw_sha256s(&app), sent);
}

/// `raw_sha256` of every stored message, read from the test's database.
fn raw_sha256s(app: &App) -> Vec<String> {
    let url = app.db_url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query("SELECT raw_sha256 FROM messages ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    })
}

#[test]
fn an_encoded_word_beside_raw_8bit_bytes() {
    let mut mail = b"From: =?utf-8?q?Zh=C3=A1ng?= ".to_vec();
    mail.extend(raw("张伟", "gbk"));
    mail.extend(b" <zw@example.cn>\r\nTo: support@example.test\r\n");
    mail.extend(b"Subject: =?utf-8?b?UsO8Y2tmcmFnZQ==?= ");
    mail.extend(raw("关于发票的问题", "gbk"));
    mail.extend(
        b"\r\nMessage-ID: <mixed@example.cn>\r\nContent-Type: text/plain; charset=gbk\r\n\r\n",
    );
    mail.extend(raw("请看附件", "gbk"));
    mail.extend(b"\r\n");
    let app = App::new();
    let d = app.ingest_bytes("mixed.eml", &mail);
    let shown = app.show(&ticket_of(&d).unwrap());
    assert_eq!(str_of(&shown, "subject"), "Rückfrage 关于发票的问题");
    assert_eq!(
        str_of(&items(&shown, "participants")[0], "name"),
        "Zháng 张伟"
    );
}

#[test]
fn without_from_the_requester_is_reply_to_before_return_path() {
    let app = App::new();
    let mail = b"Return-Path: <envelope@mailer.example>\r\n\
        Reply-To: Jane Doe <jane@acme.test>\r\n\
        To: support@example.test\r\nSubject: No From here\r\n\
        Message-ID: <no-from@acme.test>\r\n\r\nHello\r\n";
    let d = app.ingest_bytes("no-from.eml", mail);
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("requester jane@acme.test is unverified (Reply-To)"),
        "{reason}"
    );
    let shown = app.show("SUP-1");
    assert_eq!(str_of(&shown, "requester"), "jane@acme.test");

    // Sender comes before Reply-To; From before everything.
    let mail = b"Return-Path: <envelope@mailer.example>\r\n\
        Reply-To: Jane Doe <jane@acme.test>\r\nSender: Office <office@acme.test>\r\n\
        To: support@example.test\r\nSubject: Sent by the office\r\n\
        Message-ID: <sender@acme.test>\r\n\r\nHello\r\n";
    let d = app.ingest_bytes("sender.eml", mail);
    assert_eq!(
        str_of(&app.show(&ticket_of(&d).unwrap()), "requester"),
        "office@acme.test"
    );
    let mail = b"Return-Path: <envelope@mailer.example>\r\n\
        Reply-To: Jane Doe <jane@acme.test>\r\nSender: Office <office@acme.test>\r\n\
        From: Boss <boss@acme.test>\r\n\
        To: support@example.test\r\nSubject: From the boss\r\n\
        Message-ID: <from@acme.test>\r\n\r\nHello\r\n";
    let d = app.ingest_bytes("from.eml", mail);
    assert_eq!(
        str_of(&app.show(&ticket_of(&d).unwrap()), "requester"),
        "boss@acme.test"
    );
}
