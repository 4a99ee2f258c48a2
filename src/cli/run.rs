//! `mailgate run`: one poller per configured mailbox, until SIGINT/SIGTERM. One cancellation
//! token and one task tracker: on the first signal every poller finishes the batch in hand,
//! commits, acknowledges and logs out; a second signal exits at once (nothing committed is
//! lost either way: the next start repairs unacknowledged mail).

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::imap::Poller;
use crate::store::Store;

pub async fn run(settings: Settings, store: Store) -> anyhow::Result<()> {
    if settings.mailboxes.is_empty() {
        anyhow::bail!(
            "no [[mailboxes]] in the configuration ({}): nothing to poll",
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
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    for poller in pollers {
        tracker.spawn(poller.run(cancel.clone()));
    }
    tracker.close();
    tracing::info!(mailboxes = settings.mailboxes.len(), "mailgate running");
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
            tracing::info!("stopped cleanly");
            Ok(())
        }
        _ = crate::shutdown::wait_for_signal() => {
            tracing::warn!("second signal: exiting without waiting");
            std::process::exit(130);
        }
    }
}
