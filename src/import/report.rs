//! `ImportReport`: the counts an import ends with (SPEC 8, 9: stable snake_case names) and the
//! per-message errors with their position.

use std::fmt;

use serde::Serialize;

use crate::cli::output::safe;
use crate::pipeline::Outcome;

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
    pub dry_run: bool,
    /// Set when the run was interrupted (SIGINT/SIGTERM) before the end of the archive.
    pub interrupted: bool,
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

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = if self.dry_run {
            "Dry run (nothing stored)"
        } else {
            "Import"
        };
        let state = if self.interrupted {
            " — interrupted, run again to continue"
        } else {
            ""
        };
        writeln!(f, "{title}{state}")?;
        for (label, n) in [
            ("read", self.read),
            ("created", self.created),
            ("threaded", self.threaded),
            ("duplicates", self.duplicates),
            ("rejected", self.rejected),
            ("quarantined", self.quarantined),
            ("ignored", self.ignored),
            ("errors", self.errors),
        ] {
            writeln!(f, "  {label:<12} {n:>8}")?;
        }
        for q in &self.quarantine {
            writeln!(f, "  quarantined {}: {}", safe(&q.position), safe(&q.error))?;
        }
        for e in &self.failures {
            writeln!(f, "  error {}: {}", safe(&e.position), safe(&e.error))?;
        }
        Ok(())
    }
}
