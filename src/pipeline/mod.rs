//! The one pipeline every source uses (SPEC 2): raw bytes → [`Preparer`] (parse, classify,
//! pure, parallel) → batch: load a [`Snapshot`] → decide and plan each message in order (pure) →
//! store the [`Writes`] and the source checkpoint in ONE transaction → commit. Only then may
//! the source acknowledge (IMAP move, import progress).
//!
//! A batch whose write fails is retried one message at a time, so one bad message is
//! quarantined with its reason and never blocks the others.

mod agent_ticket;
mod alert;
mod batch_limit;
mod bounce;
mod context;
mod escalation;
mod plan;
mod prepared;
mod preparer;
mod snapshot;
mod stored_mail;

pub use agent_ticket::{
    AgentTicket, RelaySettings, load_agent_ticket, load_agent_tickets, relay_agent_mail,
};
pub use batch_limit::{BATCH_BYTES, BatchLimit};
pub use context::PlanContext;
pub use plan::Outcome;
pub use prepared::{Content, MessageSize, Prepared, RawMessage, prepare_header_only};
pub use preparer::{Preparer, Unprepared};
pub use stored_mail::{MessageTexts, attachment_content, message_texts};

use std::sync::Arc;

use anyhow::Context;

use crate::classify::OwnLists;
use crate::config::{Role, Settings};
use crate::decide::DecideContext;
use crate::domain::{Action, Classification, Decision, Rule, Source};
use crate::outbox::agent_mail::AgentRelay;
use crate::outbox::enqueue::EnqueueSettings;
use crate::outbox::{Audience, OwnAddresses, OwnMessageIds};
use crate::reply_token::ReplyTokens;
use crate::store::{self, Checkpoint, ErrorKind, Keys, Snapshot, Store, StoredRaw, Writes};
use crate::thread::ThreadContext;

/// How a run feeds the pipeline.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mailbox: String,
    pub role: Role,
    /// History: original dates, closed tickets, no notifications.
    pub archive: bool,
    /// Decide everything, store nothing.
    pub dry_run: bool,
    /// Enqueue notifications (acknowledgements) for live mail. Never in an archive import or
    /// a dry run, whatever this says; `mailgate import` sets it to false in every mode.
    pub notify: bool,
}

impl RunOptions {
    /// Live mail arriving at `mailbox` (IMAP, `mailgate ingest`): stored and acknowledged.
    pub fn live(mailbox: impl Into<String>, role: Role) -> Self {
        RunOptions {
            mailbox: mailbox.into(),
            role,
            archive: false,
            dry_run: false,
            notify: true,
        }
    }

    /// Old mail imported as if it arrived at `mailbox`: stored, never acknowledged (it was
    /// answered long ago). `archive` and `dry_run` are off; set them for those modes.
    pub fn import(mailbox: impl Into<String>, role: Role) -> Self {
        RunOptions {
            notify: false,
            ..RunOptions::live(mailbox, role)
        }
    }
}

pub struct Pipeline {
    store: Store,
    settings: Settings,
    options: RunOptions,
    reply_tokens: Option<ReplyTokens>,
    own: OwnAddresses,
    /// Our own group's list ids and addresses (`classify::OwnLists`), for the preparers.
    own_lists: Arc<OwnLists>,
    own_ids: Option<OwnMessageIds>,
    /// In a dry run, what earlier batches would have stored.
    dry_overlay: Option<Snapshot>,
}

