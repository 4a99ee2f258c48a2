//! The poller of one mailbox (SPEC 2 steps 1 and 7): connect, finish acknowledging what a
//! crash left behind, then forever: fetch what is new by UID in batches, put each batch through
//! the pipeline (which commits the messages together with the UID checkpoint), and only then
//! move or flag the batch; wait in IDLE (or sleep when polling); on any error, log out what is
//! left, back off and reconnect. Shutdown is honoured between batches and while waiting.
//!
//! Exactly once: a UID at or below the stored checkpoint is never put through the pipeline
//! again unless it has no decision; one above it is, and Message-ID dedupe makes the second
//! pass of a message whose commit raced a crash an `ignored (duplicate)`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustls::ClientConfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::{MailboxSettings, Settings};
use crate::domain::Source;
use crate::pipeline::{
    BatchLimit, MessageSize, Outcome, Pipeline, Prepared, Preparer, RawMessage, RunOptions,
    Unprepared,
};
use crate::store::{Checkpoint, Store};

use super::acknowledge::{self, Destinations, Handled};
use super::backoff::Backoff;
use super::connect::{ConnectError, Endpoint, tls_config};
use super::session::{Fetched, MailboxSession, Wake};
use super::sync_plan::{self, Sized, SyncPlan, UidBatch, new_uids, sized_batches};

/// New mail is sized (RFC822.SIZE) this many UIDs at a time.
const SIZE_WINDOW: usize = 5000;

/// What a poller reports as it goes, for tests and benchmarks that run it in-process.
#[derive(Debug, Clone)]
pub enum PollerEvent {
    /// Logged in and the folder is selected.
    Connected,
    /// A message's decision is committed (its move may still be pending).
    Handled {
        uid: u32,
        message_id: String,
        decision: &'static str,
        ticket: Option<String>,
        at: Instant,
    },
    /// Everything in the folder is handled; the poller is about to wait.
    Idle,
    /// The session failed; the poller will reconnect after `retry_in`.
    Disconnected { error: String, retry_in: Duration },
}

pub struct Poller {
    mailbox: MailboxSettings,
    endpoint: Endpoint,
    tls: Option<Arc<ClientConfig>>,
    destinations: Destinations,
    pipeline: Pipeline,
    store: Store,
    max_bytes: usize,
    events: Option<mpsc::UnboundedSender<PollerEvent>>,
}

impl Poller {
    /// A poller for the configured mailbox `name`. Fails when it lacks what polling needs
    /// (host, username, a readable password, a usable CA file).
    pub fn new(settings: &Settings, store: Store, name: &str) -> anyhow::Result<Poller> {
        let mailbox = settings.mailbox(name).map_err(anyhow::Error::msg)?.clone();
        let endpoint = Endpoint::from_settings(&mailbox)?;
        let tls = tls_config(&endpoint).with_context(|| format!("mailbox {name}"))?;
        let pipeline = Pipeline::new(
            store.clone(),
            settings.clone(),
            RunOptions::live(mailbox.name.clone(), mailbox.role),
        );
        let max_bytes = match mailbox.max_message_bytes {
            0 => settings.max_message_bytes,
            n => n,
        };
        Ok(Poller {
            destinations: Destinations::of(&mailbox),
            mailbox,
            endpoint,
            tls,
            pipeline,
            store,
            max_bytes,
            events: None,
        })
    }

    /// Reports progress on `events` (tests, benchmarks).
    pub fn with_events(mut self, events: mpsc::UnboundedSender<PollerEvent>) -> Poller {
        self.events = Some(events);
        self
    }

    /// Runs until `cancel` fires. Never returns an error: every failure is logged, backed off
    /// and retried, so one mailbox's trouble never stops another's.
    pub async fn run(self, cancel: CancellationToken) {
        let span = tracing::info_span!("mailbox", mailbox = %self.mailbox.name);
        self.run_in_span(cancel).instrument(span).await
    }

    async fn run_in_span(mut self, cancel: CancellationToken) {
        let mut backoff = Backoff::for_servers();
        while !cancel.is_cancelled() {
            let error = match self.session(&cancel, &mut backoff).await {
                Ok(()) => break,
                Err(e) => e,
            };
            let retry_in = backoff.next_delay(fastrand::f64());
            let admin = error
                .downcast_ref::<ConnectError>()
                .is_some_and(ConnectError::needs_admin);
            if admin {
                tracing::error!(error = %format!("{error:#}"), retry_in = ?retry_in, "cannot log in to the mailbox; retrying");
            } else {
                tracing::warn!(error = %format!("{error:#}"), retry_in = ?retry_in, "mailbox session failed; reconnecting");
            }
            self.emit(PollerEvent::Disconnected {
                error: format!("{error:#}"),
                retry_in,
            });
            tokio::select! {
                _ = tokio::time::sleep(retry_in) => {}
                _ = cancel.cancelled() => break,
            }
        }
        tracing::info!("poller stopped");
    }

