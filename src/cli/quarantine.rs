//! `mailgate quarantine list [--all] [--json]` and `quarantine reprocess ID`: see what could
//! not be processed and why, and put it through the pipeline again (after a fix or a config
//! change). An entry is marked reprocessed once the pipeline takes it.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::ingest::{live_pipeline, print_outcome};
use super::output::{cut, print_json, safe, short_time, time};
use crate::config::Settings;
use crate::domain::{Action, Source};
use crate::import::oversized::Body;
use crate::import::reference;
use crate::pipeline::{Outcome, RawMessage, prepare_header_only};
use crate::store::{QuarantineRow, Store};

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
    /// Print the entries as a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReprocessArgs {
    /// The entry's number, as `quarantine list` shows it (#7 is 7).
    pub id: i64,
    /// Print the new decision as one JSON object.
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
    /// The mail's size as received; null when only known to be over the limit.
    size: Option<i64>,
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
                    "#{} {} {} {}{} from {} [{}] <{}>",
                    r.id,
                    short_time(r.created_at),
                    r.status,
                    r.size
                        .map_or_else(|| "size unknown".to_string(), |n| format!("{n} bytes")),
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
            // Back through the mailbox it came from, when that mailbox is still configured.
            let mailbox = settings
                .mailbox(&entry.mailbox)
                .is_ok()
                .then_some(entry.mailbox.as_str());
            let limit = settings.max_message_bytes;
            let mut pipeline = live_pipeline(store.clone(), settings.clone(), mailbox)?;
            let source = Source::Quarantine { id: entry.id };
            let outcome = if entry.header_only {
                // Kept by reference: the message is read again from where it is.
                let (at, body) = follow_reference(&entry, &raw, limit)?;
                match body {
                    Body::Whole(bytes) => {
                        pipeline
                            .process_message(RawMessage { source, bytes })
                            .await?
                    }
                    // Still over the limit: decided again by reference; the entry stays held.
                    Body::HeaderOnly { header, size } => {
                        let still = prepare_header_only(at, header, size, limit);
                        one(pipeline.process(vec![still], None).await?)?
                    }
                }
            } else {
                pipeline
                    .process_message(RawMessage { source, bytes: raw })
                    .await?
            };
            if outcome.decision.action != Action::Quarantine {
                store.mark_reprocessed(entry.id).await?;
            }
            print_outcome(&outcome, args.json)
        }
    }
}

/// The message a header-only entry refers to, read again (whole if it is now within `limit`),
/// and its reference; an error saying where the message is when it cannot be read.
fn follow_reference(
    entry: &QuarantineRow,
    header: &[u8],
    limit: usize,
) -> anyhow::Result<(Source, Body)> {
    let refused = |why: String| {
        anyhow::anyhow!(
            "quarantine entry #{} keeps only the header of a message over the size limit; \
             {why}",
            entry.id
        )
    };
    let at = reference::locate(&entry.source)
        .ok_or_else(|| refused(where_the_message_is(&entry.source, &entry.mailbox)))?;
    let body = reference::reread(&at, limit)
        .map_err(|e| refused(format!("{} cannot be read: {e}", safe(&entry.source))))?;
    let same = match &body {
        Some(Body::Whole(bytes)) => bytes.starts_with(header),
        Some(Body::HeaderOnly { header: now, .. }) => {
            now.starts_with(header) || header.starts_with(now)
        }
        None => false,
    };
    match body {
        Some(body) if same => Ok((at, body)),
        _ => Err(refused(format!(
            "{} no longer holds that message",
            safe(&entry.source)
        ))),
    }
}

fn one(mut outcomes: Vec<Outcome>) -> anyhow::Result<Outcome> {
    outcomes.pop().context("the pipeline returned no decision")
}

/// For a header-only entry: where the message itself is, and how to get it processed.
fn where_the_message_is(source: &str, mailbox: &str) -> String {
    if source.starts_with("imap:") {
        format!(
            "the message itself is in the quarantine folder of mailbox {mailbox:?}: raise \
             max_message_bytes, then move it back to the mailbox's folder and the poller will \
             take it"
        )
    } else if source == "stdin" {
        "it was read from standard input and not kept: raise limits.max_message_bytes and \
         ingest it again"
            .to_string()
    } else {
        format!(
            "the message itself is still at {}: raise limits.max_message_bytes and import (or \
             ingest) it again",
            super::output::safe(source)
        )
    }
}
