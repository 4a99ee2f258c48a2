//! The edge to the token endpoint: one [`TokenSource`] per account (a mailbox, `[smtp]`)
//! keeps its access token and refreshes it (RFC 6749 section 6) before it expires, once more
//! when a server refuses it, and writes a rotated refresh token back to its file.
//!
//! HTTP is reqwest over rustls with ring and the system roots (`crate::tls`), redirects not
//! followed, 30 s per request, answers over 1 MiB refused. The request body (refresh token,
//! client secret) and the answer (the access token) are never logged: reqwest logs neither
//! unless asked (`connection_verbose`, not set), and `crate::logging` silences it anyway.
//!
//! An endpoint that refuses the grant for good (`invalid_grant`: the refresh token was
//! revoked or expired) is not asked again for [`HOLD_AFTER_REFUSAL`] unless the refresh token
//! file changes (a new sign-in): every connection attempt in that time gets the same error, so
//! a pool of SMTP connections and a reconnecting poller do not hammer the endpoint.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::config::{OAuth2Settings, Secret};

use super::token::{AccessToken, RefreshForm, TokenError, parse_token_response};
use super::token_file::{read_refresh_token, write_refresh_token};

/// How long a refusal that needs an admin is answered without asking the endpoint again.
pub const HOLD_AFTER_REFUSAL: Duration = Duration::from_secs(5 * 60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The access token of one account, refreshed when due.
pub struct TokenSource {
    /// "mailbox support", "smtp": who the token is for, in logs and errors.
    account: String,
    settings: OAuth2Settings,
    token_url: String,
    http: reqwest::Client,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    token: Option<AccessToken>,
    /// A refusal that needs an admin, until when it is repeated, and the token file's
    /// modification time then (a new file ends the hold).
    held: Option<(TokenError, Instant, Option<SystemTime>)>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSource({}, {})", self.account, self.token_url)
    }
}

impl TokenSource {
    /// The token source of `account` (for messages) with its settings. Reads nothing yet.
    pub fn new(account: impl Into<String>, settings: &OAuth2Settings) -> anyhow::Result<Self> {
        let tls = crate::tls::client_config(None)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(TokenSource {
            account: account.into(),
            token_url: settings.provider.token_url(),
            settings: settings.clone(),
            http,
            state: tokio::sync::Mutex::new(State::default()),
        })
    }

    /// The current access token, refreshed first when it is due (or there is none yet).
    pub async fn access_token(&self) -> Result<Secret, TokenError> {
        let mut state = self.state.lock().await;
        if let Some(token) = state.token.as_ref().filter(|t| t.fresh_at(Instant::now())) {
            return Ok(token.token.clone());
        }
        self.refresh(&mut state).await
    }

    /// A new access token after a server refused `refused`; the one already cached when
    /// another connection has renewed it meanwhile (one refresh per expiry, not one per
    /// connection).
    pub async fn renew(&self, refused: &Secret) -> Result<Secret, TokenError> {
        let mut state = self.state.lock().await;
        if let Some(token) = state
            .token
            .as_ref()
            .filter(|t| t.token != *refused && t.fresh_at(Instant::now()))
        {
            return Ok(token.token.clone());
        }
        state.token = None;
        self.refresh(&mut state).await
    }

    async fn refresh(&self, state: &mut State) -> Result<Secret, TokenError> {
        let path = Path::new(&self.settings.refresh_token_file);
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if let Some((error, until, file_then)) = &state.held {
            if Instant::now() < *until && *file_then == modified {
                return Err(error.clone());
            }
            state.held = None;
        }
        match self.ask(path).await {
            Ok(token) => {
                let secret = token.token.clone();
                state.token = Some(token);
                Ok(secret)
            }
            Err(error) => {
                if error.needs_admin() {
                    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                    state.held =
                        Some((error.clone(), Instant::now() + HOLD_AFTER_REFUSAL, modified));
                }
                Err(error)
            }
        }
    }

    /// One refresh request; the rotated refresh token written back.
    async fn ask(&self, path: &Path) -> Result<AccessToken, TokenError> {
        let refresh_token =
            read_refresh_token(path).map_err(|e| TokenError::Local(e.to_string()))?;
        let client_secret = match &self.settings.client_secret {
            Some(source) => Some(
                source
                    .read()
                    .map_err(|e| TokenError::Local(format!("client secret: {e}")))?,
            ),
            None => None,
        };
        let form = RefreshForm::new(&self.settings, client_secret.as_ref(), &refresh_token);
        let unreachable = |e: &dyn std::error::Error| TokenError::Unreachable {
            url: self.token_url.clone(),
            reason: chain(e),
        };
        let sent_at = Instant::now();
        let mut response = self
            .http
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form.pairs())
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(TokenError::Unexpected { status });
            }
            body.extend_from_slice(&chunk);
        }
        let granted = parse_token_response(status, &body)?;
        if let Some(rotated) = granted
            .refresh_token
            .as_ref()
            .filter(|r| **r != refresh_token)
        {
            write_refresh_token(path, rotated).map_err(|e| TokenError::WriteBack {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            tracing::info!(account = %self.account, "the refresh token was rotated; the new one is written back");
        }
        tracing::debug!(
            account = %self.account,
            expires_in = ?granted.expires_in,
            "access token refreshed"
        );
        Ok(AccessToken::granted(
            granted.access_token,
            granted.expires_in,
            sent_at,
        ))
    }
}

/// An error and its causes, `: `-joined (reqwest's own text says little: "error sending
/// request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