impl Pipeline {
    pub fn new(store: Store, settings: Settings, options: RunOptions) -> Self {
        let reply_tokens = settings.tickets.secret.clone().map(ReplyTokens::new);
        let dry_overlay = options.dry_run.then(Snapshot::default);
        let own = OwnAddresses::of(&settings);
        let own_lists = Arc::new(OwnLists::new(
            own.addresses(),
            settings.tickets.own_lists.iter().map(String::as_str),
        ));
        let own_ids = settings.tickets.secret.clone().map(OwnMessageIds::new);
        Self {
            store,
            settings,
            options,
            reply_tokens,
            own,
            own_lists,
            own_ids,
            dry_overlay,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The preparer of this run's mail: classified for its mailbox's role, within the
    /// configured limits.
    pub fn preparer(&self) -> Preparer {
        Preparer::new(self.options.role, self.settings.limits())
            .with_own_lists(self.own_lists.clone())
    }

    /// Our own group's list ids and addresses: its mail is a person's (`classify::list`).
    pub fn own_lists(&self) -> Arc<OwnLists> {
        self.own_lists.clone()
    }

    /// One live message (ingest, reprocess; later one IMAP message): prepared, decided and
    /// stored in its own transaction.
    pub async fn process_message(&mut self, raw: RawMessage) -> anyhow::Result<Outcome> {
        let prepared = self.preparer().prepare(Unprepared::whole(raw));
        self.process(vec![prepared], None)
            .await?
            .pop()
            .context("the pipeline returned no decision")
    }

    /// Decides and stores a batch atomically, with the checkpoint of its source. Returns one
    /// outcome per message, in order. An `Err` means the database itself failed: nothing of
    /// the batch is stored and the source must not be acknowledged.
    pub async fn process(
        &mut self,
        batch: Vec<Prepared>,
        checkpoint: Option<Checkpoint>,
    ) -> anyhow::Result<Vec<Outcome>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if self.options.dry_run {
            return self.dry_run(batch).await;
        }
        // What each message needs to be retried alone if the database refuses the batch.
        let mut batch = batch;
        let retry: Vec<RetryCopy> = batch.iter_mut().map(RetryCopy::take_from).collect();
        let error = match self.try_batch(batch, checkpoint.as_ref()).await {
            Ok(outcomes) => return Ok(outcomes),
            Err(error) if error.kind() == ErrorKind::Unavailable => return Err(error.into()),
            Err(error) => error,
        };
        if retry.len() == 1 {
            let one = retry.into_iter().next().context("retry list is empty")?;
            return Ok(vec![
                self.quarantine_failed(one.source, one.raw, one.sha, &error, checkpoint.as_ref())
                    .await?,
            ]);
        }
        tracing::warn!(error = %format!("{error:#}"), "batch refused; retrying one message at a time");
        let count = retry.len();
        let mut outcomes = Vec::with_capacity(count);
        for (i, copy) in retry.into_iter().enumerate() {
            let cp = if i + 1 == count {
                checkpoint.as_ref()
            } else {
                None
            };
            match self
                .try_batch(
                    vec![copy.prepared(
                        self.options.role,
                        self.settings.parse_limits,
                        &self.own_lists,
                    )],
                    cp,
                )
                .await
            {
                Ok(mut one) => outcomes.append(&mut one),
                Err(error) if error.kind() == ErrorKind::Unavailable => return Err(error.into()),
                Err(error) => outcomes.push(
                    self.quarantine_failed(copy.source, copy.raw, copy.sha, &error, cp)
                        .await?,
                ),
            }
        }
        Ok(outcomes)
    }

    /// Stores a message the database refused in the quarantine, with the reason.
    async fn quarantine_failed(
        &mut self,
        source: Source,
        raw: Vec<u8>,
        sha: String,
        error: &store::Error,
        checkpoint: Option<&Checkpoint>,
    ) -> anyhow::Result<Outcome> {
        let message_id = crate::parse::peek_message_id(&raw).to_string();
        let decision = Decision {
            action: Action::Quarantine,
            classification: Classification::Plain,
            rule: Rule::PipelineError,
            reason: format!("storing the message failed: {error}"),
        };
        let now = now();
        let mut w = Writes::default();
        let ctx = self.plan_context(now);
        let source_text = source.to_string();
        let size = Some(raw.len() as u64);
        plan::quarantine(
            &source_text,
            Some(message_id.clone()),
            &sha,
            (StoredRaw::compress(&raw), size),
            &decision,
            &ctx,
            &mut w,
        );
        let mut tx = self.store.begin_write().await?;
        crate::store::apply(&mut tx, w, checkpoint, now).await?;
        tx.commit().await.context("committing a quarantine entry")?;
        self.store.committed();
        Ok(Outcome {
            source: source_text,
            message_id,
            decision,
            ticket: None,
        })
    }

    /// Decides and stores `batch` in one transaction. A [`store::Error`] says whether the
    /// database refused the batch's data (retry it mail by mail, quarantine what it refuses) or
    /// is unavailable (stop, acknowledge nothing).
    async fn try_batch(
        &mut self,
        batch: Vec<Prepared>,
        checkpoint: Option<&Checkpoint>,
    ) -> store::Result<Vec<Outcome>> {
        let now = now();
        let started = std::time::Instant::now();
        let keys = self.keys(&batch, now);
        let keys_len = keys.message_ids.len() + keys.tickets.len();
        let mut tx = self.store.begin_write().await?;
        let begun = started.elapsed();
        let mut snapshot =
            crate::store::load_snapshot(&mut tx, &keys, crate::parse::content_fingerprint).await?;
        let loaded = started.elapsed();
        let (writes, relays, outcomes) = self.plan(batch, &mut snapshot, now);
        let planned = started.elapsed();
        crate::store::apply(&mut tx, writes, checkpoint, now).await?;
        if !relays.is_empty()
            && let Some(settings) = self.plan_context(now).notify
        {
            let relay = RelaySettings {
                prefix: &self.settings.tickets.prefix,
                max_files_bytes: self.settings.max_message_bytes,
                assign_on_first_reply: self.settings.notify.assign_on_first_reply,
            };
            relay_agent_mail(&mut tx, relays, &settings, &relay, now).await?;
        }
        let applied = started.elapsed();
        tx.commit().await.context("committing a batch")?;
        self.store.committed();
        tracing::debug!(
            messages = outcomes.len(),
            keys = keys_len,
            begin_ms = begun.as_millis() as u64,
            load_ms = loaded.as_millis() as u64,
            plan_ms = (planned - loaded).as_millis() as u64,
            apply_ms = (applied - planned).as_millis() as u64,
            commit_ms = (started.elapsed() - applied).as_millis() as u64,
            "batch stored"
        );
        Ok(outcomes)
    }

    async fn dry_run(&mut self, batch: Vec<Prepared>) -> anyhow::Result<Vec<Outcome>> {
        let now = now();
        let keys = self.keys(&batch, now);
        let mut tx = self.store.begin_write().await?;
        let stored =
            crate::store::load_snapshot(&mut tx, &keys, crate::parse::content_fingerprint).await?;
        tx.rollback().await?;
        // What earlier batches of this dry run would have stored wins over the database.
        let mut snapshot = self.dry_overlay.take().unwrap_or_default();
        snapshot.absorb(stored);
        let (_writes, _relays, outcomes) = self.plan(batch, &mut snapshot, now);
        self.dry_overlay = Some(snapshot);
        Ok(outcomes)
    }

    /// Whether this run enqueues notifications: live mail only, never an archive import, an
    /// import at all, or a dry run.
    fn notifies(&self) -> bool {
        self.options.notify && !self.options.archive && !self.options.dry_run
    }

    fn keys(&self, batch: &[Prepared], now: i64) -> Keys {
        let mut keys = Keys::default();
        let notifies = self.notifies();
        keys.counts_since = now - self.settings.notify.rate_cap.window_secs;
        for p in batch {
            if let Some(bounce) = &p.bounce {
                // A bounce may be about our mail: its outbox row, and the ticket a verified
                // Message-ID names.
                for id in &bounce.referenced {
                    keys.sent_ids.insert(id.clone());
                    if let Some(n) = self.own_ids.as_ref().and_then(|ids| ids.verify(id)) {
                        keys.tickets.insert(n);
                    }
                }
            }
            match &p.content {
                Content::Parsed(email) => {
                    snapshot::add_mail_keys(
                        &mut keys,
                        email,
                        &self.settings.tickets.prefix,
                        self.reply_tokens.as_ref(),
                    );
                    keys.hashes
                        .push((email.message_id.clone(), p.raw_sha256.clone()));
                    if !self.settings.alerts.is_empty() {
                        snapshot::add_alert_key(&mut keys, email, &self.settings.alerts);
                    }
                    if self.options.role == Role::Escalation {
                        snapshot::add_escalation_keys(
                            &mut keys,
                            email,
                            &self.settings.tickets.prefix,
                        );
                    }
                    if notifies {
                        // Who an acknowledgement may go to: requester, Cc, primary contact.
                        let from = &email.from.address;
                        keys.addresses.insert(from.clone());
                        keys.addresses
                            .extend(email.cc.iter().map(|m| m.address.clone()));
                        if let Some(c) = self
                            .settings
                            .notify
                            .primary_contacts
                            .get(&from.domain().to_ascii_lowercase())
                        {
                            keys.addresses.insert(c.clone());
                        }
                    }
                }
                Content::Failed { message_id, .. } => {
                    keys.message_ids.insert(message_id.clone());
                }
            }
        }
        keys
    }

    fn plan(
        &self,
        batch: Vec<Prepared>,
        snapshot: &mut Snapshot,
        now: i64,
    ) -> (Writes, Vec<AgentRelay>, Vec<Outcome>) {
        let ctx = self.plan_context(now);
        let mut writes = Writes::default();
        let mut relays = Vec::new();
        let outcomes = batch
            .into_iter()
            .map(|p| {
                let trimmed = trim_note(&p);
                let rows_before = writes.decisions.len();
                let mut outcome = plan::plan_message(p, snapshot, &ctx, &mut writes, &mut relays);
                if let Some(note) = trimmed {
                    outcome.decision.reason.push_str(&note);
                    for row in &mut writes.decisions[rows_before..] {
                        row.reason.push_str(&note);
                    }
                }
                outcome
            })
            .collect();
        writes.ticket_counter = snapshot.ticket_counter;
        (writes, relays, outcomes)
    }

    fn plan_context(&self, now: i64) -> PlanContext<'_> {
        PlanContext {
            decide: DecideContext {
                thread: ThreadContext {
                    prefix: &self.settings.tickets.prefix,
                    agents: &self.settings.notify.agents,
                    reply_tokens: self.reply_tokens.as_ref(),
                },
                archive: self.options.archive,
                escalation: &self.settings.escalation,
                technicians: &self.settings.notify.technicians,
                alerts: &self.settings.alerts,
            },
            mailbox: &self.options.mailbox,
            role: self.options.role,
            now,
            agents: &self.settings.notify.agents,
            trusted_authserv_ids: &self.settings.security.trusted_authserv_ids,
            max_new_participants: self.settings.max_new_participants,
            own: &self.own,
            own_ids: self.own_ids.as_ref(),
            notify: self.notifies().then(|| EnqueueSettings {
                support: &self.settings.tickets.support_address,
                own_ids: self.own_ids.as_ref(),
                audience: Audience {
                    primary_contacts: &self.settings.notify.primary_contacts,
                    technicians: &self.settings.notify.technicians,
                    agents: &self.settings.notify.agents,
                    own: &self.own,
                },
                cap: self.settings.notify.rate_cap,
                templates: &self.settings.notify.templates,
                max_automatic_recipients: self.settings.max_automatic_recipients,
                reply_tokens: self.reply_tokens.as_ref(),
            }),
            nonce_seed: fastrand::u64(..),
        }
    }
}

