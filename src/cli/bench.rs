//! `mailgate bench`: performance is measured by benchmarks, not timed tests.
//!
//! - `bench generate FILE [--messages N | --size-mb M]`: a synthetic support archive (mbox).
//! - `bench import [--messages N | --size-mb M]`: generate an archive, then measure a
//!   parse-only pass (the ceiling), a first import into a fresh SQLite database and a
//!   re-import of the same archive; prints messages/s, MB/s and peak RSS of each phase.
//! - `bench imap [--messages N] [--latency-mails M]`: the IMAP poller against the test mail
//!   stack: drain of an APPENDed backlog against a fetch-only ceiling, and SMTP-to-commit
//!   latency with IDLE (see [`crate::bench::imap`]).
//! - `bench outbox [--messages N] [--pool-size P]`: the outbox sender's drain rate to the test
//!   mail stack's Postfix (see [`crate::bench::outbox`]).

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::bench::imap::ImapBenchOptions;
use crate::bench::{ArchiveSpec, ArchiveStats, memory, write_mbox, write_mbox_of_size};
use crate::config::{Role, Settings};
use crate::import::{Format, ImportReport, ImportRequest, import, open};
use crate::pipeline::{Content, Pipeline, RawMessage, RunOptions, prepare};
use crate::store::{Durability, Store};

use super::output::print_json;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a synthetic support archive (mbox).
    Generate(GenerateArgs),
    /// Measure parse-only, import and re-import throughput and peak memory.
    Import(ImportBenchArgs),
    /// Measure the IMAP poller against the test mail stack: backlog drain and IDLE latency.
    Imap(ImapBenchArgs),
    /// Measure the outbox sender's drain rate to the test mail stack's Postfix.
    Outbox(OutboxBenchArgs),
}

#[derive(Debug, Args)]
pub struct OutboxBenchArgs {
    /// The test mail stack's state directory.
    #[arg(
        long,
        env = "MAILSTACK_STATE_DIR",
        default_value = ".state/mailstack",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,
    /// Mails enqueued, then drained.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// SMTP connections (mails in flight).
    #[arg(long, default_value_t = crate::config::DEFAULT_SMTP_POOL_SIZE)]
    pub pool_size: u32,
    /// The stack's script (default: scripts/mailstack.sh here or in the source tree).
    #[arg(long, value_name = "PATH")]
    pub mailstack: Option<PathBuf>,
    /// Work directory for the database (default: a temporary folder, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The mbox file to write.
    pub file: PathBuf,
    #[command(flatten)]
    pub size: SizeArgs,
}

#[derive(Debug, Args)]
pub struct SizeArgs {
    /// Number of messages.
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// Approximate archive size in MB (overrides --messages).
    #[arg(long)]
    pub size_mb: Option<u64>,
    /// Seed of the generator: the same seed writes the same archive.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ImportBenchArgs {
    #[command(flatten)]
    pub size: SizeArgs,
    /// Work directory (default: a fresh folder under the system temp dir, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Skip the parse-only and re-import phases.
    #[arg(long)]
    pub import_only: bool,
    /// Messages per import transaction (default: the configured import.batch_size).
    #[arg(long)]
    pub batch_size: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ImapBenchArgs {
    /// The test mail stack's state directory (ports, CA and password in its env file).
    #[arg(
        long,
        env = "MAILSTACK_STATE_DIR",
        default_value = ".state/mailstack",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,
    /// Messages in the backlog the poller drains.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Seed of the synthetic backlog (as `bench generate`).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Messages per poller batch (one fetch, one transaction); the fetch-only pass uses it too.
    #[arg(long, default_value_t = crate::config::DEFAULT_IMAP_BATCH)]
    pub batch_size: usize,
    /// Fetch-only passes over the backlog; the fastest is the ceiling.
    #[arg(long, default_value_t = 2)]
    pub fetch_passes: usize,
    /// Mails sent over SMTP, one at a time, for the latency figures.
    #[arg(long, default_value_t = 200)]
    pub latency_mails: usize,
    /// Pause between two latency mails, in milliseconds.
    #[arg(long, default_value_t = 10, value_name = "MS")]
    pub latency_interval_ms: u64,
    /// Only the latency benchmark.
    #[arg(long, conflicts_with = "skip_latency")]
    pub skip_drain: bool,
    /// Only the drain benchmark.
    #[arg(long)]
    pub skip_latency: bool,
    /// Run as this existing user of the stack (its INBOX must be empty) instead of a fresh
    /// one created with `mailstack.sh add-user`.
    #[arg(long, value_name = "ADDRESS")]
    pub user: Option<String>,
    /// The stack's script (default: scripts/mailstack.sh here or in the source tree).
    #[arg(long, value_name = "PATH")]
    pub mailstack: Option<PathBuf>,
    /// Work directory for the database (default: a fresh folder under the system temp dir,
    /// removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the work directory and the benchmark's mail on the server.
    #[arg(long)]
    pub keep: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Generate(args) => {
            let stats = generate(&args.file, &args.size)?;
            println!(
                "wrote {}: {} messages, {:.1} MB, {} replies, {} attachments",
                args.file.display(),
                stats.messages,
                stats.bytes as f64 / 1e6,
                stats.replies,
                stats.attachments
            );
            Ok(())
        }
        BenchCommand::Import(args) => import_bench(args).await,
        BenchCommand::Imap(args) => imap_bench(args).await,
        BenchCommand::Outbox(args) => outbox_bench(args).await,
    }
}

