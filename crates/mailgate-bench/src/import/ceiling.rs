//! The ceiling an import is measured against: mail-parser alone
//! (`MessageParser::default().parse`) on every message of the archive, nothing else (no
//! hashing, no texts, no compression, nothing stored). Once on one thread, once on every core.
//!
//! The archive is split into messages by the product's mbox reader a chunk at a time, and only
//! the parsing is timed; both passes parse the same chunk, so they see the same bytes.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use mail_parser::MessageParser;
use mailgate::import::{Format, open};
use rayon::prelude::*;

/// Messages of this many bytes at most are held at once.
const CHUNK_BYTES: usize = 64 << 20;

/// What parsing every message of an archive took.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    pub messages: u64,
    pub bytes: u64,
    /// Messages mail-parser returned `None` for.
    pub unparsed: u64,
    pub one_thread: Duration,
    pub all_cores: Duration,
    pub threads: usize,
}

impl Ceiling {
    pub fn one_thread_rate(&self) -> f64 {
        self.messages as f64 / self.one_thread.as_secs_f64().max(1e-9)
    }

    pub fn all_cores_rate(&self) -> f64 {
        self.messages as f64 / self.all_cores.as_secs_f64().max(1e-9)
    }
}

/// Parses every message of the mbox `archive` on this thread, then on a pool of one
/// normal-priority thread per core (not the product's lowered parse pool).
pub fn measure(archive: &Path) -> anyhow::Result<Ceiling> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ceiling-{i}"))
        .build()
        .context("cannot start the ceiling's thread pool")?;
    let mut items = open(archive, Format::Mbox, usize::MAX)
        .with_context(|| format!("cannot read {}", archive.display()))?;
    let mut ceiling = Ceiling {
        messages: 0,
        bytes: 0,
        unparsed: 0,
        one_thread: Duration::ZERO,
        all_cores: Duration::ZERO,
        threads,
    };
    loop {
        let mut chunk: Vec<Vec<u8>> = Vec::new();
        let mut held = 0;
        for item in items.by_ref() {
            let item = item.map_err(|e| anyhow::anyhow!("{}: {}", e.position, e.error))?;
            held += item.bytes.len();
            chunk.push(item.bytes);
            if held >= CHUNK_BYTES {
                break;
            }
        }
        if chunk.is_empty() {
            return Ok(ceiling);
        }
        ceiling.messages += chunk.len() as u64;
        ceiling.bytes += held as u64;

        let started = Instant::now();
        let parser = MessageParser::default();
        let mut unparsed = 0;
        for raw in &chunk {
            let message = parser.parse(raw);
            unparsed += u64::from(message.is_none());
            black_box(message);
        }
        ceiling.one_thread += started.elapsed();
        ceiling.unparsed += unparsed;

        let started = Instant::now();
        let parallel: u64 = pool.install(|| {
            chunk
                .par_iter()
                .map(|raw| {
                    let message = MessageParser::default().parse(raw);
                    let none = u64::from(message.is_none());
                    black_box(message);
                    none
                })
                .sum()
        });
        ceiling.all_cores += started.elapsed();
        debug_assert_eq!(parallel, unparsed);
    }
}
