//! `ImportReport`: the counts an import ends with (SPEC 8, 9: stable snake_case names), the
//! per-message errors with their position, what was skipped, and where a resumed or stopped
//! run began and ended.

use std::fmt;

use serde::Serialize;

use crate::pipeline::Outcome;
use crate::terminal_safe::safe;

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub read: u64,
    pub created: u64,
    pub threaded: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub quarantined: u64,
    pub ignored: u64,
    pub errors: u64,
    /// Messages that could not even be read, with where they are.
    pub failures: Vec<Failure>,
    /// Quarantined messages with their position and reason.
    pub quarantine: Vec<Failure>,
    /// Entries and files passed over as no mail (empty, or not `*.eml` in a folder): not
    /// counted as read.
    pub skipped: u64,
    /// The skipped entries with their position and why (the first [`MAX_LISTED`]).
    pub skips: Vec<Skip>,
    pub dry_run: bool,
    /// Set when the run was interrupted (SIGINT/SIGTERM) before the end of the archive.
    pub interrupted: bool,
    /// The archive, as given.
    pub path: String,
    /// This run read on after messages an earlier, stopped run stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<Position>,
    /// Why this run read the archive from the start although an earlier run had stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_over: Option<String>,
    /// Where an interrupted run stopped: the last message stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Position>,
}

/// A message of the archive and how many of its messages are stored up to it (all runs).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Position {
    pub messages: u64,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skip {
    pub position: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub position: String,
    pub error: String,
}

/// At most this many quarantine / failure lines are kept in the report; counts stay exact.
const MAX_LISTED: usize = 1000;

impl ImportReport {
    pub fn count(&mut self, o: &Outcome) {
        self.read += 1;
        match o.decision.action.name() {
            "created" => self.created += 1,
            "threaded" => self.threaded += 1,
            "duplicate" => self.duplicates += 1,
            "rejected" => self.rejected += 1,
            "quarantined" => {
                self.quarantined += 1;
                if self.quarantine.len() < MAX_LISTED {
                    self.quarantine.push(Failure {
                        position: o.source.clone(),
                        error: o.decision.reason.clone(),
                    });
                }
            }
            _ => self.ignored += 1,
        }
    }

    /// Exact re-deliveries recognised before parsing (same Message-ID, same bytes): duplicates.
    pub fn count_redeliveries(&mut self, n: u64) {
        self.read += n;
        self.duplicates += n;
    }

    /// A message that could not be read at all (I/O error inside the archive).
    pub fn error(&mut self, position: String, error: String) {
        self.read += 1;
        self.errors += 1;
        if self.failures.len() < MAX_LISTED {
            self.failures.push(Failure { position, error });
        }
    }

    /// An entry or file passed over as no mail.
    pub fn skip(&mut self, skip: Skip) {
        self.skipped += 1;
        if self.skips.len() < MAX_LISTED {
            self.skips.push(skip);
        }
    }

    /// Messages the archive yielded in this run (read, less those that could not be read).
    pub fn messages(&self) -> u64 {
        self.read - self.errors
    }

    /// Every message read got a decision (or an error entry).
    pub fn balanced(&self) -> bool {
        self.read
            == self.created
                + self.threaded
                + self.duplicates
                + self.rejected
                + self.quarantined
                + self.ignored
                + self.errors
    }
}

/// Skip lines shown for people; `--json` lists up to [`MAX_LISTED`].
const SKIPS_SHOWN: usize = 10;

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = if self.dry_run {
            "Dry run (nothing stored)"
        } else {
            "Import"
        };
        let state = if self.interrupted {
            " — interrupted"
        } else {
            ""
        };
        writeln!(f, "{title} of {}{state}", safe(&self.path))?;
        if let Some(resumed) = &self.resumed {
            writeln!(
                f,
                "  resumed after message {} ({} stored before)",
                safe(&resumed.at),
                resumed.messages
            )?;
        }
        if let Some(reason) = &self.started_over {
            writeln!(
                f,
                "  read from the start: {} (mail already stored counts as duplicates)",
                safe(reason)
            )?;
        }
        for (label, n) in [
            ("read", self.read),
            ("created", self.created),
            ("threaded", self.threaded),
            ("duplicates", self.duplicates),
            ("rejected", self.rejected),
            ("quarantined", self.quarantined),
            ("ignored", self.ignored),
            ("errors", self.errors),
            ("skipped", self.skipped),
        ] {
            writeln!(f, "  {label:<12} {n:>8}")?;
        }
        for q in &self.quarantine {
            writeln!(f, "  quarantined {}: {}", safe(&q.position), safe(&q.error))?;
        }
        for e in &self.failures {
            writeln!(f, "  error {}: {}", safe(&e.position), safe(&e.error))?;
        }
        for s in self.skips.iter().take(SKIPS_SHOWN) {
            writeln!(f, "  skipped {}: {}", safe(&s.position), safe(&s.reason))?;
        }
        if self.skipped > SKIPS_SHOWN as u64 {
            writeln!(
                f,
                "  … and {} more skipped (--json lists them)",
                self.skipped - SKIPS_SHOWN as u64
            )?;
        }
        if let (Some(stopped), true) = (&self.stopped, self.dry_run) {
            writeln!(
                f,
                "Stopped by a signal after message {} ({} decided, nothing stored).",
                safe(&stopped.at),
                stopped.messages
            )?;
        } else if let Some(stopped) = &self.stopped {
            writeln!(
                f,
                "Stopped by a signal after message {}: {} messages of this archive are stored.",
                safe(&stopped.at),
                stopped.messages
            )?;
            writeln!(
                f,
                "Run the same command again to continue after it (same file, unchanged)."
            )?;
        } else if self.interrupted {
            writeln!(f, "Stopped by a signal before any message was stored.")?;
        }
        if self.messages() == 0 && self.resumed.is_none() && !self.interrupted {
            let skipped = match self.skipped {
                0 => String::new(),
                n => format!(" ({n} skipped as no mail)"),
            };
            writeln!(f, "No mail found in {}{skipped}.", safe(&self.path))?;
        }
        Ok(())
    }
}
