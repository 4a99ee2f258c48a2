//! `mailgate-bench import`: generate an archive (or take one), then measure
//!
//! - the ceiling: mail-parser alone on every message, on one thread and on every core
//!   ([`ceiling`]);
//! - `mailgate import` of the archive into a fresh SQLite database, and the same again (a
//!   re-import), each as a user runs it: the real binary, process start included, with the
//!   peak RSS of that process ([`cli_run`]);
//!
//! and prints messages/s, MB/s and peak RSS of each, and the import as a ratio of each ceiling.

mod ceiling;
pub(crate) mod cli_run;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mailgate_test_support::memory::Measured;

use crate::cli::{ImportBenchArgs, generate};

/// One measured run over the archive.
struct Phase {
    name: String,
    messages: u64,
    bytes: u64,
    secs: f64,
    peak_rss: Option<u64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.secs.max(1e-9)
    }

    fn print(&self) {
        let mb_s = self.bytes as f64 / 1e6 / self.secs.max(1e-9);
        let rss = self
            .peak_rss
            .map(|b| format!("   peak RSS {:.1} MB", b as f64 / 1_048_576.0))
            .unwrap_or_default();
        println!(
            "{:<22} {:>8} msgs {:>8.2} s {:>10.0} msg/s {:>8.1} MB/s{rss}",
            self.name,
            self.messages,
            self.secs,
            self.rate(),
            mb_s
        );
    }

    fn of_cli(name: &str, run: &Measured, messages: u64, bytes: u64) -> Phase {
        Phase {
            name: name.to_string(),
            messages,
            bytes,
            secs: run.wall.as_secs_f64(),
            peak_rss: Some(run.peak_rss),
        }
    }
}

/// The work directory, and whether it is removed after.
fn work_dir(dir: Option<&Path>) -> anyhow::Result<(PathBuf, bool)> {
    let (dir, temporary) = match dir {
        Some(d) => (d.to_path_buf(), false),
        None => (
            std::env::temp_dir().join(format!("mailgate-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok((dir, temporary))
}

pub async fn run(args: ImportBenchArgs) -> anyhow::Result<()> {
    let mailgate = cli_run::mailgate_binary(args.mailgate.as_deref())?;
    let (dir, temporary) = work_dir(args.dir.as_deref())?;
    let result = measure(&args, &mailgate, &dir);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn measure(args: &ImportBenchArgs, mailgate: &Path, dir: &Path) -> anyhow::Result<()> {
    let archive = match &args.archive {
        Some(file) => {
            println!("archive: {}", file.display());
            file.clone()
        }
        None => {
            let archive = dir.join("archive.mbox");
            let started = Instant::now();
            let stats = generate(&archive, &args.size)?;
            println!(
                "archive: {} messages, {:.1} MB (average {:.1} KB; {} replies, {} attachments), \
                 generated in {:.1} s",
                stats.messages,
                stats.bytes as f64 / 1e6,
                stats.bytes as f64 / 1e3 / stats.messages.max(1) as f64,
                stats.replies,
                stats.attachments,
                started.elapsed().as_secs_f64()
            );
            archive
        }
    };
    let bytes = std::fs::metadata(&archive)
        .with_context(|| format!("cannot read {}", archive.display()))?
        .len();

    let ceiling = if args.import_only {
        None
    } else {
        let ceiling = ceiling::measure(&archive)?;
        let phase = |name: String, secs: f64| Phase {
            name,
            messages: ceiling.messages,
            bytes,
            secs,
            peak_rss: None,
        };
        phase(
            "mail-parser, 1 thread".into(),
            ceiling.one_thread.as_secs_f64(),
        )
        .print();
        phase(
            format!("mail-parser, {} threads", ceiling.threads),
            ceiling.all_cores.as_secs_f64(),
        )
        .print();
        if ceiling.unparsed > 0 {
            println!("({} messages mail-parser did not parse)", ceiling.unparsed);
        }
        Some(ceiling)
    };

    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let config = cli_run::write_config(dir, &db, args.batch_size)?;
    println!("mailgate: {}", mailgate.display());
    let (first, counts) = cli_run::import(mailgate, &config, &archive, dir)?;
    let first = Phase::of_cli("import (CLI)", &first, counts.read, bytes);
    first.print();
    let again = if args.import_only {
        None
    } else {
        let (run, again) = cli_run::import(mailgate, &config, &archive, dir)?;
        let phase = Phase::of_cli("re-import (CLI)", &run, again.read, bytes);
        phase.print();
        println!(
            "re-import: {} new tickets, {} duplicates of {} read",
            again.created, again.duplicates, again.read
        );
        Some(phase)
    };
    println!(
        "first import: {} read, {} tickets created, {} threaded, {} ignored, {} quarantined",
        counts.read, counts.created, counts.threaded, counts.ignored, counts.quarantined
    );
    if let Some(ceiling) = ceiling {
        println!(
            "import = {:.2} of the 1-thread mail-parser ceiling, {:.2} of the {}-thread one",
            first.rate() / ceiling.one_thread_rate(),
            first.rate() / ceiling.all_cores_rate(),
            ceiling.threads
        );
    }
    if let Some(again) = again {
        println!(
            "re-import {:.1}x faster than the first import",
            first.secs / again.secs.max(1e-9)
        );
    }
    Ok(())
}
