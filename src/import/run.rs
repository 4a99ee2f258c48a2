//! The import run (SPEC 8): stream an archive through the pipeline.
//!
//! Three stages overlap so both cores stay busy and memory stays flat:
//! 1. a reader thread splits the archive into raw messages, a batch at a time;
//! 2. each message is hashed and its Message-ID peeked at, in one pass on the parse pool
//!    (rayon); exact re-deliveries (same Message-ID, same bytes; or a mail kept under the
//!    synthetic id of its bytes because its Message-ID is another's; or the same bytes logged
//!    before as the same mail with other trace headers) are counted as
//!    duplicates without being parsed, the rest is parsed on the pool;
//! 3. the pipeline decides and stores each batch in one transaction with its checkpoint.
//!
//! A batch holds at most `[import] batch_size` messages and [`crate::pipeline::BATCH_BYTES`] of
//! mail. The channel into stage 2 holds one batch, the one into stage 3 two (stage 3 takes a
//! waiting batch along into its transaction: group commit). So at most six batches are in
//! memory (one per stage, three in channels), whatever the size of the archive or its mail.
//!
//! Before stage 1 the archive's checkpoint decides where the run starts ([`Archive`]): after
//! the last message a stopped run stored, or at the start. A run read to the end stores that
//! too, so the next import of the archive reads it whole. A dry run always reads everything,
//! and lets the pipeline decide re-deliveries too, so each message gets a listed decision.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::archive::Archive;
use super::read_stage::{self, ReadBatch};
use super::reader::{self, Format, ItemError};
use super::report::{ImportReport, Position, Skip};
use super::resume::SavedPoint;
use crate::cpu_priority::on_parse_pool;
use crate::decide::{is_redelivery, needs_synthetic};
use crate::domain::{MessageId, Source};
use crate::parse;
use crate::pipeline::{BatchLimit, Outcome, Pipeline, Prepared, Preparer, RawMessage, Unprepared};
use crate::store::Seen;
use crate::store::{Checkpoint, Store};

pub struct ImportRequest {
    pub path: PathBuf,
    pub format: Option<Format>,
    pub batch_size: usize,
    pub progress: bool,
}

/// A batch ready for the pipeline, with what was settled without parsing.
struct ParsedBatch {
    prepared: Vec<Prepared>,
    /// Exact re-deliveries (same Message-ID, same bytes) settled without parsing: the
    /// pipeline would only count them as duplicates, storing nothing.
    redeliveries: u64,
    errors: Vec<ItemError>,
    skipped: Vec<Skip>,
    progress: u64,
    /// The last message of the batch.
    last: Option<Source>,
    count: u64,
}

impl ParsedBatch {
    /// Appends the batch read after this one.
    fn absorb(&mut self, next: ParsedBatch) {
        self.prepared.extend(next.prepared);
        self.redeliveries += next.redeliveries;
        self.errors.extend(next.errors);
        self.skipped.extend(next.skipped);
        self.progress = next.progress;
        self.last = next.last.or(self.last.take());
        self.count += next.count;
    }
}

pub async fn import(
    pipeline: &mut Pipeline,
    store: &Store,
    request: ImportRequest,
    shutdown: CancellationToken,
) -> anyhow::Result<ImportReport> {
    import_listing(pipeline, store, request, shutdown, |_| {}).await
}

