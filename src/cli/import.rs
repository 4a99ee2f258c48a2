//! `mailgate import PATH [--format] [--mailbox] [--archive] [--dry-run] [--json]`.

use std::path::PathBuf;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::ingest::mailbox_and_role;
use super::output::print_json;
use crate::config::Settings;
use crate::import::{Format, ImportRequest, import};
use crate::pipeline::{Pipeline, RunOptions};
use crate::store::Store;

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
    /// Decide every message and report, but store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: ImportArgs, settings: Settings, store: Store) -> anyhow::Result<()> {
    let (mailbox, role) = mailbox_and_role(&settings, args.mailbox.as_deref())?;
    let batch_size = settings.import_batch_size;
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
    let report = import(
        &mut pipeline,
        &store,
        ImportRequest {
            path: args.path.clone(),
            format: args.format,
            batch_size,
            progress: !args.json,
        },
        shutdown,
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
    if args.json {
        print_json(&report)?;
    } else {
        print!("{report}");
    }
    if !report.balanced() {
        anyhow::bail!("some messages of {} got no decision", args.path.display());
    }
    Ok(())
}
