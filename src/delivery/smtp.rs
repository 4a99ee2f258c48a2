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
//!
//! The transaction (MAIL, RCPT, DATA) is written here too, so its MAIL FROM parameters are ours
//! ([`mail_parameters`]): `SMTPUTF8` when an address or the header is UTF-8 (RFC 6531),
//! `BODY=8BITMIME` for 8-bit content, each only when the connection's EHLO offered it. What the
//! last EHLO offered is remembered ([`SmtpPool::offers_smtputf8`]), so the sender can decide per
//! recipient before it renders a mail (see [`crate::outbox::intl`]).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::Context;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, ServerInfo,
};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::{SmtpSettings, TlsMode};
use crate::oauth::TokenSource;

use super::smtp_oauth;

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

/// What a server's EHLO offered that the MAIL FROM parameters depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub smtputf8: bool,
    pub eight_bit_mime: bool,
}

impl Capabilities {
    fn of(info: &ServerInfo) -> Capabilities {
        Capabilities {
            smtputf8: info.supports_feature(Extension::SmtpUtfEight),
            eight_bit_mime: info.supports_feature(Extension::EightBitMime),
        }
    }
}

/// The MAIL FROM parameters of one transaction (pure): `SMTPUTF8` when an envelope address or
/// the message's header is not ASCII (RFC 6531 3.4), `BODY=8BITMIME` when any byte of the
/// message is 8-bit (RFC 6152). `Err` names the extension the mail needs and `server` lacks.
pub fn mail_parameters(
    server: Capabilities,
    envelope_ascii: bool,
    message: &[u8],
) -> Result<Vec<MailParameter>, String> {
    let header_end = memchr::memmem::find(message, b"\r\n\r\n").unwrap_or(message.len());
    let header_ascii = message[..header_end].is_ascii();
    let eight_bit = !header_ascii || !message[header_end..].is_ascii();
    let utf8 = !envelope_ascii || !header_ascii;
    if utf8 && !server.smtputf8 {
        return Err(
            "the mail has UTF-8 addresses or headers and needs SMTPUTF8, which this \
             connection's server does not offer"
                .into(),
        );
    }
    if eight_bit && !server.eight_bit_mime {
        return Err("the mail is 8-bit and needs 8BITMIME, which the server does not offer".into());
    }
    let mut parameters = Vec::new();
    if eight_bit {
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if utf8 {
        parameters.push(MailParameter::SmtpUtfEight);
    }
    Ok(parameters)
}

/// Whether the last EHLO offered SMTPUTF8, in an [`AtomicU8`]: not known yet, no, yes.
const UNKNOWN: u8 = 0;
const NO: u8 = 1;
const YES: u8 = 2;

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
    /// `auth = "oauth2"`: the user and the source of their access tokens (then no
    /// `credentials`).
    oauth2: Option<(String, TokenSource)>,
    hello: ClientId,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// What the last EHLO said about SMTPUTF8 ([`UNKNOWN`], [`NO`], [`YES`]).
    smtputf8: AtomicU8,
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
        let oauth2 = match (&smtp.username, &smtp.oauth2) {
            (Some(user), Some(oauth2)) => Some((
                user.clone(),
                TokenSource::new("smtp", oauth2).context("smtp OAuth2")?,
            )),
            _ => None,
        };
        Ok(SmtpPool {
            host: smtp.host.clone(),
            port: smtp.port,
            timeout: smtp.timeout,
            security,
            credentials,
            oauth2,
            hello: smtp
                .hello_name
                .clone()
                .map(ClientId::Domain)
                .unwrap_or_default(),
            max_idle: usize::try_from(smtp.pool_size).unwrap_or(1).max(1),
            idle: Mutex::new(Vec::new()),
            smtputf8: AtomicU8::new(UNKNOWN),
        })
    }

    /// One transaction: `bytes` from `envelope.from` to `envelope.to`, on a pooled connection
    /// or a new one. The connection goes back to the pool unless it broke.
    pub async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let mut conn = match self.take_idle().await {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        let result = transaction(&mut conn, envelope, bytes).await;
        if conn.has_broken() {
            conn.abort().await;
        } else {
            self.put_back(conn);
        }
        result
    }

    /// Whether the server offers SMTPUTF8, as its last EHLO said; connects to ask when no
    /// connection was made yet (that connection is kept for the next mail).
    pub async fn offers_smtputf8(&self) -> Result<bool, SendError> {
        match self.smtputf8.load(Ordering::Relaxed) {
            YES => return Ok(true),
            NO => return Ok(false),
            _ => {}
        }
        let conn = self.connect().await?;
        let offered = Capabilities::of(conn.server_info()).smtputf8;
        self.put_back(conn);
        Ok(offered)
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
            let lettre_error = |e: lettre::transport::smtp::Error| describe(&e);
            let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
                .await
                .map_err(lettre_error)?;
            if let Security::StartTls(parameters) = &self.security {
                conn.starttls(parameters.clone(), &self.hello)
                    .await
                    .map_err(lettre_error)?;
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(lettre_error)?;
            } else if let Some((user, tokens)) = &self.oauth2 {
                let account = smtp_oauth::Account {
                    user,
                    host: &self.host,
                    port: self.port,
                };
                if let Err(reason) =
                    smtp_oauth::authenticate(&mut conn, &self.hello, account, tokens).await
                {
                    conn.abort().await;
                    return Err(reason);
                }
            }
            Ok::<_, String>(conn)
        };
        match tokio::time::timeout(self.timeout.saturating_mul(3), setup).await {
            Err(_) => Err(temporary("greeting, EHLO or AUTH of", &"timed out")),
            // A refused login or a server without STARTTLS is the admin's to fix: temporary,
            // so the mail is sent once the configuration or the server is right.
            Ok(Err(reason)) => Err(SendError::Temporary(reason)),
            Ok(Ok(conn)) => {
                let offered = Capabilities::of(conn.server_info()).smtputf8;
                self.smtputf8
                    .store(if offered { YES } else { NO }, Ordering::Relaxed);
                Ok(conn)
            }
        }
    }
}