    /// One connection's life: returns `Ok` only on shutdown.
    async fn session(
        &mut self,
        cancel: &CancellationToken,
        backoff: &mut Backoff,
    ) -> anyhow::Result<()> {
        // Two connections: one fetches (and IDLEs), the other moves handled mail, so the
        // server works on both at once.
        let opened = async {
            let mut session = MailboxSession::open(&self.endpoint, self.tls.as_ref()).await?;
            let mut mover = MailboxSession::open(&self.endpoint, self.tls.as_ref()).await?;
            for folder in self.destinations.folders() {
                session.ensure_folder(folder).await?;
            }
            let status = session.select(&self.mailbox.folder).await?;
            mover.select(&self.mailbox.folder).await?;
            anyhow::Ok((session, mover, status))
        };
        // Nothing is in hand while connecting: shutdown need not wait for a slow server.
        let (mut session, mut mover, status) = tokio::select! {
            opened = opened => opened?,
            _ = cancel.cancelled() => return Ok(()),
        };
        tracing::info!(
            folder = %self.mailbox.folder,
            uid_validity = status.uid_validity,
            exists = status.exists,
            idle = self.mailbox.idle && session.supports_idle(),
            "connected"
        );
        self.emit(PollerEvent::Connected);
        backoff.reset();
        self.repair(&mut session, &mut mover, status.uid_validity)
            .await?;
        loop {
            self.drain(&mut session, &mut mover, cancel).await?;
            if cancel.is_cancelled() {
                break;
            }
            self.emit(PollerEvent::Idle);
            let cap = if self.mailbox.idle && session.supports_idle() {
                Duration::from_secs(self.mailbox.idle_renew_secs)
            } else {
                Duration::from_secs(self.mailbox.poll_interval_secs)
            };
            let (s, wake) = session.wait(self.mailbox.idle, cap, cancel).await?;
            session = s;
            match wake {
                Wake::Cancelled => break,
                Wake::Timeout => tracing::debug!(after = ?cap, "IDLE renewed (or poll due)"),
                Wake::Changed => tracing::debug!("woken by the server"),
            }
            // Keeps the mover's connection from the server's inactivity logout.
            mover.noop().await?;
        }
        mover.logout().await;
        session.logout().await;
        Ok(())
    }

    /// Finishes acknowledging mail at or below the checkpoint that is still in the folder:
    /// its batch committed, then the process died (or the move failed) before the move.
    async fn repair(
        &mut self,
        session: &mut MailboxSession,
        mover: &mut MailboxSession,
        uid_validity: u32,
    ) -> anyhow::Result<()> {
        let Some(stored) = self.store.mailbox_state(&self.mailbox.name).await? else {
            return Ok(());
        };
        if stored.uid_validity != uid_validity || stored.last_uid == 0 {
            return Ok(());
        }
        let uids = session
            .search(&acknowledge::repair_query(stored.last_uid))
            .await?;
        if uids.is_empty() {
            return Ok(());
        }
        let sources: Vec<String> = uids
            .iter()
            .map(|uid| self.source(uid_validity, *uid).to_string())
            .collect();
        let decisions = self.store.imap_decisions(&sources).await?;
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for (uid, source) in uids.iter().zip(&sources) {
            match decisions.get(source) {
                Some(name) => match Handled::from_decision_name(name) {
                    Ok(handled) => known.push((*uid, handled)),
                    Err(error) => tracing::error!(uid, %error, "cannot repair this mail"),
                },
                None => unknown.push(*uid),
            }
        }
        tracing::info!(
            acknowledged = known.len(),
            without_decision = unknown.len(),
            "repairing mail handled before a crash"
        );
        mover
            .acknowledge_all(&acknowledge::plan(known, &self.destinations))
            .await?;
        // Never decided (should not happen): put them through the pipeline; dedupe keeps it exact.
        if !unknown.is_empty() {
            let set = UidBatch { uids: unknown }.sequence_set();
            let sized = session.sizes(&set).await?;
            self.run_batches(session, mover, uid_validity, &sized, None)
                .await?;
        }
        Ok(())
    }

