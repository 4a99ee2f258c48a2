//! Upgrading a database that holds mail: every migration must keep what is stored.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::*;

/// A database at schema 0004 (before messages were compacted) with one ticket, one received
/// message and one attachment in it.
async fn database_at_0004(dir: &std::path::Path) -> String {
    let old = dir.join("migrations");
    std::fs::create_dir_all(&old).unwrap();
    for entry in std::fs::read_dir("migrations/sqlite").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0005" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}/old.db", dir.display());
    let pool = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::from_str(&url)
                .unwrap()
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO tickets (id, subject, status, priority, requester, mailbox, created_at, updated_at) \
         VALUES (1, 'Printer', 'open', 'normal', 'jane@example.test', 'support', 1, 1)",
        "INSERT INTO messages (ticket_id, message_id, direction, classification, from_addr, to_addrs, \
         cc_addrs, subject, received_at, references_ids, body_text, reply_text, source, raw_sha256, raw) \
         VALUES (1, 'a@example.test', 'inbound', 'plain', 'jane@example.test', '', '', 'Printer', 1, '', \
         NULL, 'It prints blank pages.', 'test', 'abc', \
         CAST('From: jane@example.test' || char(13, 10) || 'Subject: Printer' || char(13, 10, 13, 10) || 'It prints blank pages.' AS BLOB))",
        "INSERT INTO blobs (sha256, content) VALUES ('f00', x'00')",
        "INSERT INTO quarantine (created_at, source, mailbox, message_id, reason, raw_sha256, raw) \
         VALUES (1, 'old.eml', 'support', 'q@example.test', 'unparseable: x', 'q1', \
         CAST('Subject: no sender' || char(13, 10, 13, 10) || 'text' AS BLOB))",
        "INSERT INTO quarantine (created_at, source, mailbox, message_id, reason, raw_sha256, raw, \
         header_only) VALUES (2, 'imap:x', 'support', 'big@example.test', 'over-size: x', 'q2', \
         CAST('Subject: big' AS BLOB), 1)",
        "INSERT INTO attachments (message_id, position, filename, content_type, size, sha256) \
         VALUES ('a@example.test', 0, 'log.txt', 'text/plain', 1, 'f00')",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    url
}

#[tokio::test]
async fn upgrading_keeps_stored_mail_attachments_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_at_0004(dir.path()).await;
    let store = Store::open(&url).await.unwrap();

    let messages = store.messages(1).await.unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.raw_codec, "none");
    let texts = crate::pipeline::message_texts(m);
    assert_eq!(
        texts.reply, "It prints blank pages.",
        "stored reply_text is kept"
    );
    assert!(texts.full.contains("blank pages"), "{texts:?}");
    let attachments = store.attachments(1).await.unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(
        (
            attachments[0].filename.as_str(),
            attachments[0].sha256.as_str()
        ),
        ("log.txt", "f00"),
        "0006 keeps attachment metadata"
    );

    // Foreign keys are on again and still point at the rebuilt table.
    let mut conn = store.pool().acquire().await.unwrap();
    let (on,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(on, 1);
    let orphan = sqlx::query(
        "INSERT INTO attachments (message_id, position, filename, content_type, size, sha256) \
         VALUES ('nobody@example.test', 0, 'x', 'text/plain', 1, 'f00')",
    )
    .execute(&mut *conn)
    .await;
    assert!(
        orphan.is_err(),
        "an attachment of no message must be refused"
    );
    let problems: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    // 0006: contents come from the stored mail; the copy table and an unused index are gone.
    let gone: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_schema WHERE name IN ('blobs', 'participants_address')",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(gone.is_empty(), "{gone:?}");
    drop(conn);

    // 0008: quarantine entries from before compression read as they were stored; the size of
    // a whole one is its length, that of an old header-only one unknown.
    let entries = store.quarantine_list(true).await.unwrap();
    let sizes: Vec<_> = entries.iter().map(|e| (e.id, e.size)).collect();
    assert_eq!(sizes, vec![(2, None), (1, Some(26))]);
    let (_, raw) = store.quarantined_message(1).await.unwrap().unwrap();
    assert_eq!(raw, b"Subject: no sender\r\n\r\ntext");
}
