//! A tiny SMTP client for the latency benchmark: one connection, one transaction per mail
//! (MAIL, RCPT, DATA), no TLS, no AUTH, no pipelining. A mail counts as accepted when the
//! server answers 250 to the end of its DATA: from then on it is the MTA's.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpClient {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl SmtpClient {
    /// Connects, reads the greeting and says EHLO.
    pub async fn connect(addr: &str) -> anyhow::Result<SmtpClient> {
        let stream = tokio::time::timeout(REPLY_TIMEOUT, TcpStream::connect(addr))
            .await
            .with_context(|| format!("connecting to SMTP {addr}: timed out"))?
            .with_context(|| format!("cannot connect to SMTP {addr}"))?;
        let _ = stream.set_nodelay(true);
        let (read, writer) = stream.into_split();
        let mut client = SmtpClient {
            reader: BufReader::new(read),
            writer,
        };
        client.expect(220, "greeting").await?;
        client.command("EHLO bench.mailgate.test", 250).await?;
        Ok(client)
    }

    /// Sends one mail; returns when the server has accepted it (250 after DATA).
    pub async fn send(&mut self, from: &str, to: &str, message: &[u8]) -> anyhow::Result<()> {
        self.command(&format!("MAIL FROM:<{from}>"), 250).await?;
        self.command(&format!("RCPT TO:<{to}>"), 250).await?;
        self.command("DATA", 354).await?;
        let mut data = dot_stuff(message);
        data.extend_from_slice(b".\r\n");
        self.writer.write_all(&data).await.context("sending DATA")?;
        self.expect(250, "end of DATA").await?;
        Ok(())
    }

    pub async fn quit(mut self) {
        let _ = self.command("QUIT", 221).await;
    }

    async fn command(&mut self, line: &str, code: u16) -> anyhow::Result<String> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .with_context(|| format!("sending {line}"))?;
        self.expect(code, line).await
    }

    /// Reads one (possibly multi-line) reply and checks its code.
    async fn expect(&mut self, code: u16, after: &str) -> anyhow::Result<String> {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(REPLY_TIMEOUT, self.reader.read_line(&mut line))
                .await
                .with_context(|| format!("no SMTP reply to {after} within {REPLY_TIMEOUT:?}"))?
                .with_context(|| format!("reading the SMTP reply to {after}"))?;
            if n == 0 {
                bail!("the SMTP server closed the connection after {after}");
            }
            reply.push_str(&line);
            // "250-…" continues, "250 …" (or a bare "250") ends the reply.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        let got: u16 = reply.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if got != code {
            bail!(
                "SMTP server answered {:?} to {after} (expected {code})",
                reply.trim_end()
            );
        }
        Ok(reply)
    }
}

/// CRLF line ends, a dot doubled at the start of a line, and a final CRLF (RFC 5321 4.5.2).
fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let message = super::append::crlf(message);
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut line_start = true;
    for &b in &message {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffing() {
        assert_eq!(dot_stuff(b".a\n.\nb."), b"..a\r\n..\r\nb.\r\n");
        assert_eq!(dot_stuff(b"x\r\n"), b"x\r\n");
    }
}
