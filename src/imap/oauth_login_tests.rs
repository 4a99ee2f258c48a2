//! [`authenticate`] against a scripted IMAP server (over an in-memory stream) and a local
//! token endpoint: the mechanism chosen, the initial response, the error challenge, one
//! refresh and one more try.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

use super::*;
use crate::oauth::test_endpoint::token_source;

const REFUSED: &str = r#"{"status":"invalid_token","scope":"imap"}"#;

/// The server's side: reads a line, returns it without CRLF.
async fn line(reader: &mut BufReader<DuplexStream>) -> String {
    let mut text = String::new();
    reader.read_line(&mut text).await.unwrap();
    text.trim_end().to_string()
}

/// Plays a server offering `caps` that refuses the first `refusals` tokens (with the JSON
/// error challenge); returns the decoded initial responses it received.
async fn server(
    stream: DuplexStream,
    caps: &'static str,
    refusals: usize,
    attempts: usize,
) -> Vec<String> {
    let mut reader = BufReader::new(stream);
    let mut seen = Vec::new();
    reader.get_mut().write_all(b"* OK ready\r\n").await.unwrap();
    let capability = line(&mut reader).await;
    assert_eq!(capability, "mgcap CAPABILITY");
    let answer = format!("* CAPABILITY IMAP4rev1 {caps}\r\nmgcap OK done\r\n");
    reader.get_mut().write_all(answer.as_bytes()).await.unwrap();
    for attempt in 0..attempts {
        let command = line(&mut reader).await;
        let (tag, rest) = command.split_once(' ').unwrap();
        if !rest.starts_with("AUTHENTICATE ") {
            break;
        }
        seen.push(rest.to_string());
        reader.get_mut().write_all(b"+ \r\n").await.unwrap();
        let response = STANDARD.decode(line(&mut reader).await).unwrap();
        seen.push(String::from_utf8(response).unwrap());
        if attempt < refusals {
            let challenge = format!("+ {}\r\n", STANDARD.encode(REFUSED));
            reader
                .get_mut()
                .write_all(challenge.as_bytes())
                .await
                .unwrap();
            let dummy = STANDARD.decode(line(&mut reader).await).unwrap();
            seen.push(format!("dummy {dummy:?}"));
            let no = format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
            reader.get_mut().write_all(no.as_bytes()).await.unwrap();
        } else {
            let ok = format!("{tag} OK Logged in\r\n");
            reader.get_mut().write_all(ok.as_bytes()).await.unwrap();
        }
    }
    seen
}

async fn tokens(answers: Vec<(u16, &'static str)>) -> (TokenSource, tempfile::TempDir) {
    token_source("mailbox support", answers).await
}

const ACCOUNT: Account<'static> = Account {
    user: "support@example.test",
    host: "imap.example.test",
    port: 993,
};

async fn greeted(stream: DuplexStream) -> Client<DuplexStream> {
    let mut client = Client::new(stream);
    client.read_response().await.unwrap().unwrap();
    client
}

#[tokio::test]
async fn oauthbearer_is_used_when_offered_and_a_refused_token_is_refreshed_once() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let played = tokio::spawn(server(
        theirs,
        "AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER",
        1,
        2,
    ));
    let (tokens, _dir) = tokens(vec![
        (
            200,
            r#"{"access_token":"A1","token_type":"Bearer","expires_in":3600}"#,
        ),
        (
            200,
            r#"{"access_token":"A2","token_type":"Bearer","expires_in":3600}"#,
        ),
    ])
    .await;
    let session = authenticate(greeted(ours).await, ACCOUNT, &tokens).await;
    assert!(session.is_ok(), "{:?}", session.err());
    let seen = played.await.unwrap();
    assert_eq!(
        seen,
        [
            "AUTHENTICATE OAUTHBEARER",
            "n,a=support@example.test,\x01host=imap.example.test\x01port=993\x01auth=Bearer A1\x01\x01",
            "dummy [1]",
            "AUTHENTICATE OAUTHBEARER",
            "n,a=support@example.test,\x01host=imap.example.test\x01port=993\x01auth=Bearer A2\x01\x01",
        ]
    );
}

#[tokio::test]
async fn xoauth2_otherwise_and_a_second_refusal_is_an_error_that_needs_an_admin() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let played = tokio::spawn(server(theirs, "AUTH=PLAIN AUTH=XOAUTH2", 2, 2));
    let (tokens, _dir) = tokens(vec![
        (
            200,
            r#"{"access_token":"A1","token_type":"Bearer","expires_in":3600}"#,
        ),
        (
            200,
            r#"{"access_token":"A2","token_type":"Bearer","expires_in":3600}"#,
        ),
    ])
    .await;
    let err = authenticate(greeted(ours).await, ACCOUNT, &tokens)
        .await
        .err()
        .unwrap();
    assert!(err.needs_admin(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("support@example.test (XOAUTH2, status \"invalid_token\", scope \"imap\")"),
        "{text}"
    );
    assert!(!text.contains("A1") && !text.contains("A2"), "{text}");
    let seen = played.await.unwrap();
    assert_eq!(seen[0], "AUTHENTICATE XOAUTH2");
    assert_eq!(
        seen[1],
        "user=support@example.test\x01auth=Bearer A1\x01\x01"
    );
    assert_eq!(seen[2], "dummy []");
    assert_eq!(
        seen[4],
        "user=support@example.test\x01auth=Bearer A2\x01\x01"
    );
}

#[tokio::test]
async fn a_server_without_a_token_mechanism_is_refused_before_any_token_is_asked_for() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let played = tokio::spawn(server(theirs, "AUTH=PLAIN", 0, 0));
    let (tokens, _dir) = tokens(Vec::new()).await;
    let err = authenticate(greeted(ours).await, ACCOUNT, &tokens)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, OAuthLoginError::NoMechanism { .. }), "{err}");
    assert!(err.needs_admin());
    played.await.unwrap();
}
