//! [`TokenSource`] against a local token endpoint (plain HTTP on loopback, canned answers).

use super::*;
use crate::config::{Provider, SecretSource};
use crate::oauth::test_endpoint::endpoint;

fn settings(url: &str, token_file: &std::path::Path, secret: Option<&str>) -> OAuth2Settings {
    OAuth2Settings {
        provider: Provider::Custom {
            token_url: url.to_string(),
            device_authorization_url: None,
        },
        client_id: "mailgate-test".into(),
        client_secret: secret.map(|s| SecretSource::File(s.to_string())),
        refresh_token_file: token_file.display().to_string(),
        scopes: vec!["imap".into(), "smtp".into()],
    }
}

#[tokio::test]
async fn refreshes_once_caches_writes_a_rotated_token_back_and_renews_on_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("support.token");
    std::fs::write(&token_file, "R1\n").unwrap();
    let secret_file = dir.path().join("client.secret");
    std::fs::write(&secret_file, "s3cret\n").unwrap();
    let (url, seen) = endpoint(vec![
        (
            200,
            r#"{"access_token":"A1","token_type":"Bearer","expires_in":3600,"refresh_token":"R2"}"#,
        ),
        (
            200,
            r#"{"access_token":"A2","token_type":"Bearer","expires_in":3600}"#,
        ),
    ])
    .await;
    let source = TokenSource::new(
        "mailbox support",
        &settings(&url, &token_file, Some(&secret_file.display().to_string())),
    )
    .unwrap();
    assert!(!format!("{source:?}").contains("s3cret"));

    let first = source.access_token().await.unwrap();
    assert_eq!(first.expose(), "A1");
    assert_eq!(source.access_token().await.unwrap().expose(), "A1");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap(),
        "R2\n",
        "the rotated refresh token is written back"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The server refused A1: one refresh, with the new refresh token.
    assert_eq!(source.renew(&first).await.unwrap().expose(), "A2");
    // Another connection that also saw A1 refused gets A2 without a second refresh.
    assert_eq!(source.renew(&first).await.unwrap().expose(), "A2");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0],
        "grant_type=refresh_token&refresh_token=R1&client_id=mailgate-test\
         &client_secret=s3cret&scope=imap+smtp"
    );
    assert!(seen[1].contains("refresh_token=R2"), "{}", seen[1]);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), "R2\n");
}

#[tokio::test]
async fn a_revoked_grant_is_held_until_the_token_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("support.token");
    std::fs::write(&token_file, "revoked\n").unwrap();
    let (url, seen) = endpoint(vec![
        (
            400,
            r#"{"error":"invalid_grant","error_description":"The refresh token was revoked."}"#,
        ),
        (
            200,
            r#"{"access_token":"A3","token_type":"Bearer","expires_in":60}"#,
        ),
    ])
    .await;
    let source = TokenSource::new("smtp", &settings(&url, &token_file, None)).unwrap();
    let err = source.access_token().await.unwrap_err();
    assert!(err.needs_admin(), "{err}");
    assert!(
        err.to_string()
            .contains("invalid_grant (The refresh token was revoked.)"),
        "{err}"
    );
    // Asked again at once: the same answer, the endpoint is not asked.
    let again = source.access_token().await.unwrap_err();
    assert_eq!(again.to_string(), err.to_string());
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(!seen.lock().unwrap()[0].contains("client_secret"));
    // A new sign-in replaces the file: the endpoint is asked again.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&token_file, "fresh\n").unwrap();
    assert_eq!(source.access_token().await.unwrap().expose(), "A3");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_endpoint_and_a_missing_token_file_are_temporary_and_local() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("none.token");
    let source = TokenSource::new(
        "mailbox a",
        &settings("http://127.0.0.1:9/token", &token_file, None),
    )
    .unwrap();
    let err = source.access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::Local(_)), "{err}");
    assert!(err.to_string().contains("none.token"), "{err}");
    std::fs::write(&token_file, "R\n").unwrap();
    let err = source.access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::Unreachable { .. }), "{err}");
    assert!(!err.needs_admin());
}
