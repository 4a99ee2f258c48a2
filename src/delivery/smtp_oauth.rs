//! SMTP AUTH with an OAuth2 access token (issue 17), on a lettre connection: `OAUTHBEARER`
//! (RFC 7628) when the server's EHLO offers it, else `XOAUTH2`. lettre knows XOAUTH2 only and
//! cannot answer a server's error challenge (it fails the connection mid-exchange), so the
//! exchange is written here: `AUTH <mechanism> <initial response>`, then on a `334` error
//! challenge the dummy response, the server's `535`, one token refresh and one more try.
//!
//! The mechanisms offered are read from a second EHLO: lettre's `ServerInfo` drops the names
//! it does not know (OAUTHBEARER). One round trip per new connection; connections are pooled.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::ClientId;

use crate::config::Secret;
use crate::oauth::{Bearer, Mechanism, ServerError, TokenSource, sasl};

/// Who signs in where (OAUTHBEARER sends the host and port).
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    pub user: &'a str,
    pub host: &'a str,
    pub port: u16,
}

/// The SASL mechanisms of an EHLO reply's lines: `AUTH PLAIN XOAUTH2 …` (and the old
/// `AUTH=PLAIN …` form), upper-cased.
pub fn offered_mechanisms<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    lines
        .into_iter()
        .filter_map(|line| {
            let line = line.trim();
            let head = line.get(..5)?;
            (head.eq_ignore_ascii_case("AUTH ") || head.eq_ignore_ascii_case("AUTH="))
                .then(|| line[5..].split_whitespace().map(str::to_ascii_uppercase))
        })
        .flatten()
        .collect()
}

/// One text line written as an SMTP command (lettre's `command` takes any `Display`).
struct Line(Secret);

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\r\n", self.0.expose())
    }
}

/// Signs `conn` in as `account.user` with a token from `tokens`; `Err` is the reason, for the
/// outbox's log (never a token).
pub async fn authenticate(
    conn: &mut AsyncSmtpConnection,
    hello: &ClientId,
    account: Account<'_>,
    tokens: &TokenSource,
) -> Result<(), String> {
    let ehlo = conn
        .command(Ehlo::new(hello.clone()))
        .await
        .map_err(|e| format!("EHLO before AUTH: {e}"))?;
    let offered = offered_mechanisms(ehlo.message());
    let mechanism = Mechanism::choose(|name| offered.iter().any(|m| m == name)).ok_or_else(|| {
        format!(
            "{} offers neither AUTH OAUTHBEARER nor AUTH XOAUTH2: it does not take OAuth2 tokens",
            account.host
        )
    })?;
    let token = tokens
        .access_token()
        .await
        .map_err(|e| format!("no access token for {}: {e}", account.user))?;
    let refusal = match attempt(conn, account, mechanism, &token).await? {
        None => return Ok(()),
        Some(refusal) => refusal,
    };
    if refusal.server.as_ref().is_some_and(|s| !s.token_refused()) {
        return Err(refusal.describe(account, mechanism));
    }
    tracing::info!(
        user = %account.user,
        mechanism = mechanism.name(),
        "the SMTP server refused the access token; refreshing it once"
    );
    let token = tokens
        .renew(&token)
        .await
        .map_err(|e| format!("no access token for {}: {e}", account.user))?;
    match attempt(conn, account, mechanism, &token).await? {
        None => Ok(()),
        Some(refusal) => Err(refusal.describe(account, mechanism)),
    }
}

/// What the server said when it refused a token.
struct Refusal {
    /// Its final reply (`535 5.7.8 …`).
    reply: String,
    /// The JSON of its error challenge, when it sent one.
    server: Option<ServerError>,
}

impl Refusal {
    fn describe(&self, account: Account<'_>, mechanism: Mechanism) -> String {
        let said = self
            .server
            .as_ref()
            .map(|s| format!(", {}", s.describe()))
            .unwrap_or_default();
        format!(
            "the SMTP server refused the access token of {} ({}{said}): {}",
            account.user,
            mechanism.name(),
            self.reply
        )
    }
}

