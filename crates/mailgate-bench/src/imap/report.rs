//! The figures of `mailgate-bench imap`, their targets, and the table printed for people
//! (`--json` prints the same structure, snake_case fields).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::cpu::CpuUse;

/// Targets of the issue: drain throughput and share of the fetch-only ceiling, latency.
pub const DRAIN_TARGET_PER_SEC: f64 = 2000.0;
pub const DRAIN_TARGET_RATIO: f64 = 0.70;
pub const LATENCY_P50_TARGET_MS: f64 = 700.0;
pub const LATENCY_P99_TARGET_MS: f64 = 1500.0;

#[derive(Debug, Clone, Serialize)]
pub struct ImapBenchReport {
    /// The user the benchmark ran as (created for the run unless `--user`).
    pub user: String,
    /// The IMAP server the poller and the fetch-only pass used.
    pub imap_server: String,
    pub smtp_server: String,
    pub batch_size: usize,
    /// rayon threads (parsing) on this machine.
    pub threads: usize,
    pub backlog: Option<BacklogReport>,
    pub fetch_only: Option<FetchOnlyReport>,
    pub drain: Option<DrainReport>,
    /// Reference: the drain's IMAP work alone (fetch on one connection, MOVE on a second).
    pub fetch_and_move: Option<PhaseFigures>,
    pub latency: Option<LatencyReport>,
    pub targets: Vec<TargetCheck>,
    /// Correctness checks that failed (mail left behind, counts that do not add up); the
    /// command fails when there is any.
    pub problems: Vec<String>,
}

/// Setup, not a measured figure: the backlog appended before the drain.
#[derive(Debug, Clone, Serialize)]
pub struct BacklogReport {
    pub messages: u64,
    pub bytes: u64,
    pub conversations: u64,
    pub replies: u64,
    pub attachments: u64,
    pub generate_secs: f64,
    pub append_secs: f64,
    pub append_messages_per_sec: f64,
    pub append_method: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseFigures {
    pub messages: u64,
    pub bytes: u64,
    pub secs: f64,
    pub messages_per_sec: f64,
    pub mb_per_sec: f64,
    pub peak_rss_bytes: Option<u64>,
    /// Cores kept busy during the phase, by mailgate and by the whole machine.
    pub cpu: Option<CpuUse>,
}

impl PhaseFigures {
    pub fn new(messages: u64, bytes: u64, secs: f64, peak_rss_bytes: Option<u64>) -> Self {
        let secs_nz = secs.max(1e-9);
        PhaseFigures {
            messages,
            bytes,
            secs,
            messages_per_sec: messages as f64 / secs_nz,
            mb_per_sec: bytes as f64 / 1e6 / secs_nz,
            peak_rss_bytes,
            cpu: None,
        }
    }

