//! One logged-in IMAP session on one mailbox folder: the few commands the poller needs, each
//! reading only what it asked for (BODY.PEEK, never \Seen), and every unsolicited response
//! drained so the library's bounded channel never fills.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::TryStreamExt;
use rustls::ClientConfig;
use tokio_util::sync::CancellationToken;

use super::acknowledge::{Acknowledgement, Target};
use super::connect::{ConnectError, Endpoint, ImapSession, connect};
use super::sync_plan::{MailboxStatus, Sized};

/// Longest time any single IMAP command may take before the connection counts as dead.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an IDLE (or poll wait) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server reported a change (EXISTS, EXPUNGE …).
    Changed,
    /// The IDLE cap or poll interval passed.
    Timeout,
    /// Shutdown was requested.
    Cancelled,
}

pub struct MailboxSession {
    session: ImapSession,
    has_move: bool,
    has_uidplus: bool,
    has_idle: bool,
}

/// A fetched message: its UID and bytes (the whole message, or only its header when it was
/// over the size limit).
#[derive(Debug)]
pub struct Fetched {
    pub uid: u32,
    pub bytes: Vec<u8>,
}

impl MailboxSession {
    pub async fn open(
        endpoint: &Endpoint,
        tls: Option<&Arc<ClientConfig>>,
    ) -> Result<MailboxSession, ConnectError> {
        let mut session = connect(endpoint, tls).await?;
        let caps = tokio::time::timeout(COMMAND_TIMEOUT, session.capabilities())
            .await
            .map_err(|_| ConnectError::Timeout("asking for capabilities"))??;
        let mut s = MailboxSession {
            has_move: caps.has_str("MOVE"),
            has_uidplus: caps.has_str("UIDPLUS"),
            has_idle: caps.has_str("IDLE"),
            session,
        };
        s.drain_unsolicited();
        Ok(s)
    }

    pub fn supports_idle(&self) -> bool {
        self.has_idle
    }

    /// SELECT the folder (read-write: handled mail is moved or flagged).
    pub async fn select(&mut self, folder: &str) -> anyhow::Result<MailboxStatus> {
        let mailbox = timed(self.session.select(folder))
            .await?
            .with_context(|| format!("selecting folder {folder:?}"))?;
        self.drain_unsolicited();
        let uid_validity = mailbox
            .uid_validity
            .with_context(|| format!("the server sent no UIDVALIDITY for {folder:?}"))?;
        Ok(MailboxStatus {
            uid_validity,
            uid_next: mailbox.uid_next,
            exists: mailbox.exists,
        })
    }

    /// Creates the folder unless it exists already.
    pub async fn ensure_folder(&mut self, folder: &str) -> anyhow::Result<()> {
        let exists = {
            let names: Vec<_> = timed(async {
                self.session
                    .list(None, Some(&quote(folder)))
                    .await?
                    .try_collect()
                    .await
            })
            .await??;
            names.iter().any(|n| n.name() == folder)
        };
        if !exists {
            match timed(self.session.create(folder)).await? {
                Ok(()) => tracing::info!(folder, "created IMAP folder"),
                // Another poller may have created it in between: check again before failing.
                Err(e) => {
                    let again: Vec<_> = timed(async {
                        self.session
                            .list(None, Some(&quote(folder)))
                            .await?
                            .try_collect()
                            .await
                    })
                    .await??;
                    if !again.iter().any(|n| n.name() == folder) {
                        return Err(e).with_context(|| format!("creating folder {folder:?}"));
                    }
                }
            }
        }
        self.drain_unsolicited();
        Ok(())
    }