/// One AUTH exchange: `None` when signed in, else what the server said. `Err`: the
/// connection failed (not a refusal).
async fn attempt(
    conn: &mut AsyncSmtpConnection,
    account: Account<'_>,
    mechanism: Mechanism,
    token: &Secret,
) -> Result<Option<Refusal>, String> {
    let initial = sasl::initial_response(
        mechanism,
        &Bearer {
            user: account.user,
            host: account.host,
            port: account.port,
            token,
        },
    );
    let command = Line(Secret::new(format!(
        "AUTH {} {}",
        mechanism.name(),
        STANDARD.encode(initial.expose())
    )));
    let refused = |e: lettre::transport::smtp::Error, server| {
        if conn_broken(&e) {
            Err(format!("AUTH {}: {e}", mechanism.name()))
        } else {
            Ok(Some(Refusal {
                reply: e.to_string(),
                server,
            }))
        }
    };
    let reply = match conn.command(command).await {
        Ok(reply) => reply,
        Err(e) => return refused(e, None),
    };
    if !reply.has_code(334) {
        return Ok(None);
    }
    // The error challenge: its JSON, then the dummy response and the final refusal.
    let server = reply
        .first_word()
        .and_then(|word| STANDARD.decode(word).ok())
        .and_then(|json| ServerError::parse(&json));
    let dummy = Line(Secret::new(STANDARD.encode(mechanism.dummy_response())));
    match conn.command(dummy).await {
        Ok(_) => Err(format!(
            "AUTH {}: the server accepted the dummy response to its error challenge",
            mechanism.name()
        )),
        Err(e) => refused(e, server),
    }
}