async fn outbox_bench(args: OutboxBenchArgs) -> anyhow::Result<()> {
    let report = crate::bench::outbox::run(crate::bench::outbox::OutboxBenchOptions {
        state_dir: args.state_dir,
        mailstack_script: args.mailstack,
        messages: args.messages,
        pool_size: args.pool_size,
        dir: args.dir,
    })
    .await?;
    if args.json {
        print_json(&report)?;
    } else {
        report.print_table();
    }
    if report.not_sent > 0 {
        anyhow::bail!(
            "{} of {} mails were not sent",
            report.not_sent,
            report.messages
        );
    }
    Ok(())
}

async fn imap_bench(args: ImapBenchArgs) -> anyhow::Result<()> {
    let json = args.json;
    let report = crate::bench::imap::run(ImapBenchOptions {
        state_dir: args.state_dir,
        mailstack_script: args.mailstack,
        user: args.user,
        messages: args.messages,
        seed: args.seed,
        batch_size: args.batch_size,
        fetch_passes: args.fetch_passes,
        latency_mails: args.latency_mails,
        latency_interval: Duration::from_millis(args.latency_interval_ms),
        skip_drain: args.skip_drain,
        skip_latency: args.skip_latency,
        dir: args.dir,
        keep: args.keep,
    })
    .await?;
    if json {
        print_json(&report)?;
    } else {
        report.print_table();
    }
    match report.problems.len() {
        0 => Ok(()),
        n => anyhow::bail!(
            "{n} correctness check(s) failed: {}",
            report.problems.join("; ")
        ),
    }
}

