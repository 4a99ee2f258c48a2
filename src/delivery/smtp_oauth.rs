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
    use super::*;

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
