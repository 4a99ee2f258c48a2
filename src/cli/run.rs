//! `mailgate run`: one poller per configured mailbox, with `[smtp]` the outbox sender, and with
//! `[sla]` an SLA pass every `sla.pass_every` (a minute), until SIGINT/SIGTERM. One cancellation token and one task
//! tracker: on the first signal every poller finishes the batch in hand, commits, acknowledges
//! and logs out, the sender finishes and records the mails in flight, and an SLA pass in hand
//! commits; a second signal exits at once (nothing committed is lost either way: the next start
//! repairs unacknowledged mail, and rows left `sending` are claimed again when their lease
//! expires).

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::delivery::sender::OutboxSender;
use crate::imap::Poller;
use crate::store::Store;

pub async fn run(settings: Settings, store: Store) -> anyhow::Result<()> {
    if settings.mailboxes.is_empty() && settings.smtp.is_none() {
        anyhow::bail!(
            "no [[mailboxes]] and no [smtp] in the configuration ({}): nothing to poll or send",
            settings.origin
        );
    }
    // Every mailbox must be pollable before any starts: a typo fails the start, loudly.
    let pollers = settings
        .mailboxes
        .iter()
        .map(|mb| Poller::new(&settings, store.clone(), &mb.name))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("cannot start the pollers")?;
    let sender = match &settings.smtp {
        Some(_) => Some(Arc::new(
            OutboxSender::new(&settings, store.clone())
                .context("cannot start the outbox sender")?,
        )),
        None => None,
    };
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    for poller in pollers {
        tracker.spawn(poller.run(cancel.clone()));
    }
    if let Some(sender) = &sender {
        tracker.spawn(sender.clone().run(cancel.clone()));
    }
    if settings.sla.is_enabled() {
        tracker.spawn(super::sla::periodic(
            Arc::new(settings.clone()),
            store.clone(),
            settings.sla.pass_every,
            cancel.clone(),
        ));
    }
    tracker.close();
    // Not on the tracker: it has nothing to finish and stops with the same token.
    let checkpointer = store.start_checkpointer(cancel.clone());
    tracing::info!(
        mailboxes = settings.mailboxes.len(),
        smtp = sender
            .as_ref()
            .map(|s| s.describe())
            .unwrap_or_else(|| "off".into()),
        "mailgate running"
    );
    tokio::select! {
        _ = crate::shutdown::wait_for_signal() => {}
        _ = tracker.wait() => {}
    }
    if !cancel.is_cancelled() {
        tracing::info!("shutting down: finishing the messages in hand");
        cancel.cancel();
    }
    tokio::select! {
        _ = tracker.wait() => {
            let _ = checkpointer.await;
            tracing::info!("stopped cleanly");
            Ok(())
        }
        _ = crate::shutdown::wait_for_signal() => {
            tracing::warn!("second signal: exiting without waiting");
            std::process::exit(130);
        }
    }
}
