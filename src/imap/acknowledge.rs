//! Step 7 of the pipeline for IMAP, purely: after a batch commits, where each handled message
//! goes — the processed, rejected or quarantine folder, or (when no folder is configured) a
//! keyword on the message left in place. Grouped so one MOVE/STORE per destination serves a
//! whole batch.

use crate::config::MailboxSettings;
use crate::domain::Action;

use super::sync_plan::UidBatch;

/// What happened to a message, as far as its mailbox is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handled {
    Processed,
    /// Refused (escalations without evidence, from the escalation gate).
    Rejected,
    Quarantined,
}

impl Handled {
    pub fn of(action: &Action) -> Handled {
        match action {
            Action::Quarantine => Handled::Quarantined,
            Action::RejectEscalation { .. } => Handled::Rejected,
            Action::CreateTicket { .. } | Action::AppendToTicket { .. } | Action::Ignore { .. } => {
                Handled::Processed
            }
        }
    }

    /// From a stored decision name (`Action::name`), for repairs after a crash. Total over the
    /// names `Action::name` gives (a test ties the two); any other name is an error, never a
    /// guess: a renamed decision must not move quarantined mail to the processed folder.
    pub fn from_decision_name(name: &str) -> Result<Handled, UnknownDecision> {
        match name {
            "created" | "threaded" | "duplicate" | "ignored" => Ok(Handled::Processed),
            "rejected" => Ok(Handled::Rejected),
            "quarantined" => Ok(Handled::Quarantined),
            other => Err(UnknownDecision(other.to_string())),
        }
    }

    /// The keyword set in flags-only mode. Also excluded by the repair search, so a message
    /// already acknowledged in place is not acknowledged again.
    pub fn keyword(self) -> &'static str {
        match self {
            Handled::Processed => "$MailgateProcessed",
            Handled::Rejected => "$MailgateRejected",
            Handled::Quarantined => "$MailgateQuarantined",
        }
    }

    pub const ALL: [Handled; 3] = [Handled::Processed, Handled::Rejected, Handled::Quarantined];
}

/// A stored decision name the crash repair does not know: the mail is left where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown decision {0:?}: not acknowledged, left in the folder")]
pub struct UnknownDecision(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Move the message into this folder.
    Folder(String),
    /// Leave the message where it is and set this keyword.
    Keyword(&'static str),
}

/// The configured destinations of one mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    pub processed: Option<String>,
    pub rejected: Option<String>,
    pub quarantine: Option<String>,
}

