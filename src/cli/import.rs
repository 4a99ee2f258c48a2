//! `mailgate import PATH [--format] [--mailbox] [--archive] [--dry-run] [--json]`.
//!
//! Exit status: 0 when every message got a decision; 1 on an error, or when the path held no
//! mail at all; 130 when a signal stopped the run (the summary says where, and running the
//! same command again continues after it).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::decisions::PlannedDecision;
use super::ingest::mailbox_and_role;
use super::output::print_json;
use crate::config::Settings;
use crate::import::{Format, ImportReport, ImportRequest, import_listing};
use crate::pipeline::{Outcome, Pipeline, RunOptions};
use crate::store::{Access, Durability, Store};

/// The exit status of an import a signal stopped (128 + SIGINT, as shells report it).
const EXIT_STOPPED: i32 = 130;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An mbox file, a Maildir, a folder of .eml files, or one .eml file.
    pub path: PathBuf,
    /// The archive format (detected when omitted).
    #[arg(long, value_enum, ignore_case = true)]
    pub format: Option<Format>,
    /// The configured mailbox the mail counts as arriving at; default: support.
    #[arg(long, value_name = "NAME")]
    pub mailbox: Option<String>,
    /// Import as history: original dates kept, tickets closed, no notifications.
    #[arg(long)]
    pub archive: bool,
    /// List each message's decision, store nothing (and create no database).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as one JSON object (a dry run adds its `decisions`).
    #[arg(long)]
    pub json: bool,
}

/// Runs the import on its own database connection: a dry run must not create the database.
pub async fn run(args: ImportArgs, settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings.database_url, args.dry_run).await?;
    let result = import_with(&args, settings, &store).await;
    store.close().await;
    let report = result?;
    if report.interrupted {
        std::io::stdout().flush().ok();
        std::process::exit(EXIT_STOPPED);
    }
    if report.messages() == 0 && report.resumed.is_none() {
        anyhow::bail!("{}", nothing_found(&report));
    }
    if !report.balanced() {
        anyhow::bail!("some messages of {} got no decision", args.path.display());
    }
    Ok(())
}

/// The store an import writes to. A dry run on a database that does not exist yet decides
/// against an empty one in memory instead of creating the file.
async fn open_store(url: &str, dry_run: bool) -> anyhow::Result<Store> {
    let missing_file = matches!(
        crate::config::database_location(url),
        Ok(crate::config::DatabaseLocation::File(path)) if !path.exists()
    );
    let url = if dry_run && missing_file {
        "sqlite::memory:"
    } else {
        url
    };
    let (store, _) = super::open_store(url, Durability::Import, Access::Create).await?;
    Ok(store)
}

async fn import_with(
    args: &ImportArgs,
    settings: Settings,
    store: &Store,
) -> anyhow::Result<ImportReport> {
    let (mailbox, role) = mailbox_and_role(&settings, args.mailbox.as_deref())?;
    let batch_size = settings.import_batch_size;
    let mut listing = args.dry_run.then(|| Listing::new(args.json, &mailbox));
    let mut pipeline = Pipeline::new(
        store.clone(),
        settings,
        RunOptions {
            archive: args.archive,
            dry_run: args.dry_run,
            ..RunOptions::import(mailbox, role)
        },
    );
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    let signals = tokio::spawn(async move {
        crate::shutdown::wait_for_signal().await;
        tracing::warn!("stopping after the current batch");
        on_signal.cancel();
    });
    let started = std::time::Instant::now();
    let report = import_listing(
        &mut pipeline,
        store,
        ImportRequest {
            path: args.path.clone(),
            format: args.format,
            batch_size,
            progress: !args.json,
        },
        shutdown,
        |outcomes| {
            if let Some(listing) = &mut listing {
                listing.add(outcomes);
            }
        },
    )
    .await;
    signals.abort();
    let report = report?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        messages = report.read,
        seconds = format!("{secs:.2}"),
        per_second = format!("{:.0}", report.read as f64 / secs.max(1e-9)),
        "import finished"
    );
    match listing {
        Some(listing) => listing.finish(&report)?,
        None if args.json => print_json(&report)?,
        None => write!(std::io::stdout(), "{report}")?,
    }
    Ok(report)
}

/// A dry run's decisions, written as they are taken (memory does not grow with the archive):
/// three lines each for people, or the `decisions` array of the JSON object, whose counts
/// follow once the run is over.
struct Listing {
    json: bool,
    mailbox: String,
    listed: u64,
    /// The first write error (a closed stdout): nothing more is written.
    failed: Option<std::io::Error>,
}

impl Listing {
    fn new(json: bool, mailbox: &str) -> Self {
        Listing {
            json,
            mailbox: mailbox.to_string(),
            listed: 0,
            failed: None,
        }
    }

    fn add(&mut self, outcomes: &[Outcome]) {
        if self.failed.is_some() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let result = outcomes.iter().try_for_each(|o| {
            self.listed += 1;
            let decision = PlannedDecision::new(self.listed, &self.mailbox, o);
            if !self.json {
                return decision.write_to(&mut out);
            }
            let opening = if self.listed == 1 {
                "{\"decisions\":[\n"
            } else {
                ",\n"
            };
            let text = serde_json::to_string(&decision).map_err(std::io::Error::other)?;
            write!(out, "{opening}{text}")
        });
        self.failed = result.err();
    }

    fn finish(self, report: &ImportReport) -> anyhow::Result<()> {
        if let Some(e) = self.failed {
            return Err(e).context("writing the dry run's decisions");
        }
        let mut out = std::io::stdout().lock();
        if !self.json {
            write!(out, "{report}")?;
            return Ok(());
        }
        // The report's fields after the decisions, in the same object.
        let fields = serde_json::to_string_pretty(report)?;
        let fields = fields.strip_prefix('{').unwrap_or(&fields);
        let opening = if self.listed == 0 {
            "{\"decisions\":["
        } else {
            "\n"
        };
        writeln!(out, "{opening}],{fields}")?;
        Ok(())
    }
}

/// Why an import that found no message at all fails, with what it passed over.
fn nothing_found(report: &ImportReport) -> String {
    let mut text = format!("no mail found in {}", report.path);
    if report.errors > 0 {
        text.push_str(&format!("; {} could not be read", report.errors));
    }
    if report.skipped > 0 {
        let shown: Vec<String> = report
            .skips
            .iter()
            .take(3)
            .map(|s| format!("{} ({})", s.position, s.reason))
            .collect();
        let more = if report.skipped > shown.len() as u64 {
            ", …"
        } else {
            ""
        };
        text.push_str(&format!(
            "; skipped {}: {}{more}",
            report.skipped,
            shown.join(", ")
        ));
    }
    text
}
