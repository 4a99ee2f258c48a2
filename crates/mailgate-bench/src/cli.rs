//! The command line of `mailgate-bench`: performance is measured by benchmarks, not timed tests.
//!
//! - `generate FILE [--messages N | --size-mb M | --archive-size S] [--message-size S]`: a
//!   synthetic support archive (mbox).
//! - `import [--messages N | --size-mb M | --archive-size S] [--message-size S] [--archive F]`:
//!   generate an archive (or take one), then measure mail-parser alone on it (the ceiling, one
//!   thread and every core), and `mailgate import` of it into a fresh SQLite database and again
//!   (the real binary, process start included: wall time and peak RSS); see [`crate::import`].
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
use mailgate_test_support::{ArchiveSpec, ArchiveStats, write_mbox, write_mbox_sized};
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
    /// Measure the mail-parser ceiling, then `mailgate import` and re-import: speed, peak RSS.
    Import(ImportBenchArgs),
    /// Measure the IMAP poller against the test mail stack: backlog drain and IDLE latency.
    Imap(ImapBenchArgs),
    /// Measure the outbox sender's drain rate to the test mail stack's Postfix.
    Outbox(OutboxBenchArgs),
    /// Measure `mailgate sla tick` over a seeded database, and count duplicate pings over
    /// passes by two processes with the clock jumping.
    Sla(SlaBenchArgs),
}

#[derive(Debug, Args)]
pub struct SlaBenchArgs {
    /// Tickets in the database of the measured pass (a tenth of them due).
    #[arg(long, default_value_t = 100_000)]
    pub tickets: usize,
    /// Passes with random clock jumps, split between two processes running at once.
    #[arg(long, default_value_t = 1000)]
    pub passes: usize,
    /// The mailgate binary (default: the one next to this benchmark).
    #[arg(long, value_name = "PATH")]
    pub mailgate: Option<PathBuf>,
    /// Work directory for the databases (default: a temporary folder, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
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
    #[arg(long, conflicts_with = "archive_size")]
    pub size_mb: Option<u64>,
    /// Approximate archive size, e.g. 216M or 1G (decimal units; KiB, MiB, GiB binary;
    /// overrides --messages).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub archive_size: Option<u64>,
    /// Average size of a message, e.g. 10.8K or 100K (each within ±25% of it); default: the
    /// realistic mix of 2-20 KB messages (~6.6 KB on average).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub message_size: Option<u64>,
    /// Seed of the generator: the same seed writes the same archive.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl SizeArgs {
    /// The archive size asked for, if any.
    fn archive_bytes(&self) -> Option<u64> {
        self.archive_size
            .or(self.size_mb.map(|mb| mb.saturating_mul(1_000_000)))
    }

    fn spec(&self) -> ArchiveSpec {
        let spec = ArchiveSpec::new(self.messages, self.seed);
        match self.message_size {
            Some(size) => spec.with_message_size(usize::try_from(size).unwrap_or(usize::MAX)),
            None => spec,
        }
    }
}

/// `10800`, `10.8K`, `216MB`, `1G`, `4MiB`: bytes (K, M, G decimal; Ki, Mi, Gi binary).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 10800, 10.8K, 216M or 1G"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let scale = match unit.trim_end_matches('b') {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "ki" => 1024.0,
        "mi" => 1024.0 * 1024.0,
        "gi" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (K, M, G, KiB, MiB, GiB)"
            ));
        }
    };
    let bytes = (number * scale).round();
    if !(1.0..=1e15).contains(&bytes) {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

#[derive(Debug, Args)]
pub struct ImportBenchArgs {
    #[command(flatten)]
    pub size: SizeArgs,
    /// Measure this existing mbox instead of generating one (it is not removed).
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,
    /// The `mailgate` binary to run (default: the one next to this binary).
    #[arg(long, value_name = "PATH")]
    pub mailgate: Option<PathBuf>,
    /// Work directory (default: a fresh folder under the system temp dir, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Skip the ceiling and the re-import.
    #[arg(long)]
    pub import_only: bool,
    /// Messages per import transaction at most (`[import] batch_size`; default: its default).
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
                "wrote {}: {} messages, {:.1} MB (average {:.1} KB), {} replies, {} attachments",
                args.file.display(),
                stats.messages,
                stats.bytes as f64 / 1e6,
                stats.bytes as f64 / 1e3 / stats.messages.max(1) as f64,
                stats.replies,
                stats.attachments
            );
            Ok(())
        }
        BenchCommand::Import(args) => crate::import::run(args).await,
        BenchCommand::Imap(args) => imap_bench(args).await,
        BenchCommand::Outbox(args) => outbox_bench(args).await,
        BenchCommand::Sla(args) => sla_bench(args).await,
    }
}

async fn sla_bench(args: SlaBenchArgs) -> anyhow::Result<()> {
    let report = crate::sla::run(crate::sla::SlaBenchOptions {
        tickets: args.tickets,
        passes: args.passes,
        mailgate: args.mailgate,
        dir: args.dir,
    })
    .await?;
    if args.json {
        print_json(&report)?;
    } else {
        report.print_table();
    }
    anyhow::ensure!(
        report.duplicates == 0,
        "{} duplicate SLA mails",
        report.duplicates
    );
    Ok(())
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
    let stats = match size.archive_bytes() {
        Some(bytes) => write_mbox_sized(&size.spec(), bytes, &mut w)?,
        None => write_mbox(&size.spec(), &mut w)?,
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
    fn sizes_read_with_their_units() {
        assert_eq!(parse_size("10800"), Ok(10_800));
        assert_eq!(parse_size("10.8K"), Ok(10_800));
        assert_eq!(parse_size("100kb"), Ok(100_000));
        assert_eq!(parse_size("216M"), Ok(216_000_000));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("4MiB"), Ok(4 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn every_argument_of_every_command_is_described() {
        let missing = mailgate_test_support::cli_help::undescribed_arguments(
            &Cli::command(),
            "mailgate-bench",
        );
        assert_eq!(missing, Vec::<String>::new());
    }
}
