//! `mailgate-bench sla`: the SLA scheduler as `mailgate sla tick` runs it (the real binary, its
//! wall time from spawn to reap and its own peak RSS), over a seeded database.
//!
//! - **pass**: N tickets (40% open, 10% new, 30% pending, 20% resolved; one requester and one
//!   message each), a tenth of them due; one pass as of "now" queues their pings, a second
//!   pass at the same time finds nothing due.
//! - **duplicates**: a small database, two processes running passes at once with the clock
//!   jumping back and forth at random (each pass a `mailgate sla tick --now` of its own);
//!   every ping must have queued exactly one mail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use mailgate_test_support::memory::{Measured, run_measured};
use serde::Serialize;
use sqlx::Connection;

const TIMEOUT: Duration = Duration::from_secs(600);
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

#[derive(Debug, Clone)]
pub struct SlaBenchOptions {
    pub tickets: usize,
    pub passes: usize,
    pub mailgate: Option<PathBuf>,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct SlaBenchReport {
    pub tickets: usize,
    pub due: usize,
    pub pass_secs: f64,
    pub pass_peak_rss_mb: Option<f64>,
    pub queued: usize,
    pub idle_pass_secs: f64,
    pub idle_pass_peak_rss_mb: Option<f64>,
    pub jump_passes: usize,
    pub jump_pings: i64,
    pub jump_mails: i64,
    pub duplicates: i64,
}

impl SlaBenchReport {
    pub fn print_table(&self) {
        let mb = |m: Option<f64>| m.map_or("unknown".to_string(), |m| format!("{m:.1} MB"));
        println!(
            "sla pass over {} tickets ({} due), mailgate sla tick as a process:",
            self.tickets, self.due
        );
        println!(
            "  pass, {:>6} due     {:>8.3} s  peak RSS {}  ({} pings queued)",
            self.due,
            self.pass_secs,
            mb(self.pass_peak_rss_mb),
            self.queued
        );
        println!(
            "  pass, nothing due   {:>8.3} s  peak RSS {}",
            self.idle_pass_secs,
            mb(self.idle_pass_peak_rss_mb)
        );
        println!(
            "  clock jumps: {} passes by 2 processes at once: {} pings, {} mails, {} duplicates",
            self.jump_passes, self.jump_pings, self.jump_mails, self.duplicates
        );
    }
}

pub async fn run(options: SlaBenchOptions) -> anyhow::Result<SlaBenchReport> {
    let mailgate = crate::import::cli_run::mailgate_binary(options.mailgate.as_deref())?;
    let (dir, remove) = match &options.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mailgate-bench-sla-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = measure(&options, &mailgate, &dir).await;
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn measure(
    options: &SlaBenchOptions,
    mailgate: &Path,
    dir: &Path,
) -> anyhow::Result<SlaBenchReport> {
    let now = chrono::Utc::now().timestamp();
    let big = Db::create(mailgate, &dir.join("pass"), options.tickets, now).await?;
    let (measured, out) = tick(mailgate, &big.config, now)?;
    let queued_pings = queued(&out)?;
    let (idle, idle_out) = tick(mailgate, &big.config, now)?;
    anyhow::ensure!(
        queued(&idle_out)? == 0,
        "a second pass at the same time queued pings: {idle_out}"
    );

    let small = Db::create(mailgate, &dir.join("jumps"), 200, now).await?;
    let per_process = options.passes.div_ceil(2);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (mailgate, config) = (mailgate.to_path_buf(), small.config.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                for _ in 0..per_process {
                    // Anywhere from ten days back to thirty ahead: the clock jumps both ways.
                    let at = now + fastrand::i64(-10 * DAY..30 * DAY);
                    tick(&mailgate, &config, at)?;
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a pass runner panicked"))??;
    }
    let (pings, mails) = small.pings_and_mails().await?;
    Ok(SlaBenchReport {
        tickets: options.tickets,
        due: big.due,
        pass_secs: measured.wall.as_secs_f64(),
        pass_peak_rss_mb: Some(measured.peak_rss as f64 / 1e6),
        queued: queued_pings,
        idle_pass_secs: idle.wall.as_secs_f64(),
        idle_pass_peak_rss_mb: Some(idle.peak_rss as f64 / 1e6),
        jump_passes: per_process * 2,
        jump_pings: pings,
        jump_mails: mails,
        duplicates: mails - pings,
    })
}

/// A seeded database and the config file that names it.
struct Db {
    url: String,
    config: PathBuf,
    due: usize,
}

impl Db {
    async fn create(mailgate: &Path, dir: &Path, tickets: usize, now: i64) -> anyhow::Result<Db> {
        std::fs::create_dir_all(dir)?;
        let db = dir.join("sla.db");
        let _ = std::fs::remove_file(&db);
        let url = format!("sqlite://{}", db.display());
        let config = dir.join("mailgate.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = {}\n\n[tickets]\nprefix = \"SUP\"\n\
                 support_address = \"Support <support@example.test>\"\n\n\
                 [notify]\ntechnicians = [\"oncall@example.test\"]\n\n\
                 [sla]\nopen_update_every = \"24h\"\ncritical_update_every = \"2h\"\n\
                 pending_reminder_after = \"3d\"\nauto_close_pending_after = \"7d\"\n",
                toml::Value::String(url.clone())
            ),
        )?;
        let migrate = Command::new(mailgate)
            .arg("--config")
            .arg(&config)
            .arg("migrate")
            .output()
            .context("cannot run mailgate migrate")?;
        anyhow::ensure!(
            migrate.status.success(),
            "mailgate migrate: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );
        let due = seed(&url, tickets, now).await?;
        Ok(Db { url, config, due })
    }

    /// (SLA pings taken, SLA mails queued).
    async fn pings_and_mails(&self) -> anyhow::Result<(i64, i64)> {
        let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
        let pings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sla_pings")
            .fetch_one(&mut conn)
            .await?;
        let mails: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox \
             WHERE kind IN ('sla_reminder', 'pending_reminder', 'auto_close')",
        )
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        Ok((pings, mails))
    }
}

/// Seeds `n` tickets; returns how many are due at `now`.
async fn seed(url: &str, n: usize, now: i64) -> anyhow::Result<usize> {
    let mut conn = sqlx::SqliteConnection::connect(url).await?;
    let mut tx = conn.begin().await?;
    let mut due = 0;
    for i in 0..n {
        let id = i as i64 + 1;
        let is_due = i % 10 == 0;
        let status = match (i % 10, i % 20) {
            (0, 0) => "open",
            (0, _) => "pending",
            (1..=4, _) => "open",
            (5, _) => "new",
            (6..=8, _) => "pending",
            _ => "resolved",
        };
        let since = if is_due { now - 4 * DAY } else { now - HOUR };
        if is_due {
            due += 1;
        }
        let requester = format!("customer{id}@example.org");
        sqlx::query(
            "INSERT INTO tickets (id, subject, status, priority, requester, mailbox, created_at, \
             updated_at, last_customer_at, status_since) \
             VALUES (?1, ?2, ?3, 'normal', ?4, 'support', ?5, ?5, ?5, ?5)",
        )
        .bind(id)
        .bind(format!("Printer {id} jams"))
        .bind(status)
        .bind(&requester)
        .bind(since)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO participants (ticket_id, address, role) VALUES (?1, ?2, 'requester')",
        )
        .bind(id)
        .bind(&requester)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO messages (ticket_id, message_id, direction, classification, from_addr, \
             to_addrs, cc_addrs, subject, received_at, references_ids, body_text, reply_text, \
             source, raw_sha256) \
             VALUES (?1, ?2, 'inbound', 'plain', ?3, '[]', '[]', ?4, ?5, '[]', ?6, ?6, \
             'bench', '')",
        )
        .bind(id)
        .bind(format!("m{id}@example.org"))
        .bind(&requester)
        .bind(format!("Printer {id} jams"))
        .bind(since)
        .bind("Hello,\nthe printer jams again.\n")
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(due)
}

/// Runs `mailgate sla tick --now NOW --json`, measured; returns its stdout.
fn tick(mailgate: &Path, config: &Path, now: i64) -> anyhow::Result<(Measured, String)> {
    let dir = config.parent().unwrap_or(Path::new("."));
    let stdout = dir.join(format!("tick-{:x}.stdout", fastrand::u64(..)));
    let mut cmd = Command::new(mailgate);
    cmd.arg("--config")
        .arg(config)
        .args(["sla", "tick", "--json", "--now"])
        .arg(rfc3339(now))
        .env_remove("MAILGATE_DATABASE_URL")
        .env_remove("MAILGATE_CONFIG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout)?)
        .stderr(Stdio::null());
    let measured = run_measured(&mut cmd, TIMEOUT)?;
    anyhow::ensure!(
        measured.code == Some(0),
        "mailgate sla tick exited with {:?}",
        measured.code
    );
    let out = std::fs::read_to_string(&stdout)?;
    let _ = std::fs::remove_file(&stdout);
    Ok((measured, out))
}

fn queued(json: &str) -> anyhow::Result<usize> {
    let v: serde_json::Value = serde_json::from_str(json).context("sla tick --json")?;
    Ok(["reminders", "prompts", "closed"]
        .iter()
        .map(|k| v[k].as_array().map_or(0, Vec::len))
        .sum())
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}