/// [`import`], handing the decisions of each batch to `listen` as they are taken (a dry run
/// lists them; exact re-deliveries are then decided by the pipeline too, not settled early).
pub async fn import_listing(
    pipeline: &mut Pipeline,
    store: &Store,
    request: ImportRequest,
    shutdown: CancellationToken,
    mut listen: impl FnMut(&[Outcome]),
) -> anyhow::Result<ImportReport> {
    let format = match request.format {
        Some(f) => f,
        None => reader::detect(&request.path)?,
    };
    let dry_run = pipeline.options().dry_run;
    let mut report = ImportReport {
        dry_run,
        path: request.path.display().to_string(),
        ..ImportReport::default()
    };
    let archive = Archive::new(&request.path, format, pipeline.options())?;
    let max_bytes = pipeline.settings().max_message_bytes;
    let (items, resumed) = archive.open(store, max_bytes, dry_run, &mut report).await?;
    let not_mail = items.not_mail().clone();
    for example in not_mail.examples.iter() {
        report.skip(Skip {
            position: example.clone(),
            reason: "not mail: only *.eml files are read from a folder".to_string(),
        });
    }
    report.skipped += not_mail.count - not_mail.examples.len() as u64;
    let total = if format == Format::Mbox {
        std::fs::metadata(&request.path).map(|m| m.len()).ok()
    } else {
        None
    };
    let bar = progress_bar(request.progress, total, format);
    let limit = BatchLimit::new(request.batch_size);
    let preparer = pipeline.preparer();

    // Stage 1: split the archive into messages, on a plain low-priority thread (the readers
    // are blocking iterators). It does nothing else: on a re-import it is what limits the run.
    let (read_tx, mut read_rx) = mpsc::channel::<ReadBatch>(1);
    let reader = read_stage::spawn(items, limit, shutdown.clone(), read_tx);

    // Stage 2: hash each message and peek at its Message-ID (in parallel), drop exact
    // re-deliveries, parse the rest (in parallel).
    let (parsed_tx, mut parsed_rx) = mpsc::channel::<anyhow::Result<ParsedBatch>>(2);
    let store2 = store.clone();
    let stage2 = tokio::spawn(async move {
        // Time spent waiting for the reader (else stage 2 is what limits the run).
        let mut waiting = std::time::Duration::ZERO;
        while let Some(batch) = recv_timed(&mut read_rx, &mut waiting).await {
            let result = settle(&store2, batch, &preparer, !dry_run).await;
            let failed = result.is_err();
            if parsed_tx.send(result).await.is_err() || failed {
                break;
            }
        }
        tracing::debug!(
            waiting_for_reader_ms = waiting.as_millis() as u64,
            "import parsed everything"
        );
    });

    // Pages committed by stage 3 are copied into the database file while it goes on.
    let checkpointer_stop = CancellationToken::new();
    let checkpointer = store.start_checkpointer(checkpointer_stop.clone());

    // Stage 3: decide and store. Messages of this archive stored, by all runs.
    let mut messages_done = resumed.as_ref().map_or(0, |(_, n)| *n as i64);
    let mut last_point = resumed.map(|(point, _)| point);
    let mut last_source = None;
    let mut failure = None;
    let mut stopped_early = false;
    // Whether storing (stage 3) or reading and parsing (stages 1-2) limits the run.
    let mut waiting = std::time::Duration::ZERO;
    while let Some(batch) = recv_timed(&mut parsed_rx, &mut waiting).await {
        let mut batch = match batch {
            Ok(b) => b,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        // Group commit: a batch that is already waiting joins this one, so when storing is
        // what limits the run it commits less often, holding nothing more in memory than the
        // channel already did. A failure waiting behind it is handled once this batch is in.
        let mut failure_behind = None;
        if let Ok(next) = parsed_rx.try_recv() {
            match next {
                Ok(next) => batch.absorb(next),
                Err(e) => failure_behind = Some(e),
            }
        }
        messages_done += batch.count as i64;
        // The checkpoint names the batch's last message, stored in the batch's transaction.
        let checkpoint = batch.last.take().map(|source| {
            let point = archive.point_at(&source);
            let checkpoint = Checkpoint::Import {
                path: archive.key.clone(),
                position: point.to_position(),
                messages: messages_done,
            };
            last_point = Some(point);
            last_source = Some(source.to_string());
            checkpoint
        });
        let outcomes = match pipeline.process(batch.prepared, checkpoint).await {
            Ok(o) => o,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        listen(&outcomes);
        for o in &outcomes {
            report.count(o);
        }
        report.count_redeliveries(batch.redeliveries);
        for e in batch.errors {
            report.error(e.position, e.error);
        }
        for s in batch.skipped {
            report.skip(s);
        }
        if let Some(bar) = &bar {
            bar.set_position(batch.progress);
            bar.set_message(format!(
                "{} messages, {} tickets created",
                report.read, report.created
            ));
        }
        if let Some(e) = failure_behind {
            failure = Some(e);
            break;
        }
        if shutdown.is_cancelled() {
            stopped_early = true;
            break;
        }
    }
    tracing::debug!(
        waiting_for_parse_ms = waiting.as_millis() as u64,
        "import stored everything"
    );
    checkpointer_stop.cancel();
    let _ = checkpointer.await;
    drop(parsed_rx);
    stage2.abort();
    let read_to_the_end = reader.join().unwrap_or(false);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(e) = failure {
        return Err(e.context(format!(
            "import of {} stopped; batches before this point are stored",
            report.path
        )));
    }
    report.interrupted = stopped_early || !read_to_the_end;
    if report.interrupted {
        let messages = if dry_run {
            report.read
        } else {
            messages_done as u64
        };
        report.stopped = last_source.map(|at| Position { messages, at });
    } else if let (Some(point), false) = (last_point, dry_run) {
        // Read to the end: the next import of this archive reads it all again.
        let done = SavedPoint {
            done: true,
            ..point
        };
        store
            .save_checkpoint(&Checkpoint::Import {
                path: archive.key.clone(),
                position: done.to_position(),
                messages: messages_done,
            })
            .await
            .context("storing the end of the import")?;
    }
    Ok(report)
}

/// The next batch from the stage before, adding the time spent waiting for it to `waiting`.
async fn recv_timed<T>(rx: &mut mpsc::Receiver<T>, waiting: &mut std::time::Duration) -> Option<T> {
    let asked = std::time::Instant::now();
    let batch = rx.recv().await;
    *waiting += asked.elapsed();
    batch
}

/// Hashes a batch, settles exact re-deliveries without parsing them (when `settle_known`)
/// and parses the rest.
async fn settle(
    store: &Store,
    batch: ReadBatch,
    preparer: &Preparer,
    settle_known: bool,
) -> anyhow::Result<ParsedBatch> {
    // One pass over the batch: each message's Message-ID (a quick look at its headers) and
    // the hash of its bytes. Then which of them are already known, with those bytes.
    let items = batch.items;
    let (items, peeked) = on_parse_pool(move || {
        let peeked: Vec<(MessageId, String)> = items
            .par_iter()
            .map(|item| {
                (
                    parse::peek_message_id(&item.bytes),
                    hex::encode(Sha256::digest(&item.bytes)),
                )
            })
            .collect();
        (items, peeked)
    })
    .await
    .context("reading Message-IDs and hashing a batch")?;
    let ids: Vec<&MessageId> = peeked.iter().map(|(id, _)| id).collect();
    let known = if settle_known {
        store
            .known_messages(&ids)
            .await
            .context("looking up known messages")?
    } else {
        HashMap::new()
    };
    // A mail whose Message-ID is a stored mail's with other bytes may have been kept or logged
    // under the synthetic id of its bytes: looked up only for such mail (rare).
    let reusing: Vec<(&MessageId, &String)> = peeked
        .iter()
        .filter(|(id, sha)| {
            known
                .get(id.as_str())
                .is_some_and(|seen| needs_synthetic(seen, sha))
        })
        .map(|(id, sha)| (id, sha))
        .collect();
    let synthetic = if reusing.is_empty() {
        HashMap::new()
    } else {
        synthetic_seen(store, &reusing).await?
    };
    let last = items.last().map(|item| item.source.clone());
    let count = items.len() as u64;
    let mut redeliveries = 0;
    let mut to_prepare = Vec::with_capacity(items.len());
    for (item, (message_id, sha256)) in items.into_iter().zip(peeked) {
        let redelivery = known.get(message_id.as_str()).is_some_and(|seen| {
            let kept = || synthetic.get(MessageId::synthetic_for_sha256(&sha256).as_str());
            is_redelivery(
                &sha256,
                seen,
                needs_synthetic(seen, &sha256).then(kept).flatten(),
            )
        });
        if redelivery {
            redeliveries += 1;
            continue;
        }
        to_prepare.push(match item.oversized {
            // Over the limit, never read: quarantined by reference, with its header.
            Some(size) => Unprepared::HeaderOnly {
                source: item.source,
                header: item.bytes,
                size,
            },
            None => Unprepared::Whole {
                raw: RawMessage {
                    source: item.source,
                    bytes: item.bytes,
                },
                sha256: Some(sha256),
            },
        });
    }
    let prepared = preparer
        .prepare_batch(to_prepare)
        .await
        .context("parsing a batch")?;
    Ok(ParsedBatch {
        prepared,
        redeliveries,
        errors: batch.errors,
        skipped: batch.skipped,
        progress: batch.progress,
        last,
        count,
    })
}

/// What was decided under the synthetic ids of `reusing` (Message-ID, SHA-256 of the bytes):
/// mail kept there, and copies logged as the same mail with other trace headers.
async fn synthetic_seen(
    store: &Store,
    reusing: &[(&MessageId, &String)],
) -> anyhow::Result<HashMap<String, Seen>> {
    let ids: Vec<MessageId> = reusing
        .iter()
        .map(|(_, sha)| MessageId::synthetic_for_sha256(sha))
        .collect();
    let mut seen = store
        .known_messages(&ids.iter().collect::<Vec<_>>())
        .await
        .context("looking up known messages")?;
    let originals: Vec<&MessageId> = reusing.iter().map(|(id, _)| *id).collect();
    let logged = store
        .logged_copies(&originals)
        .await
        .context("looking up logged copies")?;
    for (id, sha) in reusing {
        if logged.contains(&(id.to_string(), (*sha).clone())) {
            let (synthetic, copy) = crate::store::logged_copy(None, (*sha).clone());
            seen.entry(synthetic.to_string()).or_insert(copy);
        }
    }
    Ok(seen)
}

fn progress_bar(enabled: bool, total: Option<u64>, format: Format) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match total {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{spinner} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} files read ({per_sec}) {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_message(format!("importing {}", format.as_str()));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}