    /// `UID SEARCH <query>`: the matching UIDs, sorted.
    pub async fn search(&mut self, query: &str) -> anyhow::Result<Vec<u32>> {
        let found: HashSet<u32> = timed(self.session.uid_search(query))
            .await?
            .with_context(|| format!("UID SEARCH {query}"))?;
        self.drain_unsolicited();
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// RFC822.SIZE of each UID of the set that still exists, in UID order.
    pub async fn sizes(&mut self, set: &str) -> anyhow::Result<Vec<Sized>> {
        let fetched = self.fetch(set, "(UID RFC822.SIZE)").await?;
        let mut sized: Vec<Sized> = fetched
            .iter()
            .filter_map(|f| {
                Some(Sized {
                    uid: f.uid?,
                    size: f.size.unwrap_or(0),
                })
            })
            .collect();
        sized.sort_by_key(|m| m.uid);
        sized.dedup_by_key(|m| m.uid);
        Ok(sized)
    }

    /// The whole messages of the set (`BODY.PEEK[]`: \Seen is left alone).
    pub async fn bodies(&mut self, set: &str) -> anyhow::Result<Vec<Fetched>> {
        self.fetch_section(set, "(UID BODY.PEEK[])", |f| f.body())
            .await
    }

    /// Only the headers of the set (for mail too big to download).
    pub async fn headers(&mut self, set: &str) -> anyhow::Result<Vec<Fetched>> {
        self.fetch_section(set, "(UID BODY.PEEK[HEADER])", |f| f.header())
            .await
    }

    /// `UID STORE <set> +FLAGS.SILENT (<flag>)`.
    async fn add_flag(&mut self, set: &str, flag: &str) -> anyhow::Result<()> {
        let query = format!("+FLAGS.SILENT ({flag})");
        timed(async {
            self.session
                .uid_store(set, &query)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?
        .with_context(|| format!("UID STORE {set} {query}"))?;
        Ok(())
    }

    /// `UID FETCH <set> <query>`, every response collected; unsolicited responses drained.
    async fn fetch(
        &mut self,
        set: &str,
        query: &str,
    ) -> anyhow::Result<Vec<async_imap::types::Fetch>> {
        let fetched = timed(async {
            self.session
                .uid_fetch(set, query)
                .await?
                .try_collect()
                .await
        })
        .await?
        .with_context(|| format!("UID FETCH {set} {query}"))?;
        self.drain_unsolicited();
        Ok(fetched)
    }

    async fn fetch_section(
        &mut self,
        set: &str,
        query: &str,
        part: fn(&async_imap::types::Fetch) -> Option<&[u8]>,
    ) -> anyhow::Result<Vec<Fetched>> {
        let fetched = self.fetch(set, query).await?;
        let mut out: Vec<Fetched> = fetched
            .iter()
            .filter_map(|f| {
                Some(Fetched {
                    uid: f.uid?,
                    bytes: part(f).unwrap_or_default().to_vec(),
                })
            })
            .collect();
        out.sort_by_key(|f| f.uid);
        out.dedup_by_key(|f| f.uid);
        Ok(out)
    }

    /// Acknowledges handled mail from a session other than the one that fetched it: a NOOP
    /// first, because a server answers OK to a UID MOVE of mail this session has not yet
    /// been told about — and moves nothing (seen with Dovecot).
    pub async fn acknowledge_all(&mut self, acks: &[Acknowledgement]) -> anyhow::Result<()> {
        if acks.is_empty() {
            return Ok(());
        }
        self.noop().await?;
        for ack in acks {
            self.acknowledge(ack).await?;
        }
        Ok(())
    }

    /// Moves or flags handled mail. MOVE where the server has it; else COPY, \Deleted and
    /// UID EXPUNGE of exactly these UIDs (never a plain EXPUNGE that would remove mail a
    /// person marked deleted, unless the server lacks UIDPLUS too).
    pub async fn acknowledge(&mut self, ack: &Acknowledgement) -> anyhow::Result<()> {
        let set = ack.uids.sequence_set();
        if set.is_empty() {
            return Ok(());
        }
        match &ack.target {
            Target::Keyword(keyword) => {
                self.add_flag(&set, keyword).await?;
            }
            Target::Folder(folder) if self.has_move => {
                timed(self.session.uid_mv(&set, folder))
                    .await?
                    .with_context(|| format!("UID MOVE {set} {folder:?}"))?;
            }
            Target::Folder(folder) => {
                timed(self.session.uid_copy(&set, folder))
                    .await?
                    .with_context(|| format!("UID COPY {set} {folder:?}"))?;
                self.add_flag(&set, "\\Deleted").await?;
                if self.has_uidplus {
                    timed(async {
                        self.session
                            .uid_expunge(&set)
                            .await?
                            .try_collect::<Vec<_>>()
                            .await
                    })
                    .await?
                    .with_context(|| format!("UID EXPUNGE {set}"))?;
                } else {
                    tracing::warn!(
                        "server has neither MOVE nor UIDPLUS: copied mail is flagged \\Deleted \
                         and left for the server's own expunge"
                    );
                }
            }
        }
        self.drain_unsolicited();
        Ok(())
    }

    /// Waits for a change: IDLE (re-issued by the caller every `cap`) when the server has it
    /// and `use_idle` is set, else a plain sleep of `cap` (polling). Consumes and returns the
    /// session because IDLE owns the connection while it runs.
    pub async fn wait(
        self,
        use_idle: bool,
        cap: Duration,
        cancel: &CancellationToken,
    ) -> anyhow::Result<(MailboxSession, Wake)> {
        if !(use_idle && self.has_idle) {
            let wake = tokio::select! {
                _ = tokio::time::sleep(cap) => Wake::Timeout,
                _ = cancel.cancelled() => Wake::Cancelled,
            };
            return Ok((self, wake));
        }
        let MailboxSession {
            session,
            has_move,
            has_uidplus,
            has_idle,
        } = self;
        let mut idle = session.idle();
        timed(idle.init()).await?.context("starting IDLE")?;
        let wake = {
            // The library's timeout restarts on every server keepalive ("* OK Still here",
            // every 2 minutes with Dovecot), so the cap needs a timer of its own.
            let (wait, _stop) = idle.wait_with_timeout(cap);
            tokio::select! {
                _ = tokio::time::sleep(cap) => Wake::Timeout,
                r = wait => match r.context("waiting in IDLE")? {
                    async_imap::extensions::idle::IdleResponse::NewData(_) => Wake::Changed,
                    async_imap::extensions::idle::IdleResponse::Timeout => Wake::Timeout,
                    async_imap::extensions::idle::IdleResponse::ManualInterrupt => Wake::Timeout,
                },
                _ = cancel.cancelled() => Wake::Cancelled,
            }
        };
        let session = timed(idle.done()).await?.context("ending IDLE")?;
        let mut s = MailboxSession {
            session,
            has_move,
            has_uidplus,
            has_idle,
        };
        s.drain_unsolicited();
        Ok((s, wake))
    }

    /// NOOP: keeps an otherwise quiet connection alive and proves it still works.
    pub async fn noop(&mut self) -> anyhow::Result<()> {
        timed(self.session.noop()).await?.context("NOOP")?;
        self.drain_unsolicited();
        Ok(())
    }

    /// LOGOUT, best effort (the server may already be gone).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }

    /// Unsolicited responses (EXISTS, EXPUNGE, FETCH flags …) carry nothing the poller needs:
    /// it searches by UID each round. Drained so the bounded channel never drops or blocks.
    fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

/// A LIST pattern for exactly this name (quoted; `%`/`*` in a folder name would still match
/// more, which is why callers compare names).
fn quote(folder: &str) -> String {
    format!("\"{}\"", folder.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn timed<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    tokio::time::timeout(COMMAND_TIMEOUT, f)
        .await
        .map_err(|_| anyhow::anyhow!("the IMAP server did not answer within {COMMAND_TIMEOUT:?}"))
}
