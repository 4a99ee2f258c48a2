//! `mailgate quarantine list [--all] [--json]` and `quarantine reprocess ID`: see what could
//! not be processed and why, and put it through the pipeline again (after a fix or a config
//! change). An entry is marked reprocessed once the pipeline takes it.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::ingest::{live_pipeline, print_outcome};
use super::output::{cut, print_json, safe, short_time, time};
use crate::config::Settings;
use crate::domain::{Action, Source};
use crate::pipeline::RawMessage;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Quarantined mail, newest first (held entries unless --all).
    List(ListArgs),
    /// Run a quarantined mail through the pipeline again.
    Reprocess(ReprocessArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include entries already reprocessed.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReprocessArgs {
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct EntryJson {
    id: i64,
    created_at: String,
    source: String,
    mailbox: String,
    message_id: Option<String>,
    reason: String,
    status: String,
    size: i64,
    header_only: bool,
}

pub async fn run(cmd: QuarantineCommand, settings: Settings, store: Store) -> anyhow::Result<()> {
    match cmd {
        QuarantineCommand::List(args) => {
            let rows = store.quarantine_list(args.all).await?;
            if args.json {
                let rows: Vec<EntryJson> = rows
                    .into_iter()
                    .map(|r| EntryJson {
                        id: r.id,
                        created_at: time(r.created_at),
                        source: r.source,
                        mailbox: r.mailbox,
                        message_id: r.message_id,
                        reason: r.reason,
                        status: r.status,
                        size: r.size,
                        header_only: r.header_only,
                    })
                    .collect();
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("The quarantine is empty.");
            }
            for r in rows {
                println!(
                    "#{} {} {} {} bytes{} from {} [{}] <{}>",
                    r.id,
                    short_time(r.created_at),
                    r.status,
                    r.size,
                    if r.header_only { " (header only)" } else { "" },
                    safe(&r.source),
                    safe(&r.mailbox),
                    cut(&safe(r.message_id.as_deref().unwrap_or("-")), 60)
                );
                println!("    {}", safe(&r.reason));
            }
            Ok(())
        }
        QuarantineCommand::Reprocess(args) => {
            let Some((entry, raw)) = store.quarantined_message(args.id).await? else {
                anyhow::bail!("no quarantine entry #{}", args.id);
            };
            if entry.header_only {
                anyhow::bail!(
                    "quarantine entry #{} keeps only the header of a message over the size \
                     limit; the message itself is in the quarantine folder of mailbox {:?}: \
                     raise max_message_bytes, then move it back to the mailbox's folder and \
                     the poller will take it",
                    entry.id,
                    entry.mailbox
                );
            }
            // Back through the mailbox it came from, when that mailbox is still configured.
            let mailbox = settings
                .mailbox(&entry.mailbox)
                .is_ok()
                .then_some(entry.mailbox.as_str());
            let mut pipeline = live_pipeline(store.clone(), settings.clone(), mailbox)?;
            let source = Source::Quarantine { id: entry.id };
            let outcome = pipeline
                .process_message(RawMessage { source, bytes: raw })
                .await?;
            if outcome.decision.action != Action::Quarantine {
                store.mark_reprocessed(entry.id).await?;
            }
            print_outcome(&outcome, args.json)
        }
    }
}
