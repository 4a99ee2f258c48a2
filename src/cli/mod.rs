//! The command line (SPEC 9): a contract that scripts are written against. Data goes to
//! stdout (for people, or JSON with `--json`), logs to stderr. Exit status: 0 success,
//! 1 error, 2 bad usage (clap's own).

mod bench;
mod closed_stdout;
mod config_check;
mod decisions;
mod escalations;
mod import;
mod ingest;
mod outbox;
pub(crate) mod output;
mod quarantine;
mod run;
mod tickets;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use closed_stdout::{exit_quietly_when_stdout_closes, is_broken_pipe};

use crate::config::Settings;
use crate::store::{Durability, Store};

#[derive(Debug, Parser)]
#[command(name = "mailgate", version, about = "Email gateway for support desks")]
pub struct Cli {
    /// Config file (else $MAILGATE_CONFIG, else ./mailgate.toml, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll every configured mailbox and feed the pipeline, until SIGINT/SIGTERM.
    Run,
    /// Put one raw message through the pipeline.
    Ingest(ingest::IngestArgs),
    /// Import an mbox file, a Maildir or a folder of .eml files.
    Import(import::ImportArgs),
    /// List and show tickets.
    #[command(subcommand)]
    Tickets(tickets::TicketsCommand),
    /// The decision log, newest first: why each mail went where it went.
    Decisions(decisions::DecisionsArgs),
    /// Mail that could not be processed: list it, or put it through the pipeline again.
    #[command(subcommand)]
    Quarantine(quarantine::QuarantineCommand),
    /// Outgoing notifications: list them, or retry a failed one.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// The escalation gate: check a mail against the rules without storing it.
    #[command(subcommand)]
    Escalations(escalations::EscalationsCommand),
    /// Apply database migrations.
    Migrate,
    /// Configuration commands.
    #[command(subcommand)]
    Config(config_check::ConfigCommand),
    /// Benchmarks: synthetic archives, throughput and peak memory.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(cmd) = &cli.command {
        return config_check::run(cmd, cli.config.as_deref());
    }
    if let Command::Bench(cmd) = cli.command {
        return bench::run(cmd).await;
    }
    let settings = Settings::load(cli.config.as_deref())?;
    let durability = match cli.command {
        Command::Import(_) => Durability::Import,
        _ => Durability::Full,
    };
    let url = &settings.database_url;
    let store = Store::open_with(url, durability)
        .await
        // The store's messages quote the URL: never its password.
        .map_err(|e| match crate::config::redact_url(url) {
            std::borrow::Cow::Owned(shown) => {
                anyhow::anyhow!("{}", format!("{e:#}").replace(url.as_str(), &shown))
            }
            std::borrow::Cow::Borrowed(_) => e,
        })?;
    let result = match cli.command {
        Command::Run => run::run(settings, store.clone()).await,
        Command::Ingest(args) => ingest::run(args, settings, store.clone()).await,
        Command::Import(args) => import::run(args, settings, store.clone()).await,
        Command::Tickets(cmd) => tickets::run(cmd, &settings, &store).await,
        Command::Decisions(args) => decisions::run(args, &settings, &store).await,
        Command::Quarantine(cmd) => quarantine::run(cmd, settings, store.clone()).await,
        Command::Outbox(cmd) => outbox::run(cmd, &settings, &store).await,
        Command::Escalations(cmd) => escalations::run(cmd, &settings, &store).await,
        Command::Migrate => {
            eprintln!(
                "database {} is up to date",
                crate::config::redact_url(&settings.database_url)
            );
            Ok(())
        }
        Command::Config(_) | Command::Bench(_) => Ok(()),
    };
    store.close().await;
    result
}
