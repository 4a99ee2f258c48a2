//! A deterministic synthetic support-desk archive in mbox format, for `mailgate bench`.
//!
//! Per message: 2–20 KB (biased small), ~30% replies with In-Reply-To/References and quoted
//! history (~5% of them carrying the requester's `[SUP-n]` tag), ~10% attachments, ~10%
//! RFC 2047 UTF-8 subjects, ~10% multipart/alternative with HTML, ~2% auto-replies, ~1%
//! bounces; ~300 customers on ~60 domains; ascending dates over two years; unique
//! Message-IDs; mboxrd `>From` escaping. Same spec and seed, same bytes.

use std::collections::VecDeque;
use std::io::{self, Write};

use super::corpus::{self, Customer, Rng};
use super::message::{Author, Compose, Part};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSpec {
    pub messages: usize,
    pub seed: u64,
    pub customers: usize,
    pub domains: usize,
    /// Date of the first message, Unix seconds.
    pub start_unix: i64,
    pub span_days: u32,
}

impl ArchiveSpec {
    /// `messages` messages from 300 customers on 60 domains over 2023–2024.
    pub fn new(messages: usize, seed: u64) -> Self {
        ArchiveSpec {
            messages,
            seed,
            customers: 300,
            domains: 60,
            start_unix: 1_672_531_200,
            span_days: 730,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub messages: u64,
    /// Bytes written, From lines and separators included.
    pub bytes: u64,
    /// Messages with In-Reply-To (auto-replies included).
    pub replies: u64,
    pub attachments: u64,
    pub auto_replies: u64,
    pub bounces: u64,
}

/// The address the archive's mail was sent to (and agents reply from).
pub const SUPPORT_ADDRESS: &str = "support@helpdesk.example";
const AGENTS: [&str; 3] = ["Alex Brandt", "Maria Lopez", "Tom Becker"];
const AGENT_ZONE: i32 = 3600;
/// Threads kept for replies; older ones are forgotten (bounded memory).
const OPEN_THREADS: usize = 400;
const MAX_REFERENCES: usize = 12;

/// A conversation replies can join.
pub(crate) struct Thread {
    pub(crate) ticket: usize,
    pub(crate) subject: String,
    pub(crate) utf8: bool,
    pub(crate) customer: usize,
    pub(crate) ids: Vec<String>,
    pub(crate) last: Author,
    pub(crate) last_time: i64,
    pub(crate) last_text: String,
}

/// Writes the archive described by `spec` to `w` (wrap `w` in a `BufWriter` for files).
pub fn write_mbox(spec: &ArchiveSpec, w: &mut impl Write) -> io::Result<ArchiveStats> {
    let mut generator = Generator::new(spec);
    let mut stats = ArchiveStats::default();
    let mut out = Vec::with_capacity(32 * 1024);
    for i in 0..spec.messages {
        let message = generator.next_message(i, &mut stats);
        out.clear();
        out.extend_from_slice(b"From ");
        out.extend_from_slice(message.envelope.as_bytes());
        out.push(b' ');
        out.extend_from_slice(message.asctime.as_bytes());
        out.push(b'\n');
        escape_into(message.bytes.as_bytes(), &mut out);
        out.push(b'\n');
        w.write_all(&out)?;
        stats.messages += 1;
        stats.bytes += out.len() as u64;
    }
    Ok(stats)
}

/// Writes an archive of about `target_bytes`: the message count is estimated from a sample
/// of the same seed's messages.
pub fn write_mbox_of_size(
    target_bytes: u64,
    seed: u64,
    w: &mut impl Write,
) -> io::Result<ArchiveStats> {
    const SAMPLE: usize = 400;
    let sample = write_mbox(&ArchiveSpec::new(SAMPLE, seed), &mut io::sink())?;
    let average = (sample.bytes / SAMPLE as u64).max(1);
    let messages = (target_bytes / average).max(1);
    let messages = usize::try_from(messages).unwrap_or(usize::MAX);
    write_mbox(&ArchiveSpec::new(messages, seed), w)
}

/// mboxrd escaping: a line that is `From ` behind any number of `>` gets one more `>`.
fn escape_into(message: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    while start < message.len() {
        let end = memchr::memchr(b'\n', &message[start..]).map_or(message.len(), |i| start + i + 1);
        let line = &message[start..end];
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
        start = end;
    }
}

/// One generated message, before mbox framing.
pub(crate) struct Generated {
    pub(crate) envelope: String,
    pub(crate) asctime: String,
    pub(crate) bytes: String,
}

struct Generator<'a> {
    spec: &'a ArchiveSpec,
    rng: Rng,
    customers: Vec<Customer>,
    threads: VecDeque<Thread>,
    tickets: usize,
}

impl<'a> Generator<'a> {
    fn new(spec: &'a ArchiveSpec) -> Self {
        let customers = (0..spec.customers.max(1))
            .map(|i| corpus::customer(i, spec.domains))
            .collect();
        Generator {
            spec,
            rng: Rng::new(spec.seed),
            customers,
            threads: VecDeque::new(),
            tickets: 0,
        }
    }

