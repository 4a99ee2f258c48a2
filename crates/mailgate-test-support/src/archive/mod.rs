//! A deterministic synthetic support-desk archive in mbox format, for `mailgate-bench` and the
//! tests that need a large realistic archive.
//!
//! Per message: 2–20 KB (biased small), ~30% replies with In-Reply-To/References and quoted
//! history (~5% of customer replies carrying their `[SUP-n]` tag), ~10% attachments, ~10%
//! RFC 2047 UTF-8 subjects, ~10% multipart/alternative with HTML, ~2% auto-replies, ~1%
//! bounces; ~300 customers on ~60 domains; ascending dates over two years; unique
//! Message-IDs; mboxrd `>From` escaping. The same spec gives the same bytes.

use std::collections::VecDeque;
use std::io::{self, Write};

mod corpus;
mod message;
mod mime;

use corpus::{Customer, Rng};
use message::{Author, Compose, Generated, Thread};

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
    /// Average size of a message in bytes (each within ±25% of it, attachments scaled to it);
    /// `None`: the realistic mix of 2–20 KB messages.
    pub message_size: Option<usize>,
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
            message_size: None,
        }
    }

    /// The same archive with messages of about `bytes` each.
    pub fn with_message_size(self, bytes: usize) -> Self {
        ArchiveSpec {
            message_size: Some(bytes),
            ..self
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub messages: u64,
    /// Bytes written, `From ` lines and separators included.
    pub bytes: u64,
    /// Messages with In-Reply-To (auto-replies included).
    pub replies: u64,
    pub attachments: u64,
    pub auto_replies: u64,
    pub bounces: u64,
    /// New conversations (each should become a ticket).
    pub threads: u64,
}

/// The address the archive's mail was sent to, and agents reply from.
pub const SUPPORT_ADDRESS: &str = "support@helpdesk.example";
const AGENTS: [&str; 3] = ["Alex Brandt", "Maria Lopez", "Tom Becker"];
/// Conversations kept for replies; older ones are forgotten (bounded memory).
const OPEN_THREADS: usize = 400;

/// Writes the archive described by `spec` to `w` (wrap files in a `BufWriter`).
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
        out.extend_from_slice(message::asctime(message.time).as_bytes());
        out.push(b'\n');
        escape_into(message.text.as_bytes(), &mut out);
        out.push(b'\n');
        w.write_all(&out)?;
        stats.messages += 1;
        stats.bytes += out.len() as u64;
        stats.attachments += u64::from(message.attachment);
    }
    Ok(stats)
}

/// Writes an archive of about `target_bytes`, the message count estimated from a sample of
/// the same seed's messages.
pub fn write_mbox_of_size(
    target_bytes: u64,
    seed: u64,
    w: &mut impl Write,
) -> io::Result<ArchiveStats> {
    write_mbox_sized(&ArchiveSpec::new(0, seed), target_bytes, w)
}

