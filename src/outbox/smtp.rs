//! The SMTP connections of the outbox sender: lettre's protocol client
//! ([`AsyncSmtpConnection`]: EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA with dot-stuffing) over TCP
//! sockets opened here, kept in a small pool of idle connections.
//!
//! Why not lettre's own `AsyncSmtpTransport` pool: it never sets `TCP_NODELAY`, and lettre
//! writes the end-of-data `\r\n.\r\n` as a separate small write after the message. With Nagle's
//! algorithm that write waits for the server's delayed ACK (40 ms on Linux), so every mail
//! cost ≥ 40 ms per connection (measured: 74 mails/s with 4 connections to the local Postfix).
//! Opening the socket here with `TCP_NODELAY` removes the stall. It also skips lettre's NOOP
//! before every reuse: a connection idle for a few seconds is checked, a busy one is not.
//!
//! TLS: implicit TLS is a rustls stream from [`crate::tls::client_config`] (system roots plus
//! `ca_file`); STARTTLS is lettre's upgrade with [`TlsParameters`] built from the same CA file.
//! `tls = "none"` is refused by the config for anything but loopback hosts.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::Context;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::{SmtpSettings, TlsMode};

/// A pooled connection idle for longer than this is checked with NOOP before reuse.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);
/// Idle connections older than this are closed rather than reused (servers drop idle
/// clients after a few minutes; Postfix after 300 s).
const MAX_IDLE: Duration = Duration::from_secs(60);

/// The outcome of one SMTP transaction that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// A 5xx reply: this server will never take this mail for these recipients.
    Permanent(String),
    /// Anything else (4xx, connection, TLS, authentication, timeout): try again later.
    Temporary(String),
}

enum Security {
    Plain,
    Implicit(TlsConnector, ServerName<'static>),
    StartTls(TlsParameters),
}

/// Idle SMTP connections to one server, at most `max_idle` kept.
pub struct SmtpPool {
    host: String,
    port: u16,
    timeout: Duration,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl SmtpPool {
    /// Reads the password and the CA file now: mistakes fail the start, not every mail.
    pub fn new(smtp: &SmtpSettings) -> anyhow::Result<SmtpPool> {
        let security = match smtp.tls {
            TlsMode::None => Security::Plain,
            TlsMode::Implicit => {
                let config =
                    crate::tls::client_config(smtp.ca_file.as_deref().map(std::path::Path::new))
                        .context("smtp TLS configuration")?;
                let name = ServerName::try_from(smtp.host.clone()).with_context(|| {
                    format!("smtp.host {:?} is not a valid TLS name", smtp.host)
                })?;
                Security::Implicit(TlsConnector::from(config), name)
            }
            TlsMode::Starttls => Security::StartTls(starttls_parameters(smtp)?),
        };
        let credentials = match (&smtp.username, &smtp.password) {
            (Some(user), Some(source)) => {
                let password = source
                    .read()
                    .with_context(|| format!("reading the SMTP password of {user}"))?;
                Some(Credentials::new(
                    user.clone(),
                    password.expose().to_string(),
                ))
            }
            _ => None,
        };
        Ok(SmtpPool {
            host: smtp.host.clone(),
            port: smtp.port,
            timeout: smtp.timeout,
            security,
            credentials,
            hello: smtp
                .hello_name
                .clone()
                .map(ClientId::Domain)
                .unwrap_or_default(),
            max_idle: usize::try_from(smtp.pool_size).unwrap_or(1).max(1),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// One transaction: `bytes` from `envelope.from` to `envelope.to`, on a pooled connection
    /// or a new one. The connection goes back to the pool unless it broke.
    pub async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let mut conn = match self.take_idle().await {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        let result = conn.send(envelope, bytes).await;
        if conn.has_broken() {
            conn.abort().await;
        } else {
            self.put_back(conn);
        }
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(describe(&e))),
            Err(e) => Err(SendError::Temporary(describe(&e))),
        }
    }

    /// Says QUIT on every idle connection.
    pub async fn shutdown(&self) {
        let idle: Vec<_> = match self.idle.lock() {
            Ok(mut idle) => idle.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for (mut conn, _) in idle {
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.quit()).await;
        }
    }

    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.idle.lock().ok()?.pop()?;
            let idle_for = since.elapsed();
            if idle_for > MAX_IDLE {
                conn.abort().await;
                continue;
            }
            if idle_for > CHECK_AFTER_IDLE {
                let alive = tokio::time::timeout(self.timeout, conn.test_connected()).await;
                if !matches!(alive, Ok(true)) {
                    conn.abort().await;
                    continue;
                }
            }
            return Some(conn);
        }
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push((conn, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let temporary = |what: &str, e: &dyn std::fmt::Display| {
            SendError::Temporary(format!("{what} {}:{}: {e}", self.host, self.port))
        };
        let tcp = tokio::time::timeout(
            self.timeout,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| temporary("connecting to", &"timed out"))?
        .map_err(|e| temporary("connecting to", &e))?;
        tcp.set_nodelay(true)
            .map_err(|e| temporary("TCP_NODELAY on", &e))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Implicit(connector, name) => {
                let tls = tokio::time::timeout(self.timeout, connector.connect(name.clone(), tcp))
                    .await
                    .map_err(|_| temporary("TLS handshake with", &"timed out"))?
                    .map_err(|e| temporary("TLS handshake with", &e))?;
                Box::new(TlsTcp(Box::new(tls)))
            }
            Security::Plain | Security::StartTls(_) => Box::new(tcp),
        };
        let setup = async {
            let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
            if let Security::StartTls(parameters) = &self.security {
                conn.starttls(parameters.clone(), &self.hello).await?;
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await?;
            }
            Ok::<_, lettre::transport::smtp::Error>(conn)
        };
        match tokio::time::timeout(self.timeout.saturating_mul(3), setup).await {
            Err(_) => Err(temporary("greeting, EHLO or AUTH of", &"timed out")),
            // A refused login or a server without STARTTLS is the admin's to fix: temporary,
            // so the mail is sent once the configuration or the server is right.
            Ok(Err(e)) => Err(SendError::Temporary(describe(&e))),
            Ok(Ok(conn)) => Ok(conn),
        }
    }
}

/// lettre's STARTTLS parameters: rustls (ring), system roots plus `ca_file` (checked by
/// [`crate::tls`] first so a bad CA file gets the same message as for IMAP).
fn starttls_parameters(smtp: &SmtpSettings) -> anyhow::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(ca) = &smtp.ca_file {
        let path = std::path::Path::new(ca);
        crate::tls::client_config(Some(path)).context("smtp.ca_file")?;
        let pem = std::fs::read(path).with_context(|| format!("reading smtp.ca_file {ca}"))?;
        let cert =
            Certificate::from_pem(&pem).map_err(|e| anyhow::anyhow!("smtp.ca_file {ca}: {e}"))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| anyhow::anyhow!("SMTP TLS configuration: {e}"))
}

/// A lettre error as one line, with its causes (the server's reply when there is one).
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text.replace(['\r', '\n'], " ")
}

/// An implicit-TLS stream lettre can drive (its stream trait wants `peer_addr`).
struct TlsTcp(Box<tokio_rustls::client::TlsStream<TcpStream>>);

impl std::fmt::Debug for TlsTcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsTcp")
    }
}

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for TlsTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
