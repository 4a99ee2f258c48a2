use super::*;

#[test]
fn settings_of_the_poller() {
    let dir = tempfile::tempdir().unwrap();
    // Quotes and backslashes in paths must survive the TOML text.
    let ca_file = dir.path().join("ca \"x\" \\.pem");
    std::fs::write(&ca_file, "not read here").unwrap();
    let stack = Stack {
        state_dir: dir.path().to_path_buf(),
        host: "127.0.0.1".into(),
        imaps_port: 10993,
        imap_port: 10143,
        smtp_port: 10025,
        ca_file: ca_file.clone(),
        password: "secret".into(),
        it_domain: "it.example.test".into(),
    };
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
