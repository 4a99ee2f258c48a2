//! Archive helpers: building mbox, Maildir and .eml-folder archives from raw messages, and the
//! invariants an import report must satisfy.

use std::path::Path;

use serde_json::Value;

use super::{items, str_of, u64_of};

/// Splits an mbox (mboxrd-style `>From ` quoting) into raw messages, From_ lines removed.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(done) = current.take() {
                messages.push(finish_mbox_message(done));
            }
            current = Some(Vec::new());
            continue;
        }
        let Some(buf) = current.as_mut() else {
            panic!("mbox does not start with a From_ line");
        };
        let unquoted = if line.starts_with(b">")
            && line
                .iter()
                .skip_while(|&&b| b == b'>')
                .take(5)
                .eq(b"From ".iter())
        {
            &line[1..]
        } else {
            line
        };
        buf.extend_from_slice(unquoted);
    }
    if let Some(done) = current.take() {
        messages.push(finish_mbox_message(done));
    }
    messages
}

/// Drops the blank separator line that precedes the next From_ line.
fn finish_mbox_message(mut message: Vec<u8>) -> Vec<u8> {
    if message.ends_with(b"\n\n") {
        message.pop();
    }
    message
}

/// Writes `messages` as an mbox file (From_ lines, `>From ` quoting, blank separator).
pub fn write_mbox(path: &Path, messages: &[Vec<u8>]) {
    let mut out = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        out.extend_from_slice(
            format!("From sender{i}@generator.test Mon Jan  1 00:00:00 2024\n").as_bytes(),
        );
        for line in message.split_inclusive(|&b| b == b'\n') {
            if line
                .iter()
                .skip_while(|&&b| b == b'>')
                .take(5)
                .eq(b"From ".iter())
            {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    std::fs::write(path, out).unwrap();
}

/// Builds a Maildir (cur/ new/ tmp/) holding `messages`: the older ones in cur/ (seen), the
/// newest in new/, names sorting in archive order.
pub fn write_maildir(root: &Path, messages: &[Vec<u8>]) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    let split = messages.len() * 2 / 3;
    for (i, message) in messages.iter().enumerate() {
        let unique = format!("{}.M{:06}P4242Q{}.it.example.test", 1_709_500_000 + i, i, i);
        let path = if i < split {
            root.join("cur")
                .join(format!("{unique},S={}:2,S", message.len()))
        } else {
            root.join("new")
                .join(format!("{unique},S={}", message.len()))
        };
        std::fs::write(path, message).unwrap();
    }
}

/// Writes `messages` as `NNN.eml` files in `dir`.
pub fn write_eml_dir(dir: &Path, messages: &[Vec<u8>]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, message) in messages.iter().enumerate() {
        std::fs::write(dir.join(format!("{:03}.eml", i + 1)), message).unwrap();
    }
}

/// The outcome counts of an import report; with `read` they are the whole summary.
pub const OUTCOMES: [&str; 7] = [
    "created",
    "threaded",
    "duplicates",
    "rejected",
    "quarantined",
    "ignored",
    "errors",
];

/// The sum of the outcome counts, `None` when one is missing or not a number.
pub fn outcome_sum(report: &Value) -> Option<u64> {
    OUTCOMES.iter().map(|k| report[k].as_u64()).sum()
}

/// The import-report invariant: every message read got exactly one outcome.
#[track_caller]
pub fn assert_report_balanced(report: &Value) {
    let read = u64_of(report, "read");
    let sum: u64 = OUTCOMES.iter().map(|k| u64_of(report, k)).sum();
    assert_eq!(read, sum, "read must equal the sum of outcomes: {report:#}");
    let failures = items(report, "failures");
    assert_eq!(
        failures.len() as u64,
        u64_of(report, "errors"),
        "one failure entry per error: {report:#}"
    );
}

/// `(ref, requester, subject, message_count, status)` of every ticket, for comparing runs.
pub fn ticket_summary(tickets: &[Value]) -> Vec<(String, String, String, u64, String)> {
    tickets
        .iter()
        .map(|t| {
            (
                str_of(t, "ref").to_string(),
                str_of(t, "requester").to_ascii_lowercase(),
                str_of(t, "subject").to_string(),
                u64_of(t, "message_count"),
                str_of(t, "status").to_string(),
            )
        })
        .collect()
}

/// Writes the synthetic support archive of `mailgate-bench generate FILE --messages N` (its
/// default seed, 42) to `path`, with the generator library the benchmark itself calls.
pub fn generate_archive(path: &Path, messages: usize) -> mailgate_test_support::ArchiveStats {
    let file = std::fs::File::create(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    let mut out = std::io::BufWriter::new(file);
    let spec = mailgate_test_support::ArchiveSpec::new(messages, 42);
    let stats = mailgate_test_support::write_mbox(&spec, &mut out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    std::io::Write::flush(&mut out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    stats
}