/// Whether an error is the connection's (network, timeout, unparsable reply) rather than
/// the server's refusal (a 4xx or 5xx reply).
fn conn_broken(e: &lettre::transport::smtp::Error) -> bool {
    !(e.is_permanent() || e.is_transient())
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::oauth::test_endpoint::token_source;

    /// A server offering `auth` that refuses the first `refusals` tokens with the JSON error
    /// challenge; returns what it read (initial responses decoded).
    async fn server(listener: TcpListener, auth: &'static str, refusals: usize) -> Vec<String> {
        let (socket, _) = listener.accept().await.unwrap();
        let mut reader = BufReader::new(socket);
        let mut seen = Vec::new();
        reader
            .get_mut()
            .write_all(b"220 fake ESMTP\r\n")
            .await
            .unwrap();
        let mut attempt = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let line = line.trim_end().to_string();
            let reply = if line.starts_with("EHLO") {
                format!("250-fake\r\n250-{auth}\r\n250 8BITMIME\r\n")
            } else if let Some(rest) = line.strip_prefix("AUTH ") {
                let (mechanism, initial) = rest.split_once(' ').unwrap();
                let initial = STANDARD.decode(initial).unwrap();
                seen.push(format!(
                    "{mechanism} {}",
                    String::from_utf8(initial).unwrap()
                ));
                attempt += 1;
                if attempt <= refusals {
                    let json = STANDARD.encode(r#"{"status":"invalid_token"}"#);
                    reader
                        .get_mut()
                        .write_all(format!("334 {json}\r\n").as_bytes())
                        .await
                        .unwrap();
                    let mut dummy = String::new();
                    reader.read_line(&mut dummy).await.unwrap();
                    seen.push(format!("dummy {:?}", dummy.trim_end()));
                    "535 5.7.8 Authentication credentials invalid\r\n".to_string()
                } else {
                    "235 2.7.0 Authentication successful\r\n".to_string()
                }
            } else if line == "QUIT" {
                reader.get_mut().write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                "500 what\r\n".to_string()
            };
            reader.get_mut().write_all(reply.as_bytes()).await.unwrap();
        }
        seen
    }

    async fn signed_in(auth: &'static str, refusals: usize) -> (Result<(), String>, Vec<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let played = tokio::spawn(server(listener, auth, refusals));
        let (tokens, _dir) = token_source(
            "smtp",
            vec![
                (
                    200,
                    r#"{"access_token":"A1","token_type":"Bearer","expires_in":3600}"#,
                ),
                (
                    200,
                    r#"{"access_token":"A2","token_type":"Bearer","expires_in":3600}"#,
                ),
            ],
        )
        .await;
        let hello = ClientId::Domain("mailgate.test".into());
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
            .await
            .unwrap();
        let account = Account {
            user: "support@example.test",
            host: "127.0.0.1",
            port,
        };
        let result = authenticate(&mut conn, &hello, account, &tokens).await;
        let _ = conn.quit().await;
        (result, played.await.unwrap())
    }

    #[tokio::test]
    async fn oauthbearer_when_offered_and_one_refresh_after_a_refusal() {
        let (result, seen) = signed_in("AUTH PLAIN XOAUTH2 OAUTHBEARER", 1).await;
        assert_eq!(result, Ok(()));
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(
            seen[0].starts_with("OAUTHBEARER n,a=support@example.test,\x01host=127.0.0.1\x01port="),
            "{seen:?}"
        );
        assert!(seen[0].ends_with("\x01auth=Bearer A1\x01\x01"), "{seen:?}");
        assert_eq!(seen[1], "dummy \"AQ==\"");
        assert!(seen[2].ends_with("\x01auth=Bearer A2\x01\x01"), "{seen:?}");
    }

    #[tokio::test]
    async fn xoauth2_otherwise_and_a_second_refusal_says_why_without_the_token() {
        let (result, seen) = signed_in("AUTH PLAIN LOGIN XOAUTH2", 2).await;
        let reason = result.unwrap_err();
        assert!(reason.contains("refused the access token of support@example.test (XOAUTH2, status \"invalid_token\")"), "{reason}");
        assert!(reason.contains("535"), "{reason}");
        assert!(!reason.contains("A1") && !reason.contains("A2"), "{reason}");
        assert_eq!(
            seen[0],
            "XOAUTH2 user=support@example.test\x01auth=Bearer A1\x01\x01"
        );
        assert_eq!(seen[1], "dummy \"\"");
        assert_eq!(
            seen[2],
            "XOAUTH2 user=support@example.test\x01auth=Bearer A2\x01\x01"
        );
    }

    #[tokio::test]
    async fn a_server_without_a_token_mechanism() {
        let (result, seen) = signed_in("AUTH PLAIN LOGIN", 0).await;
        assert!(
            result
                .unwrap_err()
                .contains("offers neither AUTH OAUTHBEARER nor AUTH XOAUTH2")
        );
        assert!(seen.is_empty());
    }

    #[test]
    fn the_mechanisms_an_ehlo_offers() {
        let postfix = [
            "smtp.example.test",
            "PIPELINING",
            "SIZE 10240000",
            "AUTH PLAIN LOGIN XOAUTH2 oauthbearer",
            "AUTH=PLAIN LOGIN",
            "8BITMIME",
        ];
        assert_eq!(
            offered_mechanisms(postfix),
            ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN"]
        );
        let offered = offered_mechanisms(postfix);
        assert_eq!(
            Mechanism::choose(|m| offered.iter().any(|o| o == m)),
            Some(Mechanism::OAuthBearer)
        );
        let office365 = ["outlook.office365.com Hello", "AUTH LOGIN XOAUTH2", "AUTHX"];
        let offered = offered_mechanisms(office365);
        assert_eq!(offered, ["LOGIN", "XOAUTH2"]);
        assert_eq!(
            Mechanism::choose(|m| offered.iter().any(|o| o == m)),
            Some(Mechanism::XOAuth2)
        );
        assert!(offered_mechanisms(["PIPELINING", "AUTH"]).is_empty());
    }

    #[test]
    fn a_command_line_ends_with_crlf_and_its_debug_never_shows() {
        let line = Line(Secret::new("AUTH XOAUTH2 dG9rZW4="));
        assert_eq!(line.to_string(), "AUTH XOAUTH2 dG9rZW4=\r\n");
    }
}
