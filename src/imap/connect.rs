//! Opening an authenticated IMAP session: TCP, then TLS (implicit, or STARTTLS after the
//! greeting; plain only for a loopback address, which the config enforces and `connect` checks
//! again), the greeting, LOGIN (or, with `auth = "oauth2"`, AUTHENTICATE with an access token:
//! `imap::oauth_login`).
//! Errors say which step failed so an admin can tell a wrong certificate from a wrong password.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::{Client, Session};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::{MailboxSettings, Secret, TlsMode};
use crate::oauth::TokenSource;

use super::oauth_login::{self, OAuthLoginError};

/// How long one step of connecting may take before the server counts as unreachable.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to log in, resolved from a mailbox's settings (password read once).
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub sign_in: SignIn,
}

/// How a session signs in.
#[derive(Clone)]
pub enum SignIn {
    /// LOGIN with the password (`auth = "password"`, the default).
    Password(Secret),
    /// AUTHENTICATE OAUTHBEARER / XOAUTH2 with an access token (`auth = "oauth2"`); one
    /// token source for every reconnect, so the token is refreshed only when due.
    OAuth2(Arc<TokenSource>),
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}:{} ({:?})",
            self.username, self.host, self.port, self.tls
        )
    }
}

impl Endpoint {
    /// The endpoint of a configured mailbox; says what is missing when it cannot be polled.
    pub fn from_settings(mb: &MailboxSettings) -> anyhow::Result<Endpoint> {
        let missing = |what: &str| anyhow::anyhow!("mailbox {}: no {what} configured", mb.name);
        let sign_in = match &mb.oauth2 {
            Some(oauth2) => SignIn::OAuth2(Arc::new(
                TokenSource::new(format!("mailbox {}", mb.name), oauth2)
                    .map_err(|e| anyhow::anyhow!("mailbox {}: OAuth2: {e:#}", mb.name))?,
            )),
            None => SignIn::Password(
                mb.password
                    .as_ref()
                    .ok_or_else(|| missing("password_env or password_file"))?
                    .read()
                    .map_err(|e| anyhow::anyhow!("mailbox {}: password: {e}", mb.name))?,
            ),
        };
        Ok(Endpoint {
            host: mb.host.clone().ok_or_else(|| missing("host"))?,
            port: mb.port.unwrap_or(match mb.tls {
                TlsMode::Implicit => 993,
                TlsMode::Starttls | TlsMode::None => 143,
            }),
            tls: mb.tls,
            ca_file: mb.ca_file.as_ref().map(PathBuf::from),
            username: mb.username.clone().ok_or_else(|| missing("username"))?,
            sign_in,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    // The cause is the error's source, shown by `{:#}`: not repeated in the message.
    #[error("cannot connect to {addr}")]
    Tcp { addr: String, source: io::Error },
    #[error("TLS handshake with {host} failed")]
    Tls { host: String, source: io::Error },
    #[error(transparent)]
    TlsSetup(#[from] crate::tls::TlsSetupError),
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    #[error(
        "tls = \"none\" refused for {0:?}: without TLS only {hosts} may be used",
        hosts = crate::config::LOOPBACK_HOSTS
    )]
    PlainNotLoopback(String),
    #[error("the server sent no greeting")]
    NoGreeting,
    #[error("STARTTLS refused: {0}")]
    StartTls(async_imap::error::Error),
    #[error("login as {user} refused")]
    Login {
        user: String,
        source: async_imap::error::Error,
    },
    #[error("OAuth2 sign-in failed")]
    OAuth2(#[from] OAuthLoginError),
    #[error("timed out while {0}")]
    Timeout(&'static str),
    #[error("IMAP error")]
    Imap(#[from] async_imap::error::Error),
}

impl ConnectError {
    /// Errors that retrying cannot fix without an admin (wrong certificate, wrong password):
    /// the poller keeps retrying, but slowly and loudly.
    pub fn needs_admin(&self) -> bool {
        match self {
            ConnectError::OAuth2(e) => e.needs_admin(),
            _ => matches!(
                self,
                ConnectError::Tls { .. }
                    | ConnectError::TlsSetup(_)
                    | ConnectError::ServerName(_)
                    | ConnectError::PlainNotLoopback(_)
                    | ConnectError::Login { .. }
            ),
        }
    }
}

pub type ImapSession = Session<Transport>;

/// TCP, optionally wrapped in TLS: one type for every session whatever the TLS mode.
#[derive(Debug)]
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Builds the TLS configuration of an endpoint once; reused by every reconnect.
pub fn tls_config(endpoint: &Endpoint) -> Result<Option<Arc<ClientConfig>>, ConnectError> {
    match endpoint.tls {
        TlsMode::None => Ok(None),
        TlsMode::Implicit | TlsMode::Starttls => Ok(Some(crate::tls::client_config(
            endpoint.ca_file.as_deref(),
        )?)),
    }
}

/// Connects, secures and logs in. `tls` comes from [`tls_config`].
pub async fn connect(
    endpoint: &Endpoint,
    tls: Option<&Arc<ClientConfig>>,
) -> Result<ImapSession, ConnectError> {
    // The config refuses this already; an endpoint built another way must not send LOGIN in
    // clear either.
    if endpoint.tls == TlsMode::None && !crate::config::is_loopback(&endpoint.host) {
        return Err(ConnectError::PlainNotLoopback(endpoint.host.clone()));
    }
    let addr = format!("{}:{}", endpoint.host, endpoint.port);
    let tcp = step("connecting", TcpStream::connect(&addr))
        .await?
        .map_err(|source| ConnectError::Tcp {
            addr: addr.clone(),
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let client = match (endpoint.tls, tls) {
        (TlsMode::Implicit, Some(config)) => {
            let tls = handshake(&endpoint.host, config, tcp).await?;
            greeted(Client::new(Transport::Tls(Box::new(tls)))).await?
        }
        (TlsMode::Starttls, Some(config)) => {
            let mut plain = greeted(Client::new(tcp)).await?;
            step(
                "asking for STARTTLS",
                plain.run_command_and_check_ok("STARTTLS", None),
            )
            .await?
            .map_err(ConnectError::StartTls)?;
            let tls = handshake(&endpoint.host, config, plain.into_inner()).await?;
            // No greeting after STARTTLS: the session continues on the secured stream.
            Client::new(Transport::Tls(Box::new(tls)))
        }
        _ => greeted(Client::new(Transport::Plain(tcp))).await?,
    };
    let password = match &endpoint.sign_in {
        SignIn::Password(password) => password,
        SignIn::OAuth2(tokens) => {
            let account = oauth_login::Account {
                user: &endpoint.username,
                host: &endpoint.host,
                port: endpoint.port,
            };
            return Ok(oauth_login::authenticate(client, account, tokens).await?);
        }
    };
    let login = step(
        "logging in",
        client.login(&endpoint.username, password.expose()),
    )
    .await?;
    login.map_err(|(source, _client)| ConnectError::Login {
        user: endpoint.username.clone(),
        source,
    })
}

async fn greeted<T>(mut client: Client<T>) -> Result<Client<T>, ConnectError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match step("waiting for the greeting", client.read_response()).await? {
        Ok(Some(_greeting)) => Ok(client),
        Ok(None) => Err(ConnectError::NoGreeting),
        Err(e) => Err(ConnectError::Imap(e.into())),
    }
}

async fn handshake(
    host: &str,
    config: &Arc<ClientConfig>,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, ConnectError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ConnectError::ServerName(host.to_string()))?;
    step(
        "negotiating TLS",
        TlsConnector::from(config.clone()).connect(name, tcp),
    )
    .await?
    .map_err(|source| ConnectError::Tls {
        host: host.to_string(),
        source,
    })
}

async fn step<F: std::future::Future>(what: &'static str, f: F) -> Result<F::Output, ConnectError> {
    tokio::time::timeout(STEP_TIMEOUT, f)
        .await
        .map_err(|_| ConnectError::Timeout(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_login_is_refused_before_connecting_to_a_name_that_only_looks_local() {
        let endpoint = Endpoint {
            host: "127.attacker.example".into(),
            port: 143,
            tls: TlsMode::None,
            ca_file: None,
            username: "support@example.test".into(),
            sign_in: SignIn::Password(Secret::new("hunter2")),
        };
        let err = connect(&endpoint, None).await.err().unwrap();
        assert!(matches!(err, ConnectError::PlainNotLoopback(_)), "{err}");
        assert!(err.needs_admin());
        assert!(err.to_string().contains("127.0.0.0/8"), "{err}");
    }
}