/// Writes the archive of `spec` (its message count aside) of about `target_bytes`, the count
/// estimated from a sample of the same spec's messages.
pub fn write_mbox_sized(
    spec: &ArchiveSpec,
    target_bytes: u64,
    w: &mut impl Write,
) -> io::Result<ArchiveStats> {
    const SAMPLE: usize = 500;
    let sample_spec = ArchiveSpec {
        messages: SAMPLE,
        ..spec.clone()
    };
    let sample = write_mbox(&sample_spec, &mut io::sink())?;
    let average = (sample.bytes / SAMPLE as u64).max(1);
    let messages = usize::try_from((target_bytes / average).max(1)).unwrap_or(usize::MAX);
    write_mbox(
        &ArchiveSpec {
            messages,
            ..spec.clone()
        },
        w,
    )
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
            threads: VecDeque::with_capacity(OPEN_THREADS),
            tickets: 0,
        }
    }

    /// Ascending: message `i` falls at a random point of its own slice of the span.
    fn time(&mut self, i: usize) -> i64 {
        let span = i128::from(self.spec.span_days) * 86_400;
        let n = self.spec.messages.max(1) as i128;
        let slot = usize::try_from((span / n).max(1)).unwrap_or(1);
        let offset = span * i as i128 / n + self.rng.below(slot) as i128;
        self.spec.start_unix + i64::try_from(offset).unwrap_or(0)
    }

    fn next_message(&mut self, i: usize, stats: &mut ArchiveStats) -> Generated {
        let time = self.time(i);
        let roll = self.rng.below(1000);
        if self.threads.is_empty() || roll >= 310 {
            stats.threads += 1;
            return self.new_thread(i, time);
        }
        // A recent conversation, biased towards the latest ones.
        let len = self.threads.len();
        let window = len.min(if self.rng.chance(800) {
            40
        } else {
            OPEN_THREADS
        });
        let thread = &mut self.threads[len - 1 - self.rng.below(window)];
        let customer = author_of(&self.customers[thread.customer]);
        let compose = Compose::new(&mut self.rng, i, time, self.spec.message_size);
        if roll < 10 {
            stats.bounces += 1;
            return compose.bounce(thread, &customer);
        }
        stats.replies += 1;
        if roll < 30 {
            stats.auto_replies += 1;
            return compose.auto_reply(thread, &customer);
        }
        let from_agent = compose.rng.chance(350);
        let author = if from_agent {
            Author {
                name: format!("{} (Support)", compose.rng.pick(&AGENTS)),
                address: SUPPORT_ADDRESS.to_string(),
                domain: "helpdesk.example".to_string(),
                utc_offset: 3600,
            }
        } else {
            customer
        };
        let tag = !from_agent && compose.rng.chance(50);
        compose.reply(thread, &author, tag)
    }

    fn new_thread(&mut self, i: usize, time: i64) -> Generated {
        // Some customers write far more than others: the lower of two uniform picks.
        let n = self.customers.len();
        let c = self.rng.below(n).min(self.rng.below(n));
        let author = author_of(&self.customers[c]);
        let utf8 = self.rng.chance(100);
        let template = if utf8 {
            *self.rng.pick(&corpus::UTF8_SUBJECTS)
        } else {
            *self.rng.pick(&corpus::SUBJECTS)
        };
        self.tickets += 1;
        let mut thread = Thread {
            ticket: self.tickets,
            subject: corpus::fill_number(template, self.rng.range(1000, 99_999)),
            utf8,
            customer: c,
            requester: author.address.clone(),
            ids: Vec::new(),
            last: None,
            last_text: String::new(),
        };
        let generated = Compose::new(&mut self.rng, i, time, self.spec.message_size)
            .first(&mut thread, &author);
        if self.threads.len() == OPEN_THREADS {
            self.threads.pop_front();
        }
        self.threads.push_back(thread);
        generated
    }
}

