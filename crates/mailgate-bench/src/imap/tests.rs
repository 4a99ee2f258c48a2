use super::*;

#[test]
fn settings_of_the_poller() {
    let dir = tempfile::tempdir().unwrap();
    // Quotes and backslashes in paths must survive the TOML text.
    let ca_file = dir.path().join("ca \"x\" \\.pem");
    std::fs::write(&ca_file, "not read here").unwrap();
    let stack = Stack::from_env(stack_env(dir.path(), &ca_file));
    let settings = poller_settings(
        &stack,
        "bench-1-2@it.example.test",
        &dir.path().join("pw"),
        "Processed",
        150,
        "sqlite:///tmp/x.db",
    )
    .unwrap();
    let mb = settings.mailbox(MAILBOX).unwrap();
    assert_eq!(mb.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(mb.port, Some(10993));
    assert_eq!(mb.tls, TlsMode::Implicit);
    assert_eq!(mb.ca_file.as_deref(), ca_file.to_str());
    assert_eq!(mb.username.as_deref(), Some("bench-1-2@it.example.test"));
    assert_eq!(mb.folder, "INBOX");
    assert_eq!(mb.processed_folder.as_deref(), Some("Processed"));
    assert_eq!(mb.batch_size, 150);
    assert!(mb.idle);
    assert_eq!(settings.database_url, "sqlite:///tmp/x.db");
}

/// A stack's description as `mailstack.sh start` writes it, read back (no daemons needed).
pub(crate) fn stack_env(dir: &Path, ca_file: &Path) -> mailgate_test_support::StackEnv {
    let lines = [
        "MAILSTACK_HOST=127.0.0.1".to_string(),
        "MAILSTACK_IMAPS_PORT=10993".into(),
        "MAILSTACK_IMAP_PORT=10143".into(),
        "MAILSTACK_SMTP_PORT=10025".into(),
        "MAILSTACK_SUBMISSION_PORT=10587".into(),
        format!("MAILSTACK_CA_FILE={}", ca_file.display()),
        "MAILSTACK_OTHER_CA_FILE=/other-ca.pem".into(),
        "MAILSTACK_TLS_SERVER_NAME=localhost".into(),
        "MAILSTACK_PASSWORD=secret".into(),
        "MAILSTACK_CATCHALL=catchall@example.test".into(),
        "MAILSTACK_IT_DOMAIN=it.example.test".into(),
        "MAILSTACK_USERS_DIR=/users.d".into(),
        "MAILSTACK_MAIL_DIR=/mail".into(),
    ];
    std::fs::write(dir.join("env"), lines.join("\n")).unwrap();
    mailgate_test_support::StackEnv::read(dir).unwrap()
}
