//! The outbox sender (SPEC 5): part of `mailgate run` when `[smtp]` is configured.
//!
//! Loop: claim due rows with a lease (one UPDATE, no transaction held across the network) →
//! render each ([`crate::outbox::render`]) → send over a pooled lettre SMTP transport, up to
//! `pool_size` mails at once → record each outcome while still holding its lease. Idle, it
//! looks for due rows every 250 ms (one read, no write lock). On cancellation it stops at a
//! safe point: mails in flight are finished and recorded, claimed rows not yet started are
//! given back untouched.
//!
//! Errors, per attempt:
//! - a 5xx reply is permanent. With several recipients the mail is then sent again to each
//!   recipient alone, so one refused recipient never blocks the others: each refused one is
//!   recorded (`refused`, marked bouncing on the ticket), the others are served;
//! - a 4xx reply, a connection, TLS or authentication problem, or a timeout is temporary: the
//!   recipients not yet served are retried after `retry_base · 2^(attempt-1)` (capped at
//!   `retry_max`, jittered between half and all of it) until `max_attempts`, then the row
//!   fails (rule `retries-exhausted`);
//! - a row that cannot be rendered (invalid address or Message-ID) fails at once
//!   (`unrenderable`);
//! - a recipient whose local part is not ASCII needs SMTPUTF8: to a server whose EHLO does not
//!   offer it, it is refused like a 5xx for that recipient ("recipient josé@… needs SMTPUTF8,
//!   which the server does not offer"); a non-ASCII domain goes as its A-label to any server
//!   ([`crate::outbox::intl`]).
//!
//! A row ends `sent` when every recipient was served or refused and at least one was served;
//! `failed` when none was. Failures and partial refusals are recorded on the ticket (a decision
//! row, visible in `tickets show`) and in `mailgate outbox list`.
//!
//! The envelope sender is the support address, so bounces of our notifications come back to
//! the mailbox mailgate reads (where they are recognised by our Message-ID).
//!
//! Exactly once: a row is marked sent right after the server accepted it. Only a crash (or a
//! lost database) between the server's acceptance and that write can send a mail twice, when
//! the lease expires and another sender claims the row again.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use lettre::Address;
use lettre::address::Envelope;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::{Settings, SmtpSettings};
use crate::domain::Mailbox;
use crate::reply_token::ReplyTokens;
use crate::store::{OutboxFinish, OutboxRow, OutboxUpdate, Refusal, Store};

use super::smtp::{SendError, SmtpPool};
use crate::domain::OutgoingAttachment;
use crate::outbox::intl::{envelope_address, own_address_form};
use crate::outbox::render::{self, OutgoingMail, RenderContext, render_with_files};

/// How often an idle sender looks for due rows.
pub const IDLE_POLL: Duration = Duration::from_millis(250);
/// Rows claimed per pooled connection and step.
const ROWS_PER_CONNECTION: u32 = 8;

/// What one [`OutboxSender::step`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Claimed but given back untouched (cancellation).
    pub released: usize,
    /// Finished, but the lease had been lost meanwhile: not recorded by us.
    pub lease_lost: usize,
}

impl StepReport {
    fn add(&mut self, update: &OutboxUpdate) {
        match update {
            OutboxUpdate::Sent => self.sent += 1,
            OutboxUpdate::RetryAt { .. } => self.retried += 1,
            OutboxUpdate::Failed { .. } => self.failed += 1,
        }
    }
}

enum Outcome {
    Done(OutboxFinish),
    Released(i64),
}

/// Delivers the outbox over SMTP. Cheap to share: clone the `Arc` it lives in.
pub struct OutboxSender {
    store: Store,
    pool: SmtpPool,
    smtp: SmtpSettings,
    support: Mailbox,
    envelope_from: Address,
    reply_tokens: Option<ReplyTokens>,
    prefix: String,
    /// This sender's lease owner id: `pid.random`.
    owner: String,
    batch: u32,
    /// Longest time one mail may take, all commands and recipients included.
    mail_deadline: Duration,
    lease: Duration,
}

