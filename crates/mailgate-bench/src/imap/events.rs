//! What the benchmark reads from the poller under test: its event stream (with the reconnects
//! it reported), and stopping it after a failure.

use super::*;

/// The poller's event stream, with the reconnects it reported.
pub(super) struct Events {
    pub(super) rx: mpsc::UnboundedReceiver<PollerEvent>,
    pub(super) disconnects: Vec<String>,
}

impl Events {
    pub(super) fn new(rx: mpsc::UnboundedReceiver<PollerEvent>) -> Events {
        Events {
            rx,
            disconnects: Vec::new(),
        }
    }

    /// The next event; an error when the poller stopped or reported nothing for [`STALL`].
    pub(super) async fn next(&mut self) -> anyhow::Result<PollerEvent> {
        let event = match tokio::time::timeout(STALL, self.rx.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => bail!("the poller stopped"),
            Err(_) => bail!(
                "the poller reported nothing for {STALL:?}{}",
                self.disconnects
                    .last()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ),
        };
        if let PollerEvent::Disconnected { error, retry_in } = &event {
            progress(&format!(
                "warning: the poller lost its session ({error}); retrying in {retry_in:?}"
            ));
            self.disconnects.push(error.clone());
            if self.disconnects.len() >= MAX_DISCONNECTS {
                bail!(
                    "the poller lost its session {} times; last error: {error}",
                    self.disconnects.len()
                );
            }
        }
        Ok(event)
    }

    pub(super) async fn until_idle(&mut self) -> anyhow::Result<()> {
        loop {
            if let PollerEvent::Idle = self.next().await? {
                return Ok(());
            }
        }
    }
}

/// Cancels the poller after a failure, closes the store, and passes the error on.
pub(super) async fn stop(
    cancel: CancellationToken,
    poller: JoinHandle<()>,
    store: Store,
    error: anyhow::Error,
) -> anyhow::Error {
    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), poller).await;
    store.close().await;
    error
}