fn author_of(customer: &Customer) -> Author {
    Author {
        name: customer.name.clone(),
        address: customer.address.clone(),
        domain: customer.domain.clone(),
        utc_offset: customer.utc_offset,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use mail_parser::{HeaderValue, MessageParser};

    use super::*;
    use mailgate::import::{Format, open};

    fn generate(messages: usize, seed: u64) -> (Vec<u8>, ArchiveStats) {
        let mut out = Vec::new();
        let stats = write_mbox(&ArchiveSpec::new(messages, seed), &mut out).unwrap();
        (out, stats)
    }

    /// The archive written to a file and read back with the import reader.
    fn read_back(bytes: &[u8]) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("archive.mbox");
        std::fs::write(&path, bytes).unwrap();
        open(&path, Format::Mbox, usize::MAX)
            .unwrap()
            .map(|item| item.unwrap().bytes)
            .collect()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (a, stats_a) = generate(300, 42);
        let (b, stats_b) = generate(300, 42);
        let (c, _) = generate(300, 43);
        assert_eq!(a, b);
        assert_eq!(stats_a, stats_b);
        assert_eq!(stats_a.bytes, a.len() as u64);
        assert_ne!(a, c);
    }

    #[test]
    fn reader_returns_exactly_the_generated_messages() {
        let spec = ArchiveSpec::new(500, 9);
        let mut out = Vec::new();
        write_mbox(&spec, &mut out).unwrap();
        let items = read_back(&out);
        let mut generator = Generator::new(&spec);
        let mut stats = ArchiveStats::default();
        assert_eq!(items.len(), 500);
        let mut escaped = 0;
        for (i, item) in items.iter().enumerate() {
            let generated = generator.next_message(i, &mut stats);
            assert_eq!(item, generated.text.as_bytes(), "message {i}");
            escaped += usize::from(generated.text.contains("\nFrom "));
        }
        assert!(
            escaped > 10,
            "only {escaped} messages exercise >From escaping"
        );
    }

    #[test]
    fn realistic_mix_of_2000_messages() {
        let (bytes, stats) = generate(2000, 7);
        let items = read_back(&bytes);
        assert_eq!(items.len(), 2000);
        assert_eq!(stats.messages, 2000);

        let parser = MessageParser::default();
        let (mut ids, mut senders, mut domains) = (HashSet::new(), HashSet::new(), HashSet::new());
        let (mut last_date, mut replies, mut attachments) = (0, 0, 0);
        let (mut html, mut utf8_subjects, mut auto, mut bounces, mut tagged) = (0, 0, 0, 0, 0);
        for (i, raw) in items.iter().enumerate() {
            let message = parser.parse(raw).unwrap_or_else(|| panic!("message {i}"));
            let id = message.message_id().unwrap().to_string();
            assert!(ids.insert(id), "duplicate Message-ID in message {i}");
            let date = message.date().unwrap().to_timestamp();
            assert!(date >= last_date, "dates not ascending at {i}");
            last_date = date;
            let from = message.from().unwrap().first().unwrap().address().unwrap();
            let bounce = from.starts_with("MAILER-DAEMON");
            if !bounce {
                assert!(
                    (2048..=20 * 1024).contains(&raw.len()),
                    "{i}: {}",
                    raw.len()
                );
                senders.insert(from.to_string());
                domains.insert(from.rsplit('@').next().unwrap().to_string());
            }
            if let Some(parent) = message.in_reply_to().as_text() {
                assert!(ids.contains(parent), "{i} replies to an unknown message");
                replies += 1;
            }
            let subject = message.subject().unwrap_or_default();
            utf8_subjects += usize::from(!subject.is_ascii());
            tagged += usize::from(subject.contains("[SUP-"));
            attachments += usize::from(!bounce && message.attachment_count() > 0);
            let alternative = raw.windows(21).any(|w| w == b"multipart/alternative");
            html += usize::from(alternative && message.body_html(0).is_some());
            let auto_submitted = message.header("Auto-Submitted").map(HeaderValue::as_text);
            auto += usize::from(auto_submitted == Some(Some("auto-replied")) && !bounce);
            bounces += usize::from(bounce);
        }
        let n = 2000.0;
        let ratio = |count: usize| count as f64 / n;
        assert!((0.25..=0.35).contains(&ratio(replies)), "replies {replies}");
        assert_eq!(replies as u64, stats.replies);
        assert_eq!(attachments as u64, stats.attachments);
        assert!(
            (0.06..=0.14).contains(&ratio(attachments)),
            "attachments {attachments}"
        );
        assert!((0.06..=0.16).contains(&ratio(html)), "html {html}");
        assert!(
            (0.06..=0.16).contains(&ratio(utf8_subjects)),
            "utf8 {utf8_subjects}"
        );
        assert!((0.01..=0.035).contains(&ratio(auto)), "auto-replies {auto}");
        assert!(
            (0.003..=0.02).contains(&ratio(bounces)),
            "bounces {bounces}"
        );
        assert!(tagged > 0 && ratio(tagged) < 0.03, "tagged {tagged}");
        assert!(senders.len() >= 250, "{} senders", senders.len());
        assert!(domains.len() >= 55, "{} domains", domains.len());
    }

    #[test]
    fn archive_of_size_is_close_to_the_target() {
        let mut sink = Vec::new();
        let stats = write_mbox_of_size(2_000_000, 1, &mut sink).unwrap();
        assert_eq!(stats.bytes, sink.len() as u64);
        assert!(
            (1_600_000..=2_400_000).contains(&stats.bytes),
            "{}",
            stats.bytes
        );
    }

    #[test]
    fn messages_of_a_given_size_average_that_size_and_parse() {
        for size in [10_800, 100_000] {
            let spec = ArchiveSpec::new(300, 5).with_message_size(size);
            let mut out = Vec::new();
            let stats = write_mbox(&spec, &mut out).unwrap();
            let average = stats.bytes as usize / 300;
            assert!(
                (size * 85 / 100..=size * 115 / 100).contains(&average),
                "{size}: average {average}"
            );
            let items = read_back(&out);
            assert_eq!(items.len(), 300);
            let parser = MessageParser::default();
            assert!(items.iter().all(|raw| parser.parse(raw).is_some()));
            assert!(stats.attachments > 10, "{size}: {stats:?}");
        }
        let mut sink = Vec::new();
        let spec = ArchiveSpec::new(0, 1).with_message_size(50_000);
        let stats = write_mbox_sized(&spec, 5_000_000, &mut sink).unwrap();
        assert!(
            (4_000_000..=6_000_000).contains(&stats.bytes),
            "{}",
            stats.bytes
        );
    }

    #[test]
    fn escaping_adds_one_quote_to_from_lines() {
        let mut out = Vec::new();
        escape_into(b"a\nFrom x\n>From y\n> From z\nFrom", &mut out);
        assert_eq!(out, b"a\n>From x\n>>From y\n> From z\nFrom");
    }
}
