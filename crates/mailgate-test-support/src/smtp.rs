//! A small SMTP sender for the test mail stack's SMTP port: no TLS, no AUTH, no pipelining;
//! one transaction (MAIL, RCPT, DATA) per mail over a connection that may carry many. A mail
//! counts as accepted when the server answers 250 to the end of its DATA: from then on it is
//! the MTA's. Failures name the step and carry the server's reply.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP transaction failed: at which step, with the server's reply code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpError {
    pub step: String,
    /// `None` for connection errors and timeouts.
    pub code: Option<u16>,
    /// The server's reply (lines joined by `\n`) or the I/O error.
    pub reply: String,
}

impl SmtpError {
    fn io(step: &str, e: std::io::Error) -> Self {
        SmtpError {
            step: step.to_string(),
            code: None,
            reply: e.to_string(),
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SMTP {}: {}", self.step, self.reply)
    }
}

impl std::error::Error for SmtpError {}

/// Submits `raw` from `from` to every address of `to` over a new connection to `addr`
/// (`host:port`), saying EHLO `helo`, within `timeout`. Ok: the server's reply to the end of
/// data (`250 2.0.0 Ok: queued as ...`).
pub async fn send_one(
    addr: &str,
    helo: &str,
    from: &str,
    to: &[&str],
    raw: &[u8],
    timeout: Duration,
) -> Result<String, SmtpError> {
    let transaction = async {
        let mut connection = SmtpConnection::connect(addr, helo).await?;
        let result = connection.send(from, to, raw).await;
        // A refusal leaves the connection usable: say goodbye. After an I/O error, just drop it.
        if result.is_ok() || result.as_ref().is_err_and(|e| e.code.is_some()) {
            connection.quit().await;
        }
        result
    };
    match tokio::time::timeout(timeout, transaction).await {
        Ok(result) => result,
        Err(_) => Err(SmtpError {
            step: "transaction".into(),
            code: None,
            reply: format!("no answer within {timeout:?}"),
        }),
    }
}

/// One SMTP connection, greeted and past EHLO.
pub struct SmtpConnection {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl SmtpConnection {
    /// Connects to `addr` (`host:port`), reads the greeting and says EHLO `helo`.
    pub async fn connect(addr: &str, helo: &str) -> Result<SmtpConnection, SmtpError> {
        let tcp = tokio::time::timeout(REPLY_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| SmtpError {
                step: "connect".into(),
                code: None,
                reply: format!("{addr}: no connection within {REPLY_TIMEOUT:?}"),
            })?
            .map_err(|e| SmtpError::io("connect", e))?;
        let _ = tcp.set_nodelay(true);
        let (read, write) = tcp.into_split();
        let mut smtp = SmtpConnection {
            read: BufReader::new(read),
            write,
        };
        smtp.expect("greeting", None, 220).await?;
        smtp.expect("EHLO", Some(&format!("EHLO {helo}")), 250)
            .await?;
        Ok(smtp)
    }

    /// Sends one mail (dot-stuffed here, bare LF line ends sent as CRLF, `BODY=8BITMIME` when
    /// it is not ASCII). Ok: the server's reply to the end of data.
    pub async fn send(&mut self, from: &str, to: &[&str], raw: &[u8]) -> Result<String, SmtpError> {
        if to.is_empty() {
            return Err(SmtpError {
                step: "RCPT TO".into(),
                code: None,
                reply: "no recipient given".into(),
            });
        }
        let body = if raw.is_ascii() { "" } else { " BODY=8BITMIME" };
        self.expect("MAIL FROM", Some(&format!("MAIL FROM:<{from}>{body}")), 250)
            .await?;
        for rcpt in to {
            let command = format!("RCPT TO:<{rcpt}>");
            self.expect(&command, Some(&command), 250).await?;
        }
        self.expect("DATA", Some("DATA"), 354).await?;
        self.write
            .write_all(&dot_stuff(raw))
            .await
            .map_err(|e| SmtpError::io("sending the message", e))?;
        let (_, queued) = self.expect("end of data", None, 250).await?;
        Ok(queued)
    }

    /// QUIT, best effort: the transactions' outcomes are known already.
    pub async fn quit(mut self) {
        let _ = self.write.write_all(b"QUIT\r\n").await;
        let _ = self.reply("QUIT").await;
    }

    /// Sends `command` (if any), reads the reply; Err unless its code is `want`.
    async fn expect(
        &mut self,
        step: &str,
        command: Option<&str>,
        want: u16,
    ) -> Result<(u16, String), SmtpError> {
        if let Some(command) = command {
            self.write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .map_err(|e| SmtpError::io(step, e))?;
        }
        let (code, reply) = self.reply(step).await?;
        if code != want {
            return Err(SmtpError {
                step: step.to_string(),
                code: Some(code),
                reply,
            });
        }
        Ok((code, reply))
    }

    /// One reply: lines `NNN-text` up to the last `NNN text`.
    async fn reply(&mut self, step: &str) -> Result<(u16, String), SmtpError> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(REPLY_TIMEOUT, self.read.read_line(&mut line))
                .await
                .map_err(|_| SmtpError {
                    step: step.to_string(),
                    code: None,
                    reply: format!("no reply within {REPLY_TIMEOUT:?}"),
                })?
                .map_err(|e| SmtpError::io(step, e))?;
            if n == 0 {
                return Err(SmtpError {
                    step: step.to_string(),
                    code: None,
                    reply: format!("connection closed after {lines:?}"),
                });
            }
            let line = line.trim_end().to_string();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
            let last = line.len() == 3 || line.as_bytes().get(3) == Some(&b' ');
            lines.push(line);
            match code {
                Some(code) if last => return Ok((code, lines.join("\n"))),
                Some(_) => {}
                None => {
                    return Err(SmtpError {
                        step: step.to_string(),
                        code: None,
                        reply: format!("not an SMTP reply: {lines:?}"),
                    });
                }
            }
        }
    }
}

/// SMTP data (RFC 5321 4.5.2): dot-stuffed, bare LF sent as CRLF, ending in CRLF.CRLF.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 8);
    let mut line_start = true;
    let mut prev = 0u8;
    for &b in raw {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        line_start = b == b'\n';
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffing() {
        assert_eq!(dot_stuff(b".a\n.\nb."), b"..a\r\n..\r\nb.\r\n.\r\n");
        assert_eq!(dot_stuff(b"x\r\n"), b"x\r\n.\r\n");
    }
}
