//! `mailgate-bench import`: generate an archive, then measure a parse-only pass (the ceiling),
//! a first import into a fresh SQLite database and a re-import of the same archive; prints
//! messages/s, MB/s and peak RSS of each phase.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use mailgate::config::{Role, Settings};
use mailgate::import::{Format, ImportReport, ImportRequest, import, open};
use mailgate::pipeline::{Content, Pipeline, RawMessage, RunOptions, prepare};
use mailgate::store::{Durability, Store};
use mailgate_test_support::memory;
use rayon::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::cli::{ImportBenchArgs, generate};

struct Phase {
    name: &'static str,
    messages: u64,
    bytes: u64,
    secs: f64,
    peak_rss: Option<u64>,
}

impl Phase {
    fn print(&self) {
        let per_sec = self.messages as f64 / self.secs.max(1e-9);
        let mb_s = self.bytes as f64 / 1e6 / self.secs.max(1e-9);
        let rss = self
            .peak_rss
            .map(|b| format!("{:.1} MB", b as f64 / 1_048_576.0))
            .unwrap_or_else(|| "n/a".into());
        println!(
            "{:<12} {:>8} msgs {:>8.2} s {:>10.0} msg/s {:>8.1} MB/s   peak RSS {rss}",
            self.name, self.messages, self.secs, per_sec, mb_s
        );
    }
}

pub async fn run(args: ImportBenchArgs) -> anyhow::Result<()> {
    let (dir, temporary) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mailgate-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let archive = dir.join("archive.mbox");
    let started = Instant::now();
    let stats = generate(&archive, &args.size)?;
    println!(
        "archive: {} messages, {:.1} MB ({} replies, {} attachments), generated in {:.1} s",
        stats.messages,
        stats.bytes as f64 / 1e6,
        stats.replies,
        stats.attachments,
        started.elapsed().as_secs_f64()
    );
    println!(
        "threads: {} (rayon), SQLite WAL, import durability (synchronous=NORMAL)",
        rayon::current_num_threads()
    );

    let mut phases = Vec::new();
    if !args.import_only {
        phases.push(parse_only(&archive, stats.bytes)?);
        phases[0].print();
    }
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let url = format!("sqlite://{}", db.display());
    let (first, report) =
        import_phase("import", &archive, &url, stats.bytes, args.batch_size).await?;
    first.print();
    let ticket_count = report.created;
    phases.push(first);
    if !args.import_only {
        let (again, report2) =
            import_phase("re-import", &archive, &url, stats.bytes, args.batch_size).await?;
        again.print();
        println!(
            "re-import: {} new tickets, {} duplicates of {} read",
            report2.created, report2.duplicates, report2.read
        );
        phases.push(again);
    }
    println!(
        "first import: {} read, {} tickets created, {} threaded, {} ignored, {} quarantined",
        report.read, ticket_count, report.threaded, report.ignored, report.quarantined
    );
    if let [parse, import, reimport] = &phases[..] {
        let ceiling = parse.messages as f64 / parse.secs;
        let rate = import.messages as f64 / import.secs;
        println!(
            "import = {:.0}% of the parse-only ceiling; re-import {:.1}x faster than the first import",
            100.0 * rate / ceiling,
            import.secs / reimport.secs
        );
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The ceiling: read, hash and parse every message exactly as import does, store nothing.
fn parse_only(archive: &Path, bytes: u64) -> anyhow::Result<Phase> {
    memory::reset_peak_rss();
    let started = Instant::now();
    let mut items = open(archive, Format::Mbox, usize::MAX)?;
    let mut messages = 0u64;
    let mut parsed = 0u64;
    loop {
        let batch: Vec<RawMessage> = items
            .by_ref()
            .take(1000)
            .filter_map(Result::ok)
            .map(|i| RawMessage {
                source: i.source,
                bytes: i.bytes,
            })
            .collect();
        if batch.is_empty() {
            break;
        }
        messages += batch.len() as u64;
        parsed += batch
            .into_par_iter()
            .map(|raw| {
                u64::from(matches!(
                    prepare(raw, usize::MAX).content,
                    Content::Parsed(_)
                ))
            })
            .sum::<u64>();
    }
    if parsed != messages {
        tracing::warn!(parsed, messages, "some generated messages did not parse");
    }
    Ok(Phase {
        name: "parse-only",
        messages,
        bytes,
        secs: started.elapsed().as_secs_f64(),
        peak_rss: memory::peak_rss_bytes(),
    })
}

async fn import_phase(
    name: &'static str,
    archive: &Path,
    url: &str,
    bytes: u64,
    batch_size: Option<usize>,
) -> anyhow::Result<(Phase, ImportReport)> {
    let mut settings = Settings::from_toml("", "bench")?;
    settings.database_url = url.to_string();
    if let Some(n) = batch_size {
        settings.import_batch_size = n.max(1);
    }
    let store = Store::open_with(url, Durability::Import).await?;
    memory::reset_peak_rss();
    let started = Instant::now();
    let mut pipeline = Pipeline::new(
        store.clone(),
        settings.clone(),
        RunOptions::import("support", Role::Support),
    );
    let report = import(
        &mut pipeline,
        &store,
        ImportRequest {
            path: archive.to_path_buf(),
            format: Some(Format::Mbox),
            batch_size: settings.import_batch_size,
            progress: false,
        },
        CancellationToken::new(),
    )
    .await?;
    // Closing checkpoints the WAL into the database file: part of the cost of an import.
    let closing = Instant::now();
    store.close().await;
    let secs = started.elapsed().as_secs_f64();
    tracing::debug!(
        phase = name,
        close_ms = closing.elapsed().as_millis() as u64,
        "database closed"
    );
    Ok((
        Phase {
            name,
            messages: report.read,
            bytes,
            secs,
            peak_rss: memory::peak_rss_bytes(),
        },
        report,
    ))
}