    /// Handles everything new, batch by batch, until the folder holds nothing unhandled or
    /// shutdown is requested (checked between batches only).
    async fn drain(
        &mut self,
        session: &mut MailboxSession,
        mover: &mut MailboxSession,
        cancel: &CancellationToken,
    ) -> anyhow::Result<()> {
        loop {
            let status = session.select(&self.mailbox.folder).await?;
            let stored = self.store.mailbox_state(&self.mailbox.name).await?;
            let plan = sync_plan::plan(stored, status);
            let Some(from) = plan.first_uid() else {
                return Ok(());
            };
            if let SyncPlan::Rescan { old, new } = plan {
                tracing::warn!(
                    old,
                    new,
                    "UIDVALIDITY changed: re-scanning the folder (duplicates are recognised by Message-ID)"
                );
            }
            let uids = new_uids(session.search(&format!("UID {from}:*")).await?, from);
            if uids.is_empty() {
                if matches!(plan, SyncPlan::FirstRun | SyncPlan::Rescan { .. }) {
                    self.store
                        .save_checkpoint(&Checkpoint::Imap {
                            mailbox: self.mailbox.name.clone(),
                            uid_validity: status.uid_validity,
                            last_uid: 0,
                        })
                        .await?;
                }
                return Ok(());
            }
            tracing::debug!(new = uids.len(), from, "new mail");
            // Sizes of a window of the new mail, in one command; the loop comes back for more.
            let window = UidBatch {
                uids: uids.into_iter().take(SIZE_WINDOW).collect(),
            };
            let sized = session.sizes(&window.sequence_set()).await?;
            let stop = self
                .run_batches(session, mover, status.uid_validity, &sized, Some(cancel))
                .await?;
            if stop {
                return Ok(());
            }
        }
    }

    /// Handles `uids` in batches: fetch → prepare → decide and commit with the checkpoint →
    /// acknowledge. The IMAP work of the neighbouring batches (moving the previous one,
    /// fetching the next) runs while the database commits this one; a batch is acknowledged
    /// only after its own commit. `cancel` (when given) is honoured between batches; returns
    /// whether it stopped because of it. Without `cancel` the checkpoint is left alone (repair).
    async fn run_batches(
        &mut self,
        session: &mut MailboxSession,
        mover: &mut MailboxSession,
        uid_validity: u32,
        messages: &[Sized],
        cancel: Option<&CancellationToken>,
    ) -> anyhow::Result<bool> {
        let limit = self.max_bytes as u64;
        // At most `batch_size` messages and BATCH_BYTES of mail are downloaded for one batch
        // (a batch of big mail is cut short): memory stays bounded with three batches in
        // flight (one fetched, one committing, one moving).
        let batch = BatchLimit::new(self.mailbox.batch_size);
        let all = sized_batches(messages, batch, limit);
        let Some(first) = all.first() else {
            return Ok(false);
        };
        let preparer = BatchPreparer {
            mailbox: self.mailbox.name.clone(),
            uid_validity,
            preparer: Preparer::new(
                self.mailbox.role,
                self.pipeline.settings().limits_with_size(self.max_bytes),
            )
            .with_own_lists(self.pipeline.own_lists()),
        };
        let first = fetch_batch(session, first, limit).await?;
        let mut ready = Some(preparer.prepare(first).await?);
        let mut unacknowledged: Vec<(u32, Handled)> = Vec::new();
        for (i, batch) in all.iter().enumerate() {
            let prepared = ready.take().unwrap_or_default();
            let checkpoint = cancel.map(|_| Checkpoint::Imap {
                mailbox: self.mailbox.name.clone(),
                uid_validity,
                last_uid: batch.last().map(|m| m.uid).unwrap_or(0),
            });
            let following = all.get(i + 1);
            let previous = std::mem::take(&mut unacknowledged);
            let destinations = &self.destinations;
            let pipeline = &mut self.pipeline;
            let store = &self.store;
            let commit = async {
                if prepared.is_empty() {
                    // Every UID of the batch vanished (deleted by someone else): move on.
                    if let Some(cp) = &checkpoint {
                        store.save_checkpoint(cp).await?;
                    }
                    return Ok((Vec::new(), Vec::new()));
                }
                let uids: Vec<u32> = prepared
                    .iter()
                    .filter_map(|p| imap_uid(&p.source))
                    .collect();
                let outcomes = pipeline.process(prepared, checkpoint).await?;
                anyhow::Ok((uids, outcomes))
            };
            let acknowledge = async {
                mover
                    .acknowledge_all(&acknowledge::plan(previous, destinations))
                    .await?;
                anyhow::Ok(())
            };
            let fetch = async {
                let Some(next) = following else {
                    return anyhow::Ok(None);
                };
                let started = Instant::now();
                let fetched = fetch_batch(session, next, limit).await?;
                let got = started.elapsed();
                let prepared = preparer.prepare(fetched).await?;
                tracing::debug!(
                    fetch_ms = got.as_millis() as u64,
                    prepare_ms = (started.elapsed() - got).as_millis() as u64,
                    "next batch ready"
                );
                Ok(Some(prepared))
            };
            let (committed, acknowledged, next) = tokio::join!(commit, acknowledge, fetch);
            let (uids, outcomes) = committed?;
            for (uid, outcome) in uids.iter().zip(&outcomes) {
                self.report(*uid, outcome);
                unacknowledged.push((*uid, Handled::of(&outcome.decision.action)));
            }
            acknowledged?;
            ready = next?;
            if cancel.is_some_and(CancellationToken::is_cancelled) {
                break;
            }
        }
        mover
            .acknowledge_all(&acknowledge::plan(unacknowledged, &self.destinations))
            .await?;
        Ok(cancel.is_some_and(CancellationToken::is_cancelled))
    }

