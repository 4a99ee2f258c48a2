//! The reference phases of `bench imap`: the fetch-only ceiling (what the poller does with the
//! server, minus everything after the fetch) and fetch + move (the poller's IMAP work alone).

use super::*;

impl Bench<'_> {
    /// The ceiling: what the poller does with the server, minus everything after the fetch.
    pub(super) async fn fetch_only(&self, expected: u64) -> anyhow::Result<FetchOnlyReport> {
        let passes = self.opts.fetch_passes.max(1);
        progress(&format!("fetch-only ceiling, {passes} pass(es) …"));
        let mut best: Option<PhaseFigures> = None;
        let mut pass_secs = Vec::new();
        for _ in 0..passes {
            memory::reset_peak_rss();
            let cpu = CpuSample::now();
            let started = Instant::now();
            let mut session = MailboxSession::open(&self.tls_endpoint, self.tls.as_ref())
                .await
                .context("fetch-only: logging in")?;
            session.select(FOLDER).await?;
            let uids = session.search("UID 1:*").await?;
            let (mut messages, mut bytes) = (0u64, 0u64);
            for batch in batches(&uids, self.batch_size) {
                let set = batch.sequence_set();
                let sizes = session.sizes(&set).await?;
                let bodies = session.bodies(&set).await?;
                if sizes.len() != bodies.len() {
                    bail!(
                        "fetch-only: {} sizes but {} bodies for UIDs {set}",
                        sizes.len(),
                        bodies.len()
                    );
                }
                messages += bodies.len() as u64;
                bytes += bodies.iter().map(|b| b.bytes.len() as u64).sum::<u64>();
            }
            session.logout().await;
            let secs = started.elapsed().as_secs_f64();
            if messages != expected {
                bail!("fetch-only: fetched {messages} messages of {expected}");
            }
            pass_secs.push(secs);
            let figures = PhaseFigures::new(messages, bytes, secs, memory::peak_rss_bytes())
                .with_cpu(cpu_since(cpu));
            if best.as_ref().is_none_or(|b| figures.secs < b.secs) {
                best = Some(figures);
            }
        }
        let figures = best.context("no fetch-only pass ran")?;
        Ok(FetchOnlyReport { figures, pass_secs })
    }

    /// The poller's IMAP work without parsing or storing: batches fetched (sizes, bodies) on
    /// one connection while the previous batch is moved on a second, as the poller does. Run
    /// after the drain, from the processed folder to a scratch folder.
    pub(super) async fn fetch_and_move(&self, expected: u64) -> anyhow::Result<PhaseFigures> {
        progress("fetch + move reference (the drain's IMAP work alone) …");
        let from = &self.processed_folder;
        let to = format!("{from}-moved");
        memory::reset_peak_rss();
        let cpu = CpuSample::now();
        let started = Instant::now();
        let (fetcher, mover) = tokio::join!(
            MailboxSession::open(&self.tls_endpoint, self.tls.as_ref()),
            MailboxSession::open(&self.tls_endpoint, self.tls.as_ref()),
        );
        let (mut fetcher, mut mover) = (
            fetcher.context("fetch + move: logging in")?,
            mover.context("fetch + move: logging in")?,
        );
        fetcher.ensure_folder(&to).await?;
        fetcher.select(from).await?;
        mover.select(from).await?;
        let uids = fetcher.search("UID 1:*").await?;
        let (mut messages, mut bytes) = (0u64, 0u64);
        let mut previous: Option<UidBatch> = None;
        for batch in batches(&uids, self.batch_size) {
            let set = batch.sequence_set();
            let fetch = async {
                fetcher.sizes(&set).await?;
                fetcher.bodies(&set).await
            };
            let moving = async {
                match previous.take() {
                    Some(uids) => mover.acknowledge(&move_to(&to, uids)).await,
                    None => Ok(()),
                }
            };
            let (bodies, moved) = tokio::join!(fetch, moving);
            let bodies = bodies?;
            moved?;
            messages += bodies.len() as u64;
            bytes += bodies.iter().map(|b| b.bytes.len() as u64).sum::<u64>();
            previous = Some(batch);
        }
        if let Some(uids) = previous {
            mover.acknowledge(&move_to(&to, uids)).await?;
        }
        let secs = started.elapsed().as_secs_f64();
        let peak = memory::peak_rss_bytes();
        let cpu = cpu_since(cpu);
        fetcher.logout().await;
        mover.logout().await;
        let [left, moved] = self.counts([from.as_str(), to.as_str()]).await?;
        if messages != expected || left != 0 || u64::from(moved) != expected {
            bail!(
                "fetch + move: fetched {messages} of {expected}, {left} left in {from:?}, \
                 {moved} in {to:?}"
            );
        }
        Ok(PhaseFigures::new(messages, bytes, secs, peak).with_cpu(cpu))
    }
}
