//! The command line (SPEC 9): a contract that scripts are written against. Data goes to
//! stdout (for people, or JSON with `--json`), logs to stderr. Exit status: 0 success,
//! 1 error, 2 bad usage (clap's own).

mod closed_stdout;
mod config_check;
mod decisions;
mod escalations;
mod import;
mod ingest;
mod outbox;
mod outgoing;
pub(crate) mod output;
mod quarantine;
mod run;
mod sla;
mod tickets;
mod values;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use closed_stdout::{exit_quietly_when_stdout_closes, is_broken_pipe};

use crate::config::Settings;
use crate::store::{Access, Durability, OpenReport, Store};

#[derive(Debug, Parser)]
#[command(
    name = "mailgate",
    version,
    about = "Email gateway for support desks",
    after_help = "Benchmarks (synthetic archives, throughput and peak memory) are a separate \
                  developer binary: `cargo run --release -p mailgate-bench -- --help`."
)]
pub struct Cli {
    /// Config file (else $MAILGATE_CONFIG, else ./mailgate.toml, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll every configured mailbox and send the outbox, until SIGINT/SIGTERM.
    ///
    /// One poller per [[mailboxes]] entry feeds the pipeline; the outbox sender delivers the
    /// notifications, replies and alerts waiting in the outbox through [smtp] (without [smtp]
    /// they wait there: `mailgate outbox list`).
    Run,
    /// Put one raw message through the pipeline.
    Ingest(ingest::IngestArgs),
    /// Import an mbox file, a Maildir or a folder of .eml files.
    Import(import::ImportArgs),
    /// Tickets: list and show them, reply to the customer, change status and priority.
    #[command(subcommand)]
    Tickets(tickets::TicketsCommand),
    /// The decision log, newest first: why each mail went where it went.
    Decisions(decisions::DecisionsArgs),
    /// Mail that could not be processed: list it, or put it through the pipeline again.
    #[command(subcommand)]
    Quarantine(quarantine::QuarantineCommand),
    /// Outgoing notifications: list them, or retry a failed or held one.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// The escalation gate: check a mail against the rules without storing it.
    #[command(subcommand)]
    Escalations(escalations::EscalationsCommand),
    /// SLA pings: run one pass (`sla tick`), or see what is due (`sla status`).
    #[command(subcommand)]
    Sla(sla::SlaCommand),
    /// Create the database if needed and apply its pending migrations, saying which.
    Migrate,
    /// Configuration: check the file, the secrets it names and the database URL.
    #[command(subcommand)]
    Config(config_check::ConfigCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(cmd) = &cli.command {
        return config_check::run(cmd, cli.config.as_deref());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    if let Command::Import(args) = cli.command {
        // Opens the database itself: a dry run creates none.
        return import::run(args, settings).await;
    }
    let (store, opened) = open_store(
        &settings.database_url,
        Durability::Full,
        access(&cli.command),
    )
    .await?;
    let result = match cli.command {
        Command::Run => run::run(settings, store.clone()).await,
        Command::Ingest(args) => ingest::run(args, settings, store.clone()).await,
        Command::Tickets(cmd) => tickets::run(cmd, &settings, &store).await,
        Command::Decisions(args) => decisions::run(args, &settings, &store).await,
        Command::Quarantine(cmd) => quarantine::run(cmd, settings, store.clone()).await,
        Command::Outbox(cmd) => outbox::run(cmd, &settings, &store).await,
        Command::Escalations(cmd) => escalations::run(cmd, &settings, &store).await,
        Command::Sla(cmd) => sla::run(cmd, &settings, &store).await,
        Command::Migrate => {
            report_migrate(&settings.database_url, &opened);
            Ok(())
        }
        Command::Config(_) | Command::Import(_) => Ok(()),
    };
    store.close().await;
    result
}

/// Opens the database at `url` as `access` says. The store's messages quote the URL: never
/// its password.
pub(crate) async fn open_store(
    url: &str,
    durability: Durability,
    access: Access,
) -> anyhow::Result<(Store, OpenReport)> {
    Store::open_as(url, durability, access).await.map_err(|e| {
        match crate::config::redact_url(url) {
            std::borrow::Cow::Owned(shown) => {
                anyhow::anyhow!("{}", format!("{e:#}").replace(url, &shown))
            }
            std::borrow::Cow::Borrowed(_) => e,
        }
    })
}

/// Commands that store mail (and `migrate`) may create the database; every other command
/// shows or changes what is stored, and a missing database is an error naming its path.
fn access(command: &Command) -> Access {
    match command {
        Command::Run | Command::Ingest(_) | Command::Import(_) | Command::Migrate => Access::Create,
        Command::Tickets(_)
        | Command::Decisions(_)
        | Command::Quarantine(_)
        | Command::Outbox(_)
        | Command::Escalations(_)
        | Command::Sla(_) => Access::Existing,
        // Does not open the configured database.
        Command::Config(_) => Access::Existing,
    }
}

/// `migrate`'s report, on stderr: whether the database was created, and each migration applied.
fn report_migrate(url: &str, opened: &OpenReport) {
    let shown = crate::config::redact_url(url);
    if opened.created {
        eprintln!("created database {shown}");
    }
    if opened.applied.is_empty() {
        eprintln!("database {shown} is up to date");
        return;
    }
    eprintln!("applied {} migration(s) to {shown}:", opened.applied.len());
    for (version, description) in &opened.applied {
        eprintln!("  {version:04} {description}");
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_argument_of_every_command_is_described() {
        let missing =
            mailgate_test_support::cli_help::undescribed_arguments(&Cli::command(), "mailgate");
        assert_eq!(missing, Vec::<String>::new());
    }
}