/// MAIL (with [`mail_parameters`] for this connection), RCPT for each recipient, DATA. Any
/// error ends the connection, as lettre's own `send` does. A mail that needs an extension this
/// connection lacks is not started: that is temporary (the sender decides again with what the
/// server offers now).
async fn transaction(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), SendError> {
    let ascii = |a: &lettre::Address| AsRef::<str>::as_ref(a).is_ascii();
    let envelope_ascii = envelope.from().is_none_or(ascii) && envelope.to().iter().all(ascii);
    let parameters = mail_parameters(Capabilities::of(conn.server_info()), envelope_ascii, bytes)
        .map_err(SendError::Temporary)?;
    let result = async {
        conn.command(Mail::new(envelope.from().cloned(), parameters))
            .await?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), Vec::new())).await?;
        }
        conn.command(Data).await?;
        conn.message(bytes).await
    }
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            conn.abort().await;
            if e.is_permanent() {
                Err(SendError::Permanent(describe(&e)))
            } else {
                Err(SendError::Temporary(describe(&e)))
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    const ASCII: &[u8] = b"To: jose@xn--exmple-cua.test\r\nSubject: x\r\n\r\nGr=C3=BC=C3=9Fe\r\n";
    const UTF8_HEADER: &[u8] = "To: josé@exämple.test\r\nSubject: x\r\n\r\nhi\r\n".as_bytes();
    const EIGHT_BIT_BODY: &[u8] = "To: jose@example.test\r\n\r\nGrüße\r\n".as_bytes();

    fn caps(smtputf8: bool, eight_bit_mime: bool) -> Capabilities {
        Capabilities {
            smtputf8,
            eight_bit_mime,
        }
    }

    fn command(parameters: Vec<MailParameter>) -> String {
        let from = "support@example.test".parse().ok();
        Mail::new(from, parameters).to_string()
    }

    #[test]
    fn smtputf8_only_when_an_address_or_the_header_is_utf8() {
        let full = caps(true, true);
        assert_eq!(mail_parameters(full, true, ASCII), Ok(vec![]));
        assert_eq!(
            command(mail_parameters(full, true, ASCII).unwrap()),
            "MAIL FROM:<support@example.test>\r\n"
        );
        assert_eq!(
            command(mail_parameters(full, false, ASCII).unwrap()),
            "MAIL FROM:<support@example.test> SMTPUTF8\r\n",
            "a UTF-8 envelope address alone"
        );
        assert_eq!(
            command(mail_parameters(full, true, UTF8_HEADER).unwrap()),
            "MAIL FROM:<support@example.test> BODY=8BITMIME SMTPUTF8\r\n",
            "a UTF-8 header (the To: of another recipient) needs it too"
        );
        assert_eq!(
            command(mail_parameters(full, true, EIGHT_BIT_BODY).unwrap()),
            "MAIL FROM:<support@example.test> BODY=8BITMIME\r\n",
            "an 8-bit body alone is 8BITMIME, not SMTPUTF8"
        );
    }

    #[test]
    fn a_server_without_the_extension_gets_nothing_it_cannot_take() {
        assert_eq!(mail_parameters(caps(false, false), true, ASCII), Ok(vec![]));
        for (envelope_ascii, message) in [(false, ASCII), (true, UTF8_HEADER)] {
            let refused = mail_parameters(caps(false, true), envelope_ascii, message).unwrap_err();
            assert!(refused.contains("needs SMTPUTF8"), "{refused}");
        }
        let refused = mail_parameters(caps(true, false), true, EIGHT_BIT_BODY).unwrap_err();
        assert!(refused.contains("needs 8BITMIME"), "{refused}");
    }
}