/// What is kept of a message to retry it alone when the database refuses its batch: the
/// bytes, and for mail that had already failed (over size, unparseable) that verdict itself, so
/// a retry neither re-parses a header-only download nor applies a different size limit.
///
/// The raw bytes move here instead of being copied: the batch is planned from the parsed form
/// and the compressed copy made when the mail was prepared, so a mail is held once, not
/// twice, while its batch is stored.
struct RetryCopy {
    source: Source,
    raw: Vec<u8>,
    sha: String,
    size: Option<u64>,
    failed: Option<(crate::domain::MessageId, Rule, String)>,
    header_only: bool,
}

impl RetryCopy {
    fn take_from(p: &mut Prepared) -> RetryCopy {
        let failed = match &p.content {
            Content::Failed {
                message_id,
                rule,
                reason,
            } => Some((message_id.clone(), *rule, reason.clone())),
            Content::Parsed(_) => None,
        };
        RetryCopy {
            source: p.source.clone(),
            raw: std::mem::take(&mut p.raw),
            sha: p.raw_sha256.clone(),
            size: p.size,
            failed,
            header_only: p.header_only,
        }
    }

    fn prepared(
        &self,
        role: Role,
        parse_limits: crate::parse::ParseLimits,
        own_lists: &Arc<OwnLists>,
    ) -> Prepared {
        match &self.failed {
            Some((message_id, rule, reason)) => Prepared {
                source: self.source.clone(),
                raw: self.raw.clone(),
                raw_sha256: self.sha.clone(),
                content: Content::Failed {
                    message_id: message_id.clone(),
                    rule: *rule,
                    reason: reason.clone(),
                },
                header_only: self.header_only,
                classification: Classification::Plain,
                bounce: None,
                stored_raw: StoredRaw::compress(&self.raw),
                size: self.size,
            },
            // Its size was checked when it was first prepared (with its mailbox's limit).
            None => Preparer::new(
                role,
                crate::config::Limits {
                    max_message_bytes: usize::MAX,
                    parse: parse_limits,
                },
            )
            .with_own_lists(own_lists.clone())
            .prepare(Unprepared::Whole {
                raw: RawMessage {
                    source: self.source.clone(),
                    bytes: self.raw.clone(),
                },
                sha256: Some(self.sha.clone()),
            }),
        }
    }
}

/// What the parser trimmed of a mail (`[limits]`), as a sentence appended to its decision's
/// reason; `None` for the usual mail, which kept everything.
fn trim_note(p: &Prepared) -> Option<String> {
    let Content::Parsed(email) = &p.content else {
        return None;
    };
    if email.trimmed.is_empty() {
        return None;
    }
    let trims: Vec<String> = email.trimmed.iter().map(ToString::to_string).collect();
    Some(format!("; trimmed: {}", trims.join("; ")))
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