    pub fn with_cpu(mut self, cpu: Option<CpuUse>) -> Self {
        self.cpu = cpu;
        self
    }
}

/// The ceiling: connect, SELECT, UID SEARCH, then per batch UID FETCH RFC822.SIZE and
/// BODY.PEEK[]; bytes discarded.
#[derive(Debug, Clone, Serialize)]
pub struct FetchOnlyReport {
    #[serde(flatten)]
    pub figures: PhaseFigures,
    /// Every pass, in seconds; the figures are those of the fastest.
    pub pass_secs: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrainReport {
    /// From starting the poller to its Idle event after the last batch.
    #[serde(flatten)]
    pub figures: PhaseFigures,
    /// Drain rate / fetch-only rate.
    pub ratio_to_fetch_only: Option<f64>,
    /// Drain rate / fetch + move rate.
    pub ratio_to_fetch_and_move: Option<f64>,
    /// From starting the poller (connect, login, SELECT included) to the first commit.
    pub first_commit_secs: f64,
    /// Decisions of the handled messages, by name (created, threaded, ignored …).
    pub decisions: BTreeMap<String, u64>,
    pub inbox_left: u32,
    pub processed_folder: String,
    pub processed: u32,
    pub disconnects: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    pub mails: usize,
    pub interval_ms: u64,
    /// Time to send them all (SMTP accepted, one after the other).
    pub send_secs: f64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Rounds of the poller (woken from IDLE, fetch, commit, back to IDLE) for these mails.
    pub poller_rounds: u64,
    pub inbox_left: u32,
    pub disconnects: usize,
    pub peak_rss_bytes: Option<u64>,
    pub cpu: Option<CpuUse>,
}

impl LatencyReport {
    /// Figures from the per-mail latencies (any order).
    pub fn from_samples(
        mut samples: Vec<Duration>,
        interval_ms: u64,
        send_secs: f64,
    ) -> LatencyReport {
        samples.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let total: Duration = samples.iter().sum();
        LatencyReport {
            mails: samples.len(),
            interval_ms,
            send_secs,
            min_ms: samples.first().copied().map_or(0.0, ms),
            mean_ms: if samples.is_empty() {
                0.0
            } else {
                ms(total) / samples.len() as f64
            },
            p50_ms: ms(percentile(&samples, 50.0)),
            p90_ms: ms(percentile(&samples, 90.0)),
            p99_ms: ms(percentile(&samples, 99.0)),
            max_ms: samples.last().copied().map_or(0.0, ms),
            poller_rounds: 0,
            inbox_left: 0,
            disconnects: 0,
            peak_rss_bytes: None,
            cpu: None,
        }
    }
}

/// Nearest-rank percentile of sorted samples (p99 of 200 samples is the 198th).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub name: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

impl ImapBenchReport {
    /// Compares the figures with the targets of the issue.
    pub fn check_targets(&mut self) {
        let mut targets = Vec::new();
        if let Some(drain) = &self.drain {
            let rate = drain.figures.messages_per_sec;
            targets.push(TargetCheck {
                name: "drain throughput".into(),
                target: format!(">= {DRAIN_TARGET_PER_SEC:.0} msg/s"),
                measured: format!("{rate:.0} msg/s"),
                met: rate >= DRAIN_TARGET_PER_SEC,
            });
            if let Some(ratio) = drain.ratio_to_fetch_only {
                targets.push(TargetCheck {
                    name: "drain / fetch-only ceiling".into(),
                    target: format!(">= {:.0}%", DRAIN_TARGET_RATIO * 100.0),
                    measured: format!("{:.0}%", ratio * 100.0),
                    met: ratio >= DRAIN_TARGET_RATIO,
                });
            }
        }
        if let Some(latency) = &self.latency {
            targets.push(TargetCheck {
                name: "latency p50".into(),
                target: format!("< {LATENCY_P50_TARGET_MS:.0} ms"),
                measured: format!("{:.0} ms", latency.p50_ms),
                met: latency.p50_ms < LATENCY_P50_TARGET_MS,
            });
            targets.push(TargetCheck {
                name: "latency p99".into(),
                target: format!("< {LATENCY_P99_TARGET_MS:.0} ms"),
                measured: format!("{:.0} ms", latency.p99_ms),
                met: latency.p99_ms < LATENCY_P99_TARGET_MS,
            });
        }
        self.targets = targets;
    }