impl OutboxSender {
    /// A sender for `settings.smtp` (which must be set). Reads the SMTP password and the CA
    /// file now, so a mistake fails the start of `mailgate run` rather than every mail.
    pub fn new(settings: &Settings, store: Store) -> anyhow::Result<OutboxSender> {
        let smtp = settings
            .smtp
            .clone()
            .context("no [smtp] section in the configuration: nothing to send with")?;
        let pool = SmtpPool::new(&smtp)?;
        let support = settings.tickets.support_address.clone();
        // A non-ASCII domain goes as its A-label, so any server takes it.
        let envelope_from = own_address_form(&support.address, false);
        let envelope_from: Address = envelope_from.as_str().parse().with_context(|| {
            format!(
                "support address {} cannot be an SMTP sender",
                support.address
            )
        })?;
        let batch = smtp.pool_size.saturating_mul(ROWS_PER_CONNECTION).max(1);
        let mail_deadline = smtp.timeout.saturating_mul(6);
        let lease = mail_deadline.saturating_mul(ROWS_PER_CONNECTION + 1) + Duration::from_secs(60);
        Ok(OutboxSender {
            store,
            pool,
            support,
            envelope_from,
            reply_tokens: settings.tickets.secret.clone().map(ReplyTokens::new),
            prefix: settings.tickets.prefix.clone(),
            owner: format!("{}.{:08x}", std::process::id(), fastrand::u32(..)),
            batch,
            mail_deadline,
            lease,
            smtp,
        })
    }

    pub fn describe(&self) -> String {
        self.smtp.describe()
    }

    /// Runs until `cancel`: steps while there is due mail, polls every [`IDLE_POLL`] when there
    /// is none. A database error is logged and retried after a pause; it never ends the loop.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        tracing::info!(smtp = %self.describe(), owner = %self.owner, "outbox sender started");
        let mut db_failures = 0u32;
        while !cancel.is_cancelled() {
            let pause = match self.step(&cancel).await {
                Ok(report) if report.claimed > 0 => {
                    db_failures = 0;
                    continue;
                }
                Ok(_) => {
                    db_failures = 0;
                    IDLE_POLL
                }
                Err(e) => {
                    db_failures = db_failures.saturating_add(1);
                    tracing::error!(error = format!("{e:#}"), "outbox sender: database error");
                    Duration::from_millis(250u64.saturating_mul(1 << db_failures.min(6)))
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = cancel.cancelled() => {}
            }
        }
        self.pool.shutdown().await;
        tracing::info!("outbox sender stopped");
    }

    /// One round: claims what is due (at most `pool_size · 4` rows), sends them, `pool_size`
    /// at a time, and records every outcome. Returns once all claimed rows are recorded or
    /// given back (those not started when `cancel` fires). `claimed == 0`: nothing was due.
    pub async fn step(&self, cancel: &CancellationToken) -> anyhow::Result<StepReport> {
        let now = unix_now();
        if !self.store.outbox_due(now).await? {
            return Ok(StepReport::default());
        }
        let lease_until = now + i64::try_from(self.lease.as_secs()).unwrap_or(i64::MAX / 2);
        let rows = self
            .store
            .claim_outbox(&self.owner, now, lease_until, i64::from(self.batch))
            .await?;
        let mut report = StepReport {
            claimed: rows.len(),
            ..StepReport::default()
        };
        let concurrency = usize::try_from(self.smtp.pool_size).unwrap_or(1).max(1);
        let outcomes: Vec<Outcome> = futures_util::stream::iter(rows)
            .map(|row| self.handle(row, cancel))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut released = Vec::new();
        let mut finished = Vec::new();
        for outcome in outcomes {
            match outcome {
                Outcome::Released(id) => released.push(id),
                Outcome::Done(finish) => {
                    report.add(&finish.update);
                    finished.push(finish);
                }
            }
        }
        report.released = released.len();
        // One commit for the round: the mails are on the server already, so a crash before
        // this commit can send them again (after the lease expires); it is one round at most.
        let written = self
            .store
            .finish_outbox_batch(&self.owner, unix_now(), &finished)
            .await
            .context("recording the outcome of sent mail")?;
        for (finish, ok) in finished.iter().zip(&written) {
            if !ok {
                report.lease_lost += 1;
                tracing::warn!(
                    id = finish.id,
                    "outbox: the lease expired before the outcome was recorded"
                );
            }
        }
        self.store.release_outbox(&self.owner, &released).await?;
        Ok(report)
    }

    /// Steps until nothing is due (rows waiting for a retry later are left alone).
    pub async fn drain(&self, cancel: &CancellationToken) -> anyhow::Result<StepReport> {
        let mut total = StepReport::default();
        loop {
            let r = self.step(cancel).await?;
            if r.claimed == 0 || cancel.is_cancelled() {
                return Ok(total);
            }
            total.claimed += r.claimed;
            total.sent += r.sent;
            total.retried += r.retried;
            total.failed += r.failed;
            total.released += r.released;
            total.lease_lost += r.lease_lost;
        }
    }