impl Destinations {
    pub fn of(mb: &MailboxSettings) -> Destinations {
        let folder = |f: &Option<String>| {
            f.as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        Destinations {
            processed: folder(&mb.processed_folder),
            rejected: folder(&mb.rejected_folder),
            quarantine: folder(&mb.quarantine_folder),
        }
    }

    pub fn target(&self, handled: Handled) -> Target {
        let folder = match handled {
            Handled::Processed => &self.processed,
            Handled::Rejected => &self.rejected,
            Handled::Quarantined => &self.quarantine,
        };
        match folder {
            Some(f) => Target::Folder(f.clone()),
            None => Target::Keyword(handled.keyword()),
        }
    }

    /// Folders that must exist before anything is moved.
    pub fn folders(&self) -> Vec<&str> {
        [&self.processed, &self.rejected, &self.quarantine]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// One acknowledgement command: these UIDs go to this target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub target: Target,
    pub uids: UidBatch,
}

/// Groups handled messages by destination, in order of first appearance, UIDs sorted.
pub fn plan(
    handled: impl IntoIterator<Item = (u32, Handled)>,
    destinations: &Destinations,
) -> Vec<Acknowledgement> {
    let mut out: Vec<Acknowledgement> = Vec::new();
    for (uid, h) in handled {
        let target = destinations.target(h);
        match out.iter_mut().find(|a| a.target == target) {
            Some(a) => a.uids.uids.push(uid),
            None => out.push(Acknowledgement {
                target,
                uids: UidBatch { uids: vec![uid] },
            }),
        }
    }
    for a in &mut out {
        a.uids.uids.sort_unstable();
        a.uids.uids.dedup();
    }
    out
}

/// `UID SEARCH` for messages at or below the checkpoint that are still in the folder and not
/// acknowledged in place: their batch committed but the process died before moving them.
pub fn repair_query(last_uid: u32) -> String {
    let mut q = format!("UID 1:{last_uid}");
    for h in Handled::ALL {
        q.push_str(" NOT KEYWORD ");
        q.push_str(h.keyword());
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IgnoreReason, Priority, Status, TicketRef};

    /// One action of every kind, every ignore reason included. The match below has no
    /// wildcard, so a new kind of action does not compile until it is listed here.
    fn every_action() -> Vec<Action> {
        let every = vec![
            Action::CreateTicket {
                status: Status::New,
                priority: Priority::Normal,
                escalation: false,
            },
            Action::AppendToTicket {
                ticket: TicketRef::new("SUP", 1),
                new_status: None,
            },
            Action::Ignore {
                reason: IgnoreReason::Duplicate,
            },
            Action::Ignore {
                reason: IgnoreReason::MachineUnthreaded,
            },
            Action::Ignore {
                reason: IgnoreReason::OwnMail,
            },
            Action::RejectEscalation { answer: true },
            Action::Quarantine,
        ];
        for action in &every {
            match action {
                Action::CreateTicket { .. }
                | Action::AppendToTicket { .. }
                | Action::Ignore {
                    reason:
                        IgnoreReason::Duplicate
                        | IgnoreReason::MachineUnthreaded
                        | IgnoreReason::OwnMail,
                }
                | Action::RejectEscalation { .. }
                | Action::Quarantine => {}
            }
        }
        every
    }

    #[test]
    fn every_decision_name_maps_back_to_where_its_action_goes() {
        for action in every_action() {
            assert_eq!(
                Handled::from_decision_name(action.name()),
                Ok(Handled::of(&action)),
                "decision {:?}",
                action.name()
            );
        }
        // The names stored in databases today: renaming one breaks this test on purpose,
        // since mail decided under the old name must still be repaired.
        let mut names: Vec<&str> = every_action().iter().map(Action::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names,
            [
                "created",
                "duplicate",
                "ignored",
                "quarantined",
                "rejected",
                "threaded"
            ]
        );
    }

    #[test]
    fn an_unknown_decision_name_is_an_error_not_processed() {
        let err = Handled::from_decision_name("escalated").unwrap_err();
        assert_eq!(err, UnknownDecision("escalated".into()));
        assert!(err.to_string().contains("\"escalated\""), "{err}");
        assert!(Handled::from_decision_name("").is_err());
    }

    fn dest(processed: Option<&str>, quarantine: Option<&str>) -> Destinations {
        Destinations {
            processed: processed.map(String::from),
            rejected: None,
            quarantine: quarantine.map(String::from),
        }
    }

    #[test]
    fn quarantined_mail_goes_to_quarantine_everything_else_to_processed() {
        assert_eq!(Handled::of(&Action::Quarantine), Handled::Quarantined);
        let ignored = Action::Ignore {
            reason: IgnoreReason::Duplicate,
        };
        assert_eq!(Handled::of(&ignored), Handled::Processed);
    }

    #[test]
    fn groups_by_destination_in_order() {
        let d = dest(Some("Processed"), Some("Quarantine"));
        let acks = plan(
            [
                (7, Handled::Processed),
                (5, Handled::Quarantined),
                (3, Handled::Processed),
                (4, Handled::Processed),
            ],
            &d,
        );
        assert_eq!(acks.len(), 2);
        assert_eq!(acks[0].target, Target::Folder("Processed".into()));
        assert_eq!(acks[0].uids.sequence_set(), "3:4,7");
        assert_eq!(acks[1].target, Target::Folder("Quarantine".into()));
        assert_eq!(acks[1].uids.sequence_set(), "5");
    }

    #[test]
    fn without_folders_messages_are_flagged_in_place() {
        let d = dest(None, Some("  "));
        assert_eq!(
            d.target(Handled::Processed),
            Target::Keyword("$MailgateProcessed")
        );
        let settings = crate::config::Settings::from_toml(
            "[[mailboxes]]\nname = \"support\"\nquarantine_folder = \"  \"\n",
            "test",
        )
        .unwrap();
        let d = Destinations::of(&settings.mailboxes[0]);
        assert_eq!(
            d.target(Handled::Quarantined),
            Target::Keyword("$MailgateQuarantined")
        );
        assert!(d.folders().is_empty());
        assert!(plan([], &d).is_empty());
    }

    #[test]
    fn repair_search_skips_mail_acknowledged_in_place() {
        assert_eq!(
            repair_query(42),
            "UID 1:42 NOT KEYWORD $MailgateProcessed NOT KEYWORD $MailgateRejected \
             NOT KEYWORD $MailgateQuarantined"
        );
    }
}
