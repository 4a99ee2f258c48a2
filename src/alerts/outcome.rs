//! What an alert does, given the open ticket of its key (SPEC 7): a problem opens a ticket, or
//! threads onto the one still open for its host and service; a recovery is stored on that
//! ticket and resolves it (`on_recovery = "resolve"`, the default) or is only noted there
//! (`"note"`); a recovery with no open ticket is logged only.

use super::AlertKind;

/// `on_recovery` of an `[[alerts]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnRecovery {
    #[default]
    Resolve,
    Note,
}

impl OnRecovery {
    pub fn as_str(self) -> &'static str {
        match self {
            OnRecovery::Resolve => "resolve",
            OnRecovery::Note => "note",
        }
    }
}

impl std::str::FromStr for OnRecovery {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "resolve" => Ok(OnRecovery::Resolve),
            "note" => Ok(OnRecovery::Note),
            other => Err(format!(
                "on_recovery {other:?} is not one of \"resolve\", \"note\""
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertOutcome {
    /// A problem with no open ticket: a new one.
    Open,
    /// A problem whose ticket is still open: threaded onto it.
    Repeat { ticket: i64 },
    /// A recovery of an open ticket; `resolve`: the ticket is resolved.
    Recover { ticket: i64, resolve: bool },
    /// A recovery with no open ticket: logged only.
    StrayRecovery,
}

/// `open`: the ticket of the alert's key that is still open (new, open or pending), if any.
pub fn outcome(kind: AlertKind, open: Option<i64>, on_recovery: OnRecovery) -> AlertOutcome {
    match (kind, open) {
        (AlertKind::Problem, None) => AlertOutcome::Open,
        (AlertKind::Problem, Some(ticket)) => AlertOutcome::Repeat { ticket },
        (AlertKind::Recovery, Some(ticket)) => AlertOutcome::Recover {
            ticket,
            resolve: on_recovery == OnRecovery::Resolve,
        },
        (AlertKind::Recovery, None) => AlertOutcome::StrayRecovery,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_recovery_reads_back_what_it_shows() {
        for r in [OnRecovery::Resolve, OnRecovery::Note] {
            assert_eq!(r.as_str().parse::<OnRecovery>(), Ok(r));
        }
        assert_eq!(OnRecovery::Resolve.as_str(), "resolve");
        assert!("close".parse::<OnRecovery>().is_err());
    }

    #[test]
    fn the_four_outcomes() {
        use AlertKind::*;
        assert_eq!(
            outcome(Problem, None, OnRecovery::Resolve),
            AlertOutcome::Open
        );
        assert_eq!(
            outcome(Problem, Some(3), OnRecovery::Resolve),
            AlertOutcome::Repeat { ticket: 3 }
        );
        assert_eq!(
            outcome(Recovery, Some(3), OnRecovery::Resolve),
            AlertOutcome::Recover {
                ticket: 3,
                resolve: true
            }
        );
        assert_eq!(
            outcome(Recovery, Some(3), OnRecovery::Note),
            AlertOutcome::Recover {
                ticket: 3,
                resolve: false
            }
        );
        assert_eq!(
            outcome(Recovery, None, OnRecovery::Resolve),
            AlertOutcome::StrayRecovery
        );
    }

    #[test]
    fn on_recovery_reads_its_two_values() {
        assert_eq!("resolve".parse(), Ok(OnRecovery::Resolve));
        assert_eq!(" note ".parse(), Ok(OnRecovery::Note));
        assert!("close".parse::<OnRecovery>().is_err());
    }
}