    /// Sends one claimed row (not recorded yet: [`OutboxSender::step`] records a round).
    async fn handle(&self, row: OutboxRow, cancel: &CancellationToken) -> Outcome {
        if cancel.is_cancelled() {
            return Outcome::Released(row.id);
        }
        let span = tracing::info_span!(
            "outbox",
            id = row.id,
            kind = %row.kind,
            ticket = row.ticket_id.map(|t| format!("{}-{t}", self.prefix)).unwrap_or_default(),
            recipients = tracing::field::Empty,
            attempt = row.attempts,
        );
        async move {
            let (delivered, refused, update) = self.attempt(&row).await;
            match &update {
                OutboxUpdate::Sent if refused.is_empty() => {
                    tracing::info!(message_id = %row.message_id, "sent")
                }
                OutboxUpdate::Sent => tracing::warn!(
                    message_id = %row.message_id,
                    refused = refused.len(),
                    "sent, some recipients refused"
                ),
                OutboxUpdate::RetryAt { at, error } => {
                    tracing::warn!(retry_in_secs = at - unix_now(), error = %error, "will retry")
                }
                OutboxUpdate::Failed { rule, error } => {
                    tracing::error!(rule, error = %error, "failed")
                }
            }
            Outcome::Done(OutboxFinish {
                id: row.id,
                delivered_to: delivered,
                refused,
                update,
            })
        }
        .instrument(span)
        .await
    }

    /// One attempt at `row`: (delivered_to, refused, where the row goes next).
    async fn attempt(&self, row: &OutboxRow) -> (Vec<String>, Vec<Refusal>, OutboxUpdate) {
        let mut delivered = row.delivered_list();
        let mut refused = row.refused_list();
        let pending = row.pending_recipients();
        tracing::Span::current().record("recipients", pending.len());
        let ctx = RenderContext {
            support: &self.support,
            reply_tokens: self.reply_tokens.as_ref(),
            prefix: &self.prefix,
            smtputf8: false,
        };
        // The files it carries (issue 18 item 11); a database hiccup is retried like SMTP's.
        let files = match self.store.outbox_files(&row.message_id).await {
            Ok(files) => files,
            Err(e) => {
                let update = OutboxUpdate::RetryAt {
                    at: unix_now() + 1,
                    error: format!("reading the files of the mail: {e:#}"),
                };
                return (delivered, refused, update);
            }
        };
        let mail = outgoing_mail(row);
        // Rendered once up front so a row that cannot become a mail fails without a connection.
        let bytes = match render_with_files(&mail, &files, ctx) {
            Ok(bytes) => bytes,
            Err(e) => {
                let update = OutboxUpdate::Failed {
                    rule: "unrenderable",
                    error: e.to_string(),
                };
                return (delivered, refused, update);
            }
        };
        let result = tokio::time::timeout(
            self.mail_deadline,
            self.deliver(
                &mail,
                (bytes, &files),
                ctx,
                &pending,
                &mut delivered,
                &mut refused,
            ),
        )
        .await;
        let (remaining, temporary) = match result {
            Ok(result) => result,
            Err(_) => {
                let left = pending
                    .iter()
                    .filter(|p| !delivered.contains(p) && !refused.iter().any(|r| &r.address == *p))
                    .cloned()
                    .collect();
                (
                    left,
                    Some(format!("no answer within {:?}", self.mail_deadline)),
                )
            }
        };
        let update = if remaining.is_empty() {
            if delivered.is_empty() {
                OutboxUpdate::Failed {
                    rule: "smtp-permanent",
                    error: refused
                        .first()
                        .map(|r| r.error.clone())
                        .unwrap_or_else(|| "no recipient".into()),
                }
            } else {
                OutboxUpdate::Sent
            }
        } else {
            let error = temporary.unwrap_or_else(|| "temporary failure".into());
            let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
            if attempts >= self.smtp.max_attempts {
                OutboxUpdate::Failed {
                    rule: "retries-exhausted",
                    error: format!("{error} (after {attempts} attempts)"),
                }
            } else {
                let delay = retry_delay(
                    self.smtp.retry_base,
                    self.smtp.retry_max,
                    attempts,
                    fastrand::f64(),
                );
                let delay = i64::try_from(delay.as_secs())
                    .unwrap_or(i64::MAX / 4)
                    .max(1);
                OutboxUpdate::RetryAt {
                    at: unix_now() + delay,
                    error,
                }
            }
        };
        (delivered, refused, update)
    }