    /// One span per message with mailbox, UID, Message-ID and decision.
    fn report(&self, uid: u32, outcome: &Outcome) {
        let decision = outcome.decision.action.name();
        let span = tracing::info_span!(
            "message",
            uid,
            message_id = %outcome.message_id,
            decision,
            ticket = %outcome.ticket.as_ref().map(ToString::to_string).unwrap_or_default(),
        );
        span.in_scope(|| {
            tracing::info!(rule = outcome.decision.rule.as_str(), reason = %outcome.decision.reason, "handled");
        });
        self.emit(PollerEvent::Handled {
            uid,
            message_id: outcome.message_id.clone(),
            decision,
            ticket: outcome.ticket.as_ref().map(ToString::to_string),
            at: Instant::now(),
        });
    }

    fn source(&self, uid_validity: u32, uid: u32) -> Source {
        Source::Imap {
            mailbox: self.mailbox.name.clone(),
            uid_validity,
            uid,
        }
    }

    fn emit(&self, event: PollerEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(event);
        }
    }
}

/// What one batch fetch brought: whole messages, and the headers (with sizes) of mail over the
/// size limit.
#[derive(Debug, Default)]
struct FetchedBatch {
    bodies: Vec<Fetched>,
    oversized: Vec<(Fetched, u64)>,
}

/// The bodies of the batch's mail within `limit`, and only the headers of bigger mail (its
/// size known from RFC822.SIZE). UIDs that vanished since are simply absent.
async fn fetch_batch(
    session: &mut MailboxSession,
    batch: &[Sized],
    limit: u64,
) -> anyhow::Result<FetchedBatch> {
    let (fits, too_big): (Vec<Sized>, Vec<Sized>) =
        batch.iter().partition(|m| u64::from(m.size) <= limit);
    let set = |list: &[Sized]| {
        UidBatch {
            uids: list.iter().map(|m| m.uid).collect(),
        }
        .sequence_set()
    };
    let bodies = if fits.is_empty() {
        Vec::new()
    } else {
        session.bodies(&set(&fits)).await?
    };
    let oversized = if too_big.is_empty() {
        Vec::new()
    } else {
        session
            .headers(&set(&too_big))
            .await?
            .into_iter()
            .map(|h| {
                let size = too_big
                    .iter()
                    .find(|m| m.uid == h.uid)
                    .map(|m| u64::from(m.size))
                    .unwrap_or(0);
                (h, size)
            })
            .collect()
    };
    Ok(FetchedBatch { bodies, oversized })
}

/// Puts the messages of a fetched batch through the pipeline's [`Preparer`], in UID order.
struct BatchPreparer {
    mailbox: String,
    uid_validity: u32,
    preparer: Preparer,
}

impl BatchPreparer {
    async fn prepare(&self, fetched: FetchedBatch) -> anyhow::Result<Vec<Prepared>> {
        let FetchedBatch { bodies, oversized } = fetched;
        let source = |uid: u32| Source::Imap {
            mailbox: self.mailbox.clone(),
            uid_validity: self.uid_validity,
            uid,
        };
        let mut items: Vec<(u32, Unprepared)> = bodies
            .into_iter()
            .map(|f| {
                let raw = RawMessage {
                    source: source(f.uid),
                    bytes: f.bytes,
                };
                (f.uid, Unprepared::whole(raw))
            })
            .chain(oversized.into_iter().map(|(h, size)| {
                let item = Unprepared::HeaderOnly {
                    source: source(h.uid),
                    header: h.bytes,
                    size: MessageSize::Exactly(size),
                };
                (h.uid, item)
            }))
            .collect();
        items.sort_by_key(|(uid, _)| *uid);
        let items = items.into_iter().map(|(_, item)| item).collect();
        self.preparer
            .prepare_batch(items)
            .await
            .context("preparing a batch of mail")
    }
}

fn imap_uid(source: &Source) -> Option<u32> {
    match source {
        Source::Imap { uid, .. } => Some(*uid),
        _ => None,
    }
}
