//! The command line of `mailgate-bench`: performance is measured by benchmarks, not timed tests.
//!
//! - `generate FILE [--messages N | --size-mb M]`: a synthetic support archive (mbox).
//! - `import [--messages N | --size-mb M]`: generate an archive, then measure a
//!   parse-only pass (the ceiling), a first import into a fresh SQLite database and a
//!   re-import of the same archive; prints messages/s, MB/s and peak RSS of each phase.
//! - `imap [--messages N] [--latency-mails M]`: the IMAP poller against the test mail
//!   stack: drain of an APPENDed backlog against a fetch-only ceiling, and SMTP-to-commit
//!   latency with IDLE (see [`crate::imap`]).
//! - `outbox [--messages N] [--pool-size P]`: the outbox sender's drain rate to the test
//!   mail stack's Postfix (see [`crate::outbox`]).

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use mailgate_test_support::{ArchiveSpec, ArchiveStats, write_mbox, write_mbox_of_size};
use serde::Serialize;

use crate::imap::ImapBenchOptions;

/// `mailgate-bench`: benchmarks of mailgate (synthetic archives, throughput, peak memory).
#[derive(Debug, Parser)]
#[command(
    name = "mailgate-bench",
    version,
    about = "Benchmarks of mailgate: synthetic archives, throughput and peak memory"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: BenchCommand,
}

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

/// Which test mail stack a benchmark runs against.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The test mail stack's state directory (ports, CA and password in its env file).
    #[arg(
        long,
        env = "MAILSTACK_STATE_DIR",
        default_value = ".state/mailstack",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,
    /// The stack's script (default: scripts/mailstack.sh here or in the source tree).
    #[arg(long, value_name = "PATH")]
    pub mailstack: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OutboxBenchArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Mails enqueued, then drained.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// SMTP connections (mails in flight).
    #[arg(long, default_value_t = mailgate::config::DEFAULT_SMTP_POOL_SIZE)]
    pub pool_size: u32,
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
    #[command(flatten)]
    pub stack: StackArgs,
    /// Messages in the backlog the poller drains.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Seed of the synthetic backlog (as `generate`).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Messages per poller batch (one fetch, one transaction); the fetch-only pass uses it too.
    #[arg(long, default_value_t = mailgate::config::DEFAULT_IMAP_BATCH)]
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
        BenchCommand::Import(args) => crate::import::run(args).await,
        BenchCommand::Imap(args) => imap_bench(args).await,
        BenchCommand::Outbox(args) => outbox_bench(args).await,
    }
}

async fn outbox_bench(args: OutboxBenchArgs) -> anyhow::Result<()> {
    let report = crate::outbox::run(crate::outbox::OutboxBenchOptions {
        state_dir: args.stack.state_dir,
        mailstack_script: args.stack.mailstack,
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
    let report = crate::imap::run(ImapBenchOptions {
        state_dir: args.stack.state_dir,
        mailstack_script: args.stack.mailstack,
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

pub fn generate(file: &Path, size: &SizeArgs) -> anyhow::Result<ArchiveStats> {
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

fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_argument_of_every_command_is_described() {
        let missing = mailgate_test_support::cli_help::undescribed_arguments(
            &Cli::command(),
            "mailgate-bench",
        );
        assert_eq!(missing, Vec::<String>::new());
    }
}
