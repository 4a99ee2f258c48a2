//! `mailgate-bench outbox`: the outbox drain rate to the test mail stack's Postfix.
//!
//! Enqueues N rows (one transaction, like a burst of notifications) for a fresh user of the
//! stack, then drains them with the real [`OutboxSender`] (pooled SMTP, `pool_size` mails in
//! flight, each outcome recorded with a full-durability commit) and reports mails/s and the
//! peak RSS of the drain. "Sent" means Postfix accepted the mail (250 after DATA); delivery
//! into Dovecot happens behind it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use mailgate::config::Settings;
use mailgate::delivery::sender::OutboxSender;
use mailgate::store::Store;
use mailgate_test_support::memory;

use crate::stack::{Stack, find_script};

#[derive(Debug, Clone)]
pub struct OutboxBenchOptions {
    pub state_dir: PathBuf,
    pub mailstack_script: Option<PathBuf>,
    pub messages: usize,
    pub pool_size: u32,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct OutboxBenchReport {
    pub messages: usize,
    pub recipient: String,
    pub smtp_server: String,
    pub pool_size: u32,
    pub enqueue_secs: f64,
    pub drain_secs: f64,
    pub mails_per_sec: f64,
    pub sent: usize,
    pub not_sent: usize,
    pub peak_rss_mb: Option<f64>,
}

impl OutboxBenchReport {
    pub fn print_table(&self) {
        println!(
            "outbox drain: {} mails to {} via {} (pool {})",
            self.messages, self.recipient, self.smtp_server, self.pool_size
        );
        println!(
            "  enqueue      {:.2} s (one transaction)",
            self.enqueue_secs
        );
        println!(
            "  drain        {:.2} s  {:.0} mails/s  ({} sent, {} not sent)",
            self.drain_secs, self.mails_per_sec, self.sent, self.not_sent
        );
        match self.peak_rss_mb {
            Some(mb) => println!("  peak RSS     {mb:.1} MB"),
            None => println!("  peak RSS     unknown"),
        }
    }
}

pub async fn run(options: OutboxBenchOptions) -> anyhow::Result<OutboxBenchReport> {
    let stack = Stack::load(&options.state_dir)?;
    let _lock = tokio::task::spawn_blocking({
        let stack = stack.clone();
        move || stack.shared_lock()
    })
    .await??;
    let (dir, remove) = match &options.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mailgate-bench-outbox-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = measure(&options, &stack, &dir).await;
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn measure(
    options: &OutboxBenchOptions,
    stack: &Stack,
    dir: &std::path::Path,
) -> anyhow::Result<OutboxBenchReport> {
    let script = find_script(options.mailstack_script.as_deref())?;
    let recipient = stack.fresh_address();
    stack.add_user(&script, &recipient)?;
    let db = dir.join("bench-outbox.db");
    let _ = std::fs::remove_file(&db);
    let toml = format!(
        "[database]\nurl = {url}\n\n[tickets]\nsupport_address = \"Support <support@example.test>\"\n\n\
         [smtp]\nhost = {host}\nport = {port}\ntls = \"none\"\npool_size = {pool}\n",
        url = toml::Value::String(format!("sqlite://{}", db.display())),
        host = toml::Value::String(stack.host.clone()),
        port = stack.smtp_port,
        pool = options.pool_size,
    );
    let settings = Settings::from_toml(&toml, "bench outbox")?;
    let store = Store::open(&settings.database_url).await?;

    let started = Instant::now();
    enqueue(&store, &recipient, options.messages).await?;
    let enqueue_secs = started.elapsed().as_secs_f64();

    let sender = OutboxSender::new(&settings, store.clone())?;
    memory::reset_peak_rss();
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let report = sender.drain(&cancel).await?;
    let drain_secs = started.elapsed().as_secs_f64();
    let peak_rss_mb = memory::peak_rss_bytes().map(|b| b as f64 / 1e6);
    let counts = store.outbox_counts().await?;
    let sent = counts
        .iter()
        .find(|(s, _)| s == "sent")
        .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
        .unwrap_or(0);
    store.close().await;
    if report.retried + report.failed > 0 {
        eprintln!(
            "bench outbox: {} retried, {} failed (see the outbox in {})",
            report.retried,
            report.failed,
            db.display()
        );
    }
    Ok(OutboxBenchReport {
        messages: options.messages,
        recipient,
        smtp_server: format!("{}:{}", stack.host, stack.smtp_port),
        pool_size: options.pool_size,
        enqueue_secs,
        drain_secs,
        mails_per_sec: sent as f64 / drain_secs.max(1e-9),
        sent,
        not_sent: options.messages.saturating_sub(sent),
        peak_rss_mb,
    })
}

/// N status-update rows of ~1.5 KB text each, in one transaction.
async fn enqueue(store: &Store, recipient: &str, n: usize) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let recipients = serde_json::to_string(&[recipient])?;
    let body = "Hello,\n\nyour request has been updated. ".repeat(30);
    let run = format!("{}.{:x}", std::process::id(), fastrand::u32(..));
    let mut tx = store.begin_write().await?;
    for i in 0..n {
        sqlx::query(
            "INSERT INTO outbox (kind, recipients, subject, message_id, auto_submitted, \
             body_text, status, next_attempt_at, created_at) \
             VALUES ('status_change', ?1, ?2, ?3, 'auto-generated', ?4, 'pending', ?5, ?5)",
        )
        .bind(&recipients)
        .bind(format!("[SUP-{}] Status: resolved", i + 1))
        .bind(format!("SUP-{}.bench{run}.{i}@example.test", i + 1))
        .bind(&body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
