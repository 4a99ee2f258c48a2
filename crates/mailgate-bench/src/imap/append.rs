//! Filling the backlog: the synthetic archive of `mailgate-bench generate` APPENDed into a
//! folder, in archive order, so UIDs follow the order the mail was written in (replies after
//! the mail they answer, as in a real mailbox).
//!
//! One connection, MULTIAPPEND (RFC 3502) with LITERAL+ (RFC 7888) literals: up to
//! [`BATCH_MESSAGES`] messages per command and one round trip per command. Several connections
//! would be about as fast on a 2-core machine and would interleave the archive. A server
//! without both extensions gets one plain APPEND per message.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tokio::sync::mpsc;

use mailgate::imap::Endpoint;
use mailgate::imap::connect::{ImapSession, connect};
use mailgate::import::{Format, open};
use mailgate_test_support::{ArchiveSpec, ArchiveStats, write_mbox};

/// Messages per MULTIAPPEND command, and bytes after which a command is sent anyway.
const BATCH_MESSAGES: usize = 100;
const BATCH_BYTES: usize = 2 << 20;

/// What was appended.
#[derive(Debug, Clone)]
pub struct Backlog {
    pub archive: ArchiveStats,
    pub messages: u64,
    /// Bytes stored on the server (CRLF line ends).
    pub bytes: u64,
    pub generate_secs: f64,
    pub append_secs: f64,
    pub method: &'static str,
}

/// Generates `spec` into `work/backlog.mbox` and appends every message to `folder`.
pub async fn fill(
    endpoint: &Endpoint,
    folder: &str,
    spec: ArchiveSpec,
    work: &Path,
) -> anyhow::Result<Backlog> {
    let mbox = work.join("backlog.mbox");
    let started = Instant::now();
    let archive = {
        let mbox = mbox.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<ArchiveStats> {
            let file = std::fs::File::create(&mbox)
                .with_context(|| format!("cannot create {}", mbox.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            let stats = write_mbox(&spec, &mut w)?;
            std::io::Write::flush(&mut w)?;
            Ok(stats)
        })
        .await
        .context("generating the backlog")??
    };
    let generate_secs = started.elapsed().as_secs_f64();

    let mut session = connect(endpoint, None)
        .await
        .with_context(|| format!("logging in to append as {}", endpoint.username))?;
    let caps = session.capabilities().await.context("CAPABILITY")?;
    let multi = caps.has_str("MULTIAPPEND") && caps.has_str("LITERAL+");
    drain(&mut session);

    // The archive is read on a blocking thread, a few messages ahead of the connection.
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(2 * BATCH_MESSAGES);
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for item in open(&mbox, Format::Mbox, usize::MAX)? {
            let item = item.map_err(|e| anyhow::anyhow!("{}: {}", e.position, e.error))?;
            if tx.blocking_send(crlf(&item.bytes)).is_err() {
                break; // the appending side failed and says why
            }
        }
        let _ = std::fs::remove_file(&mbox);
        Ok(())
    });

    let started = Instant::now();
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut batch = Batch::default();
    while let Some(message) = rx.recv().await {
        messages += 1;
        bytes += message.len() as u64;
        match String::from_utf8(message) {
            Ok(text) if multi => {
                batch.push(text);
                if batch.full() {
                    batch.send(&mut session, folder, messages).await?;
                }
            }
            // Without MULTIAPPEND, or 8-bit content that is not UTF-8 and so cannot go into
            // a command string: one APPEND, after what is pending (UIDs keep archive order).
            Ok(text) => {
                batch.send(&mut session, folder, messages).await?;
                append_one(&mut session, folder, text.as_bytes()).await?;
            }
            Err(e) => {
                batch.send(&mut session, folder, messages).await?;
                append_one(&mut session, folder, e.as_bytes()).await?;
            }
        }
    }
    batch.send(&mut session, folder, messages).await?;
    let append_secs = started.elapsed().as_secs_f64();
    reader.await.context("reading the backlog")??;
    let _ = session.logout().await;
    Ok(Backlog {
        archive,
        messages,
        bytes,
        generate_secs,
        append_secs,
        method: if multi {
            "MULTIAPPEND + LITERAL+, 1 connection"
        } else {
            "APPEND, 1 connection"
        },
    })
}

/// Messages waiting for one MULTIAPPEND.
#[derive(Default)]
struct Batch {
    messages: Vec<String>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, message: String) {
        self.bytes += message.len();
        self.messages.push(message);
    }

    fn full(&self) -> bool {
        self.messages.len() >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES
    }

    /// Appends what is pending (if anything) in one command; `so_far` is for the error.
    async fn send(
        &mut self,
        session: &mut ImapSession,
        folder: &str,
        so_far: u64,
    ) -> anyhow::Result<()> {
        if self.messages.is_empty() {
            return Ok(());
        }
        let command = multiappend_command(folder, &self.messages);
        session
            .run_command_and_check_ok(&command)
            .await
            .with_context(|| {
                format!(
                    "MULTIAPPEND of {} messages to {folder:?} (message {so_far} of the archive)",
                    self.messages.len()
                )
            })?;
        drain(session);
        self.messages.clear();
        self.bytes = 0;
        Ok(())
    }
}

async fn append_one(session: &mut ImapSession, folder: &str, message: &[u8]) -> anyhow::Result<()> {
    session
        .append(folder, None, None, message)
        .await
        .with_context(|| format!("APPEND to {folder:?}"))?;
    drain(session);
    Ok(())
}

/// `APPEND "folder" {n+}\r\n<message> {n+}\r\n<message> …` (the final CRLF is added by the
/// library with the command).
fn multiappend_command(folder: &str, messages: &[String]) -> String {
    let size: usize = messages.iter().map(|m| m.len() + 16).sum();
    let mut command = String::with_capacity(size + folder.len() + 16);
    command.push_str("APPEND ");
    command.push_str(&quote(folder));
    for message in messages {
        command.push_str(&format!(" {{{}+}}\r\n", message.len()));
        command.push_str(message);
    }
    command
}

fn quote(folder: &str) -> String {
    format!("\"{}\"", folder.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Line ends as IMAP wants them: every bare LF becomes CRLF.
pub(super) fn crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 40);
    let mut previous = 0u8;
    for &b in message {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

/// Untagged responses nobody asked for, dropped so the library's bounded channel never fills.
fn drain(session: &mut ImapSession) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends() {
        assert_eq!(crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert_eq!(crlf(b""), b"");
        assert_eq!(crlf(b"\n\n"), b"\r\n\r\n");
    }

    #[test]
    fn multiappend_literals() {
        let command = multiappend_command("INBOX", &["ab\r\n".into(), "héllo".into()]);
        assert_eq!(
            command, "APPEND \"INBOX\" {4+}\r\nab\r\n {6+}\r\nhéllo",
            "sizes are in bytes"
        );
    }
}
