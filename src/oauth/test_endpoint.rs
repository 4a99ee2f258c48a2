//! For tests: a token endpoint on loopback (plain HTTP) answering each request with the next
//! canned `(status, body)`, recording the request bodies.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A token endpoint answering each request with the next `(status, body)`; the request
/// bodies it received.
pub async fn endpoint(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        for (status, body) in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        record
                            .lock()
                            .unwrap()
                            .push(text[end + 4..end + 4 + length].to_string());
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
        }
    });
    (url, seen)
}

/// A token source for `account` whose endpoint gives `answers` in turn, with the refresh
/// token `R1` in a temporary file (kept alive by the returned directory).
pub async fn token_source(
    account: &str,
    answers: Vec<(u16, &'static str)>,
) -> (super::TokenSource, tempfile::TempDir) {
    let (url, _) = endpoint(answers).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("t");
    std::fs::write(&token_file, "R1\n").unwrap();
    let settings = crate::config::OAuth2Settings {
        provider: crate::config::Provider::Custom {
            token_url: url,
            device_authorization_url: None,
        },
        client_id: "c".into(),
        client_secret: None,
        refresh_token_file: token_file.display().to_string(),
        scopes: Vec::new(),
    };
    (super::TokenSource::new(account, &settings).unwrap(), dir)
}