    /// Ascending: message `i` falls in its own slice of the span.
    fn time(&mut self, i: usize) -> i64 {
        let span = i128::from(self.spec.span_days) * 86_400;
        let n = self.spec.messages.max(1) as i128;
        let slot = (span / n).max(1);
        let base = span * i as i128 / n;
        let jitter = self.rng.below(usize::try_from(slot).unwrap_or(1)) as i128;
        self.spec.start_unix + i64::try_from(base + jitter).unwrap_or(0)
    }

    fn customer_author(&self, c: usize) -> Author {
        let customer = &self.customers[c];
        Author {
            name: customer.name.clone(),
            address: customer.address.clone(),
            domain: customer.domain.clone(),
            utc_offset: customer.utc_offset,
        }
    }

    fn agent_author(&mut self) -> Author {
        Author {
            name: format!("{} (Support)", self.rng.pick(&AGENTS)),
            address: SUPPORT_ADDRESS.to_string(),
            domain: "helpdesk.example".to_string(),
            utc_offset: AGENT_ZONE,
        }
    }

    /// A recent thread, biased towards the most recent ones.
    fn pick_thread(&mut self) -> usize {
        let len = self.threads.len();
        let window = len.min(if self.rng.chance(800) { 40 } else { OPEN_THREADS });
        len - 1 - self.rng.below(window)
    }

    fn next_message(&mut self, i: usize, stats: &mut ArchiveStats) -> Generated {
        let time = self.time(i);
        let roll = self.rng.below(1000);
        let mut compose = Compose::new(&mut self.rng, i, time);
        if self.threads.is_empty() || roll >= 310 {
            return self.new_thread(compose, stats);
        }
        let t = self.pick_thread();
        let thread = &mut self.threads[t];
        if roll < 10 {
            stats.bounces += 1;
            return compose.bounce(thread);
        }
        if roll < 30 {
            stats.auto_replies += 1;
            stats.replies += 1;
            let author = corpus_author(&self.customers[thread.customer]);
            return compose.auto_reply(thread, &author);
        }
        stats.replies += 1;
        let from_agent = compose.rng.chance(350);
        let author = if from_agent {
            Author {
                name: format!("{} (Support)", compose.rng.pick(&AGENTS)),
                address: SUPPORT_ADDRESS.to_string(),
                domain: "helpdesk.example".to_string(),
                utc_offset: AGENT_ZONE,
            }
        } else {
            corpus_author(&self.customers[thread.customer])
        };
        let tag = !from_agent && compose.rng.chance(50);
        let generated = compose.reply(thread, &author, tag, stats);
        if thread.ids.len() > MAX_REFERENCES {
            thread.ids.remove(1);
        }
        generated
    }

    fn new_thread(&mut self, mut compose: Compose<'_>, stats: &mut ArchiveStats) -> Generated {
        let c = self.customer_index(&mut compose);
        let author = self.customer_author(c);
        self.tickets += 1;
        let utf8 = compose.rng.chance(100);
        let template = if utf8 {
            *compose.rng.pick(&corpus::UTF8_SUBJECTS)
        } else {
            *compose.rng.pick(&corpus::SUBJECTS)
        };
        let subject = corpus::fill_number(template, compose.rng.range(1000, 99_999));
        let mut thread = Thread {
            ticket: self.tickets,
            subject,
            utf8,
            customer: c,
            ids: Vec::new(),
            last: author.clone(),
            last_time: 0,
            last_text: String::new(),
        };
        let generated = compose.first(&mut thread, &author, stats);
        if self.threads.len() == OPEN_THREADS {
            self.threads.pop_front();
        }
        self.threads.push_back(thread);
        generated
    }

    /// Some customers write far more than others: the lower of two uniform picks.
    fn customer_index(&self, compose: &mut Compose<'_>) -> usize {
        let n = self.customers.len();
        compose.rng.below(n).min(compose.rng.below(n))
    }
}

fn corpus_author(customer: &Customer) -> Author {
    Author {
        name: customer.name.clone(),
        address: customer.address.clone(),
        domain: customer.domain.clone(),
        utc_offset: customer.utc_offset,
    }
}

#[allow(dead_code)]
fn _part_is_used(_: Part) {}
