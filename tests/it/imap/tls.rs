//! TLS to the IMAP server: STARTTLS, plaintext to localhost only, a certificate from another
//! CA refused and retried.

use super::*;

/// One SMTP mail through a poller configured by `mb`: it becomes a ticket.
async fn one_mail_through(tag: &str, mb: impl FnOnce(MailboxToml) -> MailboxToml) {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new(tag, mb);
    let mut run = test.start_connected().await;
    let id = send(&test, 1).await;
    let decisions = test.wait_decisions(1, ONE_MAIL).await;
    assert_eq!(message_id_of(&decisions[0]), id);
    assert_eq!(str_of(&decisions[0], "decision"), "created");
    test.wait_folder_len("Processed", 1, ONE_MAIL).await;
    run.stop(SHUTDOWN).await;
}

/// `tls = "starttls"` on the plain IMAP port, verified with the stack's CA, works.
#[tokio::test]
async fn starttls_on_the_plain_port_works() {
    let stack = MailStack::get();
    one_mail_through("poller-starttls", |mut mb| {
        mb.tls = "starttls";
        mb.port = stack.imap_port;
        mb
    })
    .await;
}

/// `tls = "none"` is allowed for `localhost` and works on the plain port.
#[tokio::test]
async fn plaintext_to_localhost_works() {
    let stack = MailStack::get();
    one_mail_through("poller-plain", |mut mb| {
        mb.tls = "none";
        mb.port = stack.imap_port;
        mb.ca_file = None;
        mb
    })
    .await;
}

/// A server certificate from an unknown CA is refused: the poller logs the TLS error, handles
/// nothing, keeps retrying (it does not exit) and SIGINT stops it cleanly.
#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_and_retried() {
    let stack = MailStack::get();
    let _lock = stack.shared().await;
    let test = PollerTest::new("poller-wrongca", |mut mb| {
        mb.ca_file = Some(stack.other_ca_file.clone());
        mb
    });
    let local = local_part(&test.user);
    test.user
        .append("INBOX", &customer_mail(&local, 0, None))
        .await;
    let mut run = test.start();
    run.wait_log(
        "cannot log in to the mailbox; retrying",
        2,
        Duration::from_secs(30),
    )
    .await;
    let log = run.log();
    assert!(
        log.contains(
            "TLS handshake with localhost failed: invalid peer certificate: UnknownIssuer"
        ),
        "the log names the TLS/certificate problem"
    );
    run.assert_running();
    assert_eq!(run.connected(), 0);
    assert_eq!(run.handled(), 0);
    run.stop(SHUTDOWN).await;
    assert!(test.decisions().is_empty());
    assert_eq!(
        test.user.uids("INBOX").await.len(),
        1,
        "the mail is untouched"
    );
    assert_eq!(test.user.folders().await, vec!["INBOX".to_string()]);
}

/// `config check` (and `run`) refuse `tls = "none"` for a host that is not loopback, naming the
/// line of the `tls` key.
#[test]
fn config_check_refuses_plaintext_to_a_remote_host() {
    let config = "[[mailboxes]]\n\
                  name = \"support\"\n\
                  host = \"imap.example.test\"\n\
                  port = 143\n\
                  tls = \"none\"\n\
                  username = \"support@example.test\"\n\
                  password_env = \"MAILGATE_IT_IMAP_PASSWORD\"\n";
    let app = App::with_config_unmigrated(config);
    let line = config.lines().position(|l| l.starts_with("tls")).unwrap() + 1;
    for args in [&["config", "check"][..], &["run"][..]] {
        let run = app.run_with_env(args, &[(PASSWORD_ENV, "secret")]);
        run.expect_code(1);
        assert!(
            run.stderr.contains(&format!(
                "test-config.toml:{line}: mailbox support: tls = \"none\""
            )),
            "names the line of tls:\n{run}"
        );
        assert!(run.stderr.contains("loopback"), "{run}");
    }
}
