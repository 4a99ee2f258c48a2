//! Signing in to IMAP with an OAuth2 access token (issue 17): `CAPABILITY` before signing in,
//! `AUTHENTICATE OAUTHBEARER` when offered, else `AUTHENTICATE XOAUTH2` (async-imap's
//! [`Authenticator`]), and when the server refuses the token, one refresh and one more try
//! on the same connection.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_imap::imap_proto::{Capability, Response, Status};
use async_imap::{Authenticator, Client, Session};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::config::Secret;
use crate::oauth::{Mechanism, ServerError, TokenError, TokenSource, sasl};

/// How long each step (capabilities, a token, one AUTHENTICATE) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Who signs in where: the user the token is for, the server's host and port (OAUTHBEARER
/// sends them).
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    pub user: &'a str,
    pub host: &'a str,
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthLoginError {
    #[error(
        "{host} offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2: it does not take OAuth2 tokens"
    )]
    NoMechanism { host: String },
    #[error("no access token")]
    Token(#[source] TokenError),
    #[error("the server refused the access token of {user} ({mechanism}{server_said})")]
    Refused {
        user: String,
        mechanism: &'static str,
        /// `, status "invalid_token"` when the server said why.
        server_said: String,
        source: async_imap::error::Error,
    },
    #[error("timed out while {0}")]
    Timeout(&'static str),
    #[error("IMAP error while signing in")]
    Imap(#[from] async_imap::error::Error),
}

impl OAuthLoginError {
    /// Errors that retrying cannot fix without an admin.
    pub fn needs_admin(&self) -> bool {
        match self {
            OAuthLoginError::NoMechanism { .. } | OAuthLoginError::Refused { .. } => true,
            OAuthLoginError::Token(e) => e.needs_admin(),
            OAuthLoginError::Timeout(_) | OAuthLoginError::Imap(_) => false,
        }
    }
}

async fn step<F: std::future::Future>(
    what: &'static str,
    f: F,
) -> Result<F::Output, OAuthLoginError> {
    tokio::time::timeout(STEP_TIMEOUT, f)
        .await
        .map_err(|_| OAuthLoginError::Timeout(what))
}

/// The initial response, then the dummy answer to an error challenge (whose JSON is kept).
struct TokenAuthenticator {
    mechanism: Mechanism,
    initial: Option<Secret>,
    refusal: Arc<Mutex<Option<ServerError>>>,
}

impl Authenticator for TokenAuthenticator {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        // The first challenge of both mechanisms is empty: the client speaks first.
        if let Some(initial) = self.initial.take() {
            return initial.expose().as_bytes().to_vec();
        }
        if let Ok(mut refusal) = self.refusal.lock() {
            *refusal = ServerError::parse(challenge);
        }
        self.mechanism.dummy_response().to_vec()
    }
}

/// Signs `client` in as `account.user` with a token from `tokens`.
pub async fn authenticate<T>(
    mut client: Client<T>,
    account: Account<'_>,
    tokens: &TokenSource,
) -> Result<Session<T>, OAuthLoginError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    let offered = step(
        "asking for capabilities before signing in",
        capabilities(&mut client),
    )
    .await??;
    let mechanism = Mechanism::choose(|name| {
        offered
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&format!("AUTH={name}")))
    })
    .ok_or_else(|| OAuthLoginError::NoMechanism {
        host: account.host.to_string(),
    })?;
    let token = step("getting an access token", tokens.access_token())
        .await?
        .map_err(OAuthLoginError::Token)?;
    let (source, refusal, client) = match attempt(client, account, mechanism, &token).await? {
        Ok(session) => return Ok(session),
        Err(refused) => refused,
    };
    if refusal.as_ref().is_some_and(|r| !r.token_refused()) {
        return Err(refused_error(account, mechanism, refusal, source));
    }
    // The token was refused (expired early, revoked with a new grant since): once more with
    // a fresh one.
    tracing::info!(
        user = %account.user,
        mechanism = mechanism.name(),
        "the IMAP server refused the access token; refreshing it once"
    );
    let token = step("refreshing the access token", tokens.renew(&token))
        .await?
        .map_err(OAuthLoginError::Token)?;
    match attempt(client, account, mechanism, &token).await? {
        Ok(session) => Ok(session),
        Err((source, refusal, _client)) => Err(refused_error(account, mechanism, refusal, source)),
    }
}

type Refused<T> = (async_imap::error::Error, Option<ServerError>, Client<T>);

/// One `AUTHENTICATE`: the session, or why not and the client back for another try.
async fn attempt<T>(
    client: Client<T>,
    account: Account<'_>,
    mechanism: Mechanism,
    token: &Secret,
) -> Result<Result<Session<T>, Refused<T>>, OAuthLoginError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    let refusal = Arc::new(Mutex::new(None));
    let authenticator = TokenAuthenticator {
        mechanism,
        initial: Some(sasl::initial_response(
            mechanism,
            &sasl::Bearer {
                user: account.user,
                host: account.host,
                port: account.port,
                token,
            },
        )),
        refusal: refusal.clone(),
    };
    let outcome = step(
        "signing in with OAuth2",
        client.authenticate(mechanism.name(), authenticator),
    )
    .await?;
    Ok(outcome.map_err(|(source, client)| {
        let said = refusal.lock().ok().and_then(|mut r| r.take());
        (source, said, client)
    }))
}

fn refused_error(
    account: Account<'_>,
    mechanism: Mechanism,
    refusal: Option<ServerError>,
    source: async_imap::error::Error,
) -> OAuthLoginError {
    OAuthLoginError::Refused {
        user: account.user.to_string(),
        mechanism: mechanism.name(),
        server_said: refusal
            .map(|r| format!(", {}", r.describe()))
            .unwrap_or_default(),
        source,
    }
}

/// `CAPABILITY` before signing in (async-imap offers it on sessions only): each capability
/// as written, `AUTH=` ones included.
async fn capabilities<T>(client: &mut Client<T>) -> Result<Vec<String>, OAuthLoginError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    // async-imap's `run_command` is not public on a client: the command is written to the
    // stream with a tag of our own (nothing is buffered: async-imap flushes every command).
    const TAG: &str = "mgcap";
    let stream = client.get_mut();
    let written = async {
        stream
            .write_all(format!("{TAG} CAPABILITY\r\n").as_bytes())
            .await?;
        stream.flush().await
    };
    written.await.map_err(|e| OAuthLoginError::Imap(e.into()))?;
    let mut names = Vec::new();
    loop {
        let Some(response) = client
            .read_response()
            .await
            .map_err(|e| OAuthLoginError::Imap(e.into()))?
        else {
            return Err(OAuthLoginError::Imap(
                async_imap::error::Error::ConnectionLost,
            ));
        };
        match response.parsed() {
            Response::Capabilities(caps) => names.extend(caps.iter().map(|c| match c {
                Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
                Capability::Atom(atom) => atom.to_string(),
            })),
            Response::Done { tag, status, .. } if tag.0 == TAG => {
                return match status {
                    Status::Ok => Ok(names),
                    _ => Err(OAuthLoginError::Imap(async_imap::error::Error::Bad(
                        "CAPABILITY refused".into(),
                    ))),
                };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "oauth_login_tests.rs"]
mod tests;
