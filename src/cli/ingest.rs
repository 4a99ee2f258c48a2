//! `mailgate ingest [FILE|-] [--mailbox NAME] [--json]`: one raw message through the pipeline.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::output::{print_json, safe};
use crate::config::{Role, Settings};
use crate::domain::Source;
use crate::import::oversized::{self, Body};
use crate::pipeline::{Outcome, Pipeline, RawMessage, RunOptions, prepare_header_only};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The message file, or - (the default) for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// The configured mailbox it arrived at (its role decides escalation); default: support.
    #[arg(long, value_name = "NAME")]
    pub mailbox: Option<String>,
    /// Print the decision as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct IngestJson<'a> {
    message_id: &'a str,
    decision: &'a str,
    rule: &'a str,
    reason: &'a str,
    ticket: Option<String>,
    classification: &'a str,
    source: &'a str,
}

pub async fn run(args: IngestArgs, settings: Settings, store: Store) -> anyhow::Result<()> {
    // A message over the limit is never read whole: only its header (stdin: at most one byte
    // past the limit, then its header).
    let limit = settings.max_message_bytes;
    let (source, body) = match args.file.as_deref() {
        None => (Source::Stdin, read_stdin(limit)?),
        Some(p) if p.as_os_str() == "-" => (Source::Stdin, read_stdin(limit)?),
        Some(p) => (
            Source::File {
                path: p.display().to_string(),
                index: 1,
            },
            oversized::read_file(p, limit)
                .with_context(|| format!("cannot read {}", p.display()))?,
        ),
    };
    let mut pipeline = live_pipeline(store, settings, args.mailbox.as_deref())?;
    let outcome = match body {
        Body::Whole(bytes) => {
            pipeline
                .process_message(RawMessage { source, bytes })
                .await?
        }
        Body::HeaderOnly { header, size } => pipeline
            .process(vec![prepare_header_only(source, header, size, limit)], None)
            .await?
            .pop()
            .context("the pipeline returned no decision")?,
    };
    print_outcome(&outcome, args.json)
}

/// A pipeline for live mail arriving at `mailbox` (default: the support role), storing as it
/// goes (not an archive, not a dry run).
pub fn live_pipeline(
    store: Store,
    settings: Settings,
    mailbox: Option<&str>,
) -> anyhow::Result<Pipeline> {
    let (mailbox, role) = mailbox_and_role(&settings, mailbox)?;
    Ok(Pipeline::new(
        store,
        settings,
        RunOptions::live(mailbox, role),
    ))
}

/// The mailbox name and role for `--mailbox`; without it, the support role.
pub fn mailbox_and_role(settings: &Settings, name: Option<&str>) -> anyhow::Result<(String, Role)> {
    match name {
        Some(name) => {
            let mb = settings.mailbox(name).map_err(anyhow::Error::msg)?;
            Ok((mb.name.clone(), mb.role))
        }
        None => Ok(("support".to_string(), Role::Support)),
    }
}

fn read_stdin(limit: usize) -> anyhow::Result<Body> {
    oversized::read_stream(std::io::stdin().lock(), limit).context("cannot read standard input")
}

pub fn print_outcome(o: &Outcome, json: bool) -> anyhow::Result<()> {
    let d = &o.decision;
    if json {
        return print_json(&IngestJson {
            message_id: &o.message_id,
            decision: d.action.name(),
            rule: d.rule.as_str(),
            reason: &d.reason,
            ticket: o.ticket.as_ref().map(|t| t.to_string()),
            classification: d.classification.as_str(),
            source: &o.source,
        });
    }
    let ticket = o
        .ticket
        .as_ref()
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    println!(
        "{}{ticket} ({}): {}",
        d.action.name(),
        d.rule.as_str(),
        safe(&d.reason)
    );
    Ok(())
}