    /// Sends `mail` (rendered as `bytes` for a server without SMTPUTF8) to `pending`, pushing
    /// onto `delivered` / `refused`. When a recipient's address is not ASCII, the server's
    /// SMTPUTF8 decides ([`crate::outbox::intl`]): the mail is rendered again for a server that offers
    /// it, and without it a recipient with a non-ASCII local part is refused with the reason.
    /// Returns the recipients still to try later and the temporary error that stopped them.
    async fn deliver(
        &self,
        mail: &OutgoingMail,
        (mut bytes, files): (Vec<u8>, &[OutgoingAttachment]),
        ctx: RenderContext<'_>,
        pending: &[String],
        delivered: &mut Vec<String>,
        refused: &mut Vec<Refusal>,
    ) -> (Vec<String>, Option<String>) {
        let mut smtputf8 = false;
        let non_ascii =
            render::recipients(mail).is_ok_and(|all| all.iter().any(|a| !a.as_str().is_ascii()));
        if non_ascii {
            match self.pool.offers_smtputf8().await {
                Ok(offered) => smtputf8 = offered,
                Err(SendError::Temporary(e) | SendError::Permanent(e)) => {
                    return (pending.to_vec(), Some(e));
                }
            }
            if smtputf8 {
                match render_with_files(mail, files, RenderContext { smtputf8, ..ctx }) {
                    Ok(utf8) => bytes = utf8,
                    Err(e) => return (pending.to_vec(), Some(e.to_string())),
                }
            }
        }
        let mut addresses = Vec::new();
        for p in pending {
            match envelope_address(p, smtputf8) {
                Ok(a) => addresses.push((p.clone(), a)),
                Err(error) => refused.push(Refusal {
                    address: p.clone(),
                    error,
                }),
            }
        }
        self.send_to(&bytes, addresses, delivered, refused).await
    }

    /// Sends `bytes` to `addresses` (each with its envelope form), pushing onto `delivered` /
    /// `refused`. Returns the recipients still to try later and the temporary error that
    /// stopped them.
    async fn send_to(
        &self,
        bytes: &[u8],
        mut addresses: Vec<(String, Address)>,
        delivered: &mut Vec<String>,
        refused: &mut Vec<Refusal>,
    ) -> (Vec<String>, Option<String>) {
        if addresses.is_empty() {
            return (Vec::new(), None);
        }
        let all: Vec<Address> = addresses.iter().map(|(_, a)| a.clone()).collect();
        match self.send_once(all, bytes).await {
            Ok(()) => {
                delivered.extend(addresses.into_iter().map(|(p, _)| p));
                return (Vec::new(), None);
            }
            Err(SendError::Temporary(e)) => {
                return (addresses.into_iter().map(|(p, _)| p).collect(), Some(e));
            }
            Err(SendError::Permanent(e)) if addresses.len() == 1 => {
                let (p, _) = addresses.remove(0);
                refused.push(Refusal {
                    address: p,
                    error: e,
                });
                return (Vec::new(), None);
            }
            Err(SendError::Permanent(_)) => {}
        }
        // One recipient (or the mail itself) refused: each recipient alone, so the others
        // still get it and the refusal names the right one.
        let mut remaining = Vec::new();
        let mut temporary = None;
        for (p, a) in addresses {
            match self.send_once(vec![a], bytes).await {
                Ok(()) => delivered.push(p),
                Err(SendError::Permanent(e)) => refused.push(Refusal {
                    address: p,
                    error: e,
                }),
                Err(SendError::Temporary(e)) => {
                    remaining.push(p);
                    temporary.get_or_insert(e);
                }
            }
        }
        (remaining, temporary)
    }

    async fn send_once(&self, to: Vec<Address>, bytes: &[u8]) -> Result<(), SendError> {
        let envelope = Envelope::new(Some(self.envelope_from.clone()), to)
            .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
        self.pool.send(&envelope, bytes).await
    }
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones (≥ 1):
/// `base · 2^(attempts-1)` capped at `max`, then between half and all of it (`random` in
/// `[0, 1)`), so many rows failing together do not all come back at once.
pub fn retry_delay(base: Duration, max: Duration, attempts: u32, random: f64) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let step = base
        .checked_mul(1u32 << exp)
        .unwrap_or(max)
        .min(max.max(base));
    step.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What of `row` the pure core renders ([`OutgoingMail`]).
fn outgoing_mail(row: &OutboxRow) -> OutgoingMail {
    OutgoingMail {
        ticket_id: row.ticket_id,
        recipients: row.recipients.clone(),
        subject: row.subject.clone(),
        message_id: row.message_id.clone(),
        in_reply_to: row.in_reply_to.clone(),
        references_ids: row.references_ids.clone(),
        auto_submitted: row.auto_submitted.clone(),
        body_text: row.body_text.clone(),
        body_html: row.body_html.clone(),
        created_at: row.created_at,
        reply_to: row.reply_to.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(30), Duration::from_secs(1800));
        let secs = |n, r| retry_delay(base, max, n, r).as_secs();
        assert_eq!(
            (1..=8).map(|n| secs(n, 0.999_999_9)).collect::<Vec<_>>(),
            vec![29, 59, 119, 239, 479, 959, 1799, 1799]
        );
        assert_eq!(secs(1, 0.0), 15);
        assert_eq!(secs(0, 1.0), 30, "attempt 0 behaves like 1");
        assert_eq!(secs(u32::MAX, 1.0), 1800);
        assert_eq!(secs(3, 7.0), 120, "randomness is clamped");
    }
}