    /// The table for people.
    pub fn print_table(&self) {
        println!(
            "mailgate-bench imap: user {}, IMAP {} (poller and fetch-only), SMTP {}, batch size {}, {} threads",
            self.user, self.imap_server, self.smtp_server, self.batch_size, self.threads
        );
        if let Some(b) = &self.backlog {
            println!(
                "backlog (setup): {} messages, {:.1} MB ({} conversations, {} replies, {} with \
                 attachments), generated in {:.1} s, appended in {:.1} s = {:.0} msg/s ({})",
                b.messages,
                b.bytes as f64 / 1e6,
                b.conversations,
                b.replies,
                b.attachments,
                b.generate_secs,
                b.append_secs,
                b.append_messages_per_sec,
                b.append_method
            );
        }
        if self.fetch_only.is_some() || self.drain.is_some() || self.fetch_and_move.is_some() {
            println!();
            println!(
                "{:<22} {:>9} {:>9} {:>9} {:>10} {:>8} {:>10} {:>13}",
                "phase", "messages", "MB", "time", "msg/s", "MB/s", "peak RSS", "CPU own/all"
            );
        }
        if let Some(f) = &self.fetch_only {
            let passes = if f.pass_secs.len() > 1 {
                let all: Vec<String> = f.pass_secs.iter().map(|s| format!("{s:.2}")).collect();
                format!("   (best of passes: {} s)", all.join(", "))
            } else {
                String::new()
            };
            print_phase("fetch-only ceiling", &f.figures, &passes);
        }
        if let Some(m) = &self.fetch_and_move {
            print_phase(
                "fetch + move (ref.)",
                m,
                "   (after the drain: fetch, MOVE on a 2nd connection)",
            );
        }
        if let Some(d) = &self.drain {
            let ratios: Vec<String> = [
                (d.ratio_to_fetch_only, "fetch-only"),
                (d.ratio_to_fetch_and_move, "fetch + move"),
            ]
            .iter()
            .filter_map(|(r, name)| r.map(|r| format!("{:.0}% of {name}", r * 100.0)))
            .collect();
            let note = if ratios.is_empty() {
                String::new()
            } else {
                format!("   = {}", ratios.join(", "))
            };
            print_phase("drain (poller)", &d.figures, &note);
            let decisions: Vec<String> = d
                .decisions
                .iter()
                .map(|(name, n)| format!("{n} {name}"))
                .collect();
            println!(
                "  first commit after {:.2} s; decisions: {}; INBOX left: {}, {}: {}; reconnects: {}",
                d.first_commit_secs,
                decisions.join(", "),
                d.inbox_left,
                d.processed_folder,
                d.processed,
                d.disconnects
            );
        }
        if let Some(l) = &self.latency {
            println!();
            println!(
                "latency, SMTP accepted -> ticket committed (poller in IDLE), {} mails {} ms apart \
                 (sent in {:.1} s):",
                l.mails, l.interval_ms, l.send_secs
            );
            println!(
                "  p50 {:.0} ms   p90 {:.0} ms   p99 {:.0} ms   max {:.0} ms   min {:.0} ms   mean {:.0} ms",
                l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.min_ms, l.mean_ms
            );
            println!(
                "  poller rounds (IDLE wake-ups): {}; INBOX left: {}; reconnects: {}; peak RSS {}; \
                 CPU own/all {} cores",
                l.poller_rounds,
                l.inbox_left,
                l.disconnects,
                rss(l.peak_rss_bytes),
                cpu(l.cpu)
            );
        }
        println!();
        if self.problems.is_empty() {
            println!(
                "checks: every message handled once, mailbox emptied, one decision per message, \
                 tickets as reported: ok"
            );
        } else {
            for problem in &self.problems {
                println!("CHECK FAILED: {problem}");
            }
        }
        if !self.targets.is_empty() {
            println!();
            println!(
                "{:<28} {:>14} {:>14}  result",
                "target", "wanted", "measured"
            );
            for t in &self.targets {
                println!(
                    "{:<28} {:>14} {:>14}  {}",
                    t.name,
                    t.target,
                    t.measured,
                    if t.met { "met" } else { "MISSED" }
                );
            }
        }
    }
}

fn print_phase(name: &str, f: &PhaseFigures, note: &str) {
    println!(
        "{:<22} {:>9} {:>9.1} {:>7.2} s {:>10.0} {:>8.1} {:>10} {:>13}{note}",
        name,
        f.messages,
        f.bytes as f64 / 1e6,
        f.secs,
        f.messages_per_sec,
        f.mb_per_sec,
        rss(f.peak_rss_bytes),
        cpu(f.cpu)
    );
}

/// `own/all of N` cores: mailgate's and the machine's.
fn cpu(cpu: Option<CpuUse>) -> String {
    cpu.map(|c| {
        format!(
            "{:.1}/{:.1} of {}",
            c.process_cores, c.machine_cores, c.cores
        )
    })
    .unwrap_or_else(|| "n/a".into())
}

fn rss(bytes: Option<u64>) -> String {
    bytes
        .map(|b| format!("{:.1} MB", b as f64 / 1_048_576.0))
        .unwrap_or_else(|| "n/a".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=200).map(ms).collect();
        assert_eq!(percentile(&samples, 50.0), ms(100));
        assert_eq!(percentile(&samples, 99.0), ms(198));
        assert_eq!(percentile(&samples, 100.0), ms(200));
        assert_eq!(percentile(&[ms(7)], 99.0), ms(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn latency_figures_and_targets() {
        let samples: Vec<Duration> = (1..=200).rev().map(|i| ms(i * 5)).collect();
        let latency = LatencyReport::from_samples(samples, 10, 2.5);
        assert_eq!(latency.mails, 200);
        assert_eq!(latency.p50_ms, 500.0);
        assert_eq!(latency.p99_ms, 990.0);
        assert_eq!(latency.max_ms, 1000.0);
        assert_eq!(latency.min_ms, 5.0);
        let mut report = ImapBenchReport {
            user: "u".into(),
            imap_server: "s".into(),
            smtp_server: "t".into(),
            batch_size: 200,
            threads: 2,
            backlog: None,
            fetch_only: None,
            fetch_and_move: None,
            drain: Some(DrainReport {
                figures: PhaseFigures::new(10_000, 70_000_000, 4.0, None),
                ratio_to_fetch_only: Some(0.6),
                ratio_to_fetch_and_move: None,
                first_commit_secs: 0.1,
                decisions: BTreeMap::new(),
                inbox_left: 0,
                processed_folder: "Processed".into(),
                processed: 10_000,
                disconnects: 0,
            }),
            latency: Some(latency),
            targets: Vec::new(),
            problems: Vec::new(),
        };
        report.check_targets();
        let met: Vec<(&str, bool)> = report
            .targets
            .iter()
            .map(|t| (t.name.as_str(), t.met))
            .collect();
        assert_eq!(
            met,
            [
                ("drain throughput", true),
                ("drain / fetch-only ceiling", false),
                ("latency p50", true),
                ("latency p99", true),
            ]
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["drain"]["messages_per_sec"], 2500.0);
        assert_eq!(json["latency"]["p99_ms"], 990.0);
    }
}