fn generate(file: &Path, size: &SizeArgs) -> anyhow::Result<ArchiveStats> {
    let f =
        std::fs::File::create(file).with_context(|| format!("cannot create {}", file.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let stats = match size.size_mb {
        Some(mb) => write_mbox_of_size(mb * 1_000_000, size.seed, &mut w)?,
        None => write_mbox(&ArchiveSpec::new(size.messages, size.seed), &mut w)?,
    };
    std::io::Write::flush(&mut w)?;
    Ok(stats)
}

struct Phase {
    name: &'static str,
    messages: u64,
    bytes: u64,
    secs: f64,
    peak_rss: Option<u64>,
}

impl Phase {
    fn print(&self) {
        let per_sec = self.messages as f64 / self.secs.max(1e-9);
        let mb_s = self.bytes as f64 / 1e6 / self.secs.max(1e-9);
        let rss = self
            .peak_rss
            .map(|b| format!("{:.1} MB", b as f64 / 1_048_576.0))
            .unwrap_or_else(|| "n/a".into());
        println!(
            "{:<12} {:>8} msgs {:>8.2} s {:>10.0} msg/s {:>8.1} MB/s   peak RSS {rss}",
            self.name, self.messages, self.secs, per_sec, mb_s
        );
    }
}

async fn import_bench(args: ImportBenchArgs) -> anyhow::Result<()> {
    let (dir, temporary) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mailgate-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let archive = dir.join("archive.mbox");
    let started = Instant::now();
    let stats = generate(&archive, &args.size)?;
    println!(
        "archive: {} messages, {:.1} MB ({} replies, {} attachments), generated in {:.1} s",
        stats.messages,
        stats.bytes as f64 / 1e6,
        stats.replies,
        stats.attachments,
        started.elapsed().as_secs_f64()
    );
    println!(
        "threads: {} (rayon), SQLite WAL, import durability (synchronous=NORMAL)",
        rayon::current_num_threads()
    );

    let mut phases = Vec::new();
    if !args.import_only {
        phases.push(parse_only(&archive, stats.bytes)?);
        phases[0].print();
    }
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let url = format!("sqlite://{}", db.display());
    let (first, report) =
        import_phase("import", &archive, &url, stats.bytes, args.batch_size).await?;
    first.print();
    let ticket_count = report.created;
    phases.push(first);
    if !args.import_only {
        let (again, report2) =
            import_phase("re-import", &archive, &url, stats.bytes, args.batch_size).await?;
        again.print();
        println!(
            "re-import: {} new tickets, {} duplicates of {} read",
            report2.created, report2.duplicates, report2.read
        );
        phases.push(again);
    }
    println!(
        "first import: {} read, {} tickets created, {} threaded, {} ignored, {} quarantined",
        report.read, ticket_count, report.threaded, report.ignored, report.quarantined
    );
    if let [parse, import, reimport] = &phases[..] {
        let ceiling = parse.messages as f64 / parse.secs;
        let rate = import.messages as f64 / import.secs;
        println!(
            "import = {:.0}% of the parse-only ceiling; re-import {:.1}x faster than the first import",
            100.0 * rate / ceiling,
            import.secs / reimport.secs
        );
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The ceiling: read, hash and parse every message exactly as import does, store nothing.
fn parse_only(archive: &Path, bytes: u64) -> anyhow::Result<Phase> {
    memory::reset_peak_rss();
    let started = Instant::now();
    let mut items = open(archive, Format::Mbox, usize::MAX)?;
    let mut messages = 0u64;
    let mut parsed = 0u64;
    loop {
        let batch: Vec<RawMessage> = items
            .by_ref()
            .take(1000)
            .filter_map(Result::ok)
            .map(|i| RawMessage {
                source: i.source,
                bytes: i.bytes,
            })
            .collect();
        if batch.is_empty() {
            break;
        }
        messages += batch.len() as u64;
        parsed += batch
            .into_par_iter()
            .map(|raw| {
                u64::from(matches!(
                    prepare(raw, usize::MAX).content,
                    Content::Parsed(_)
                ))
            })
            .sum::<u64>();
    }
    if parsed != messages {
        tracing::warn!(parsed, messages, "some generated messages did not parse");
    }
    Ok(Phase {
        name: "parse-only",
        messages,
        bytes,
        secs: started.elapsed().as_secs_f64(),
        peak_rss: memory::peak_rss_bytes(),
    })
}

async fn import_phase(
    name: &'static str,
    archive: &Path,
    url: &str,
    bytes: u64,
    batch_size: Option<usize>,
) -> anyhow::Result<(Phase, ImportReport)> {
    let mut settings = Settings::from_toml("", "bench")?;
    settings.database_url = url.to_string();
    if let Some(n) = batch_size {
        settings.import_batch_size = n.max(1);
    }
    let store = Store::open_with(url, Durability::Import).await?;
    memory::reset_peak_rss();
    let started = Instant::now();
    let mut pipeline = Pipeline::new(
        store.clone(),
        settings.clone(),
        RunOptions::import("support", Role::Support),
    );
    let report = import(
        &mut pipeline,
        &store,
        ImportRequest {
            path: archive.to_path_buf(),
            format: Some(Format::Mbox),
            batch_size: settings.import_batch_size,
            progress: false,
        },
        CancellationToken::new(),
    )
    .await?;
    // Closing checkpoints the WAL into the database file: part of the cost of an import.
    let closing = Instant::now();
    store.close().await;
    let secs = started.elapsed().as_secs_f64();
    tracing::debug!(
        phase = name,
        close_ms = closing.elapsed().as_millis() as u64,
        "database closed"
    );
    Ok((
        Phase {
            name,
            messages: report.read,
            bytes,
            secs,
            peak_rss: memory::peak_rss_bytes(),
        },
        report,
    ))
}
