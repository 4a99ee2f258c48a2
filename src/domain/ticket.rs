//! A ticket's status and priority, its participants' roles and its messages' direction and
//! flag, with their stored (snake_case) names.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {value:?} is not one of: {allowed}")]
pub struct UnknownValue {
    kind: &'static str,
    value: String,
    allowed: &'static str,
}

macro_rules! string_enum {
    ($name:ident, $kind:literal, { $($(#[$doc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$doc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        kind: $kind,
                        value: s.to_string(),
                        allowed: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

string_enum!(Status, "status", {
    New => "new",
    Open => "open",
    Pending => "pending",
    Resolved => "resolved",
    Closed => "closed",
});

string_enum!(Priority, "priority", {
    Low => "low",
    Normal => "normal",
    High => "high",
    Critical => "critical",
});

string_enum!(ParticipantRole, "participant role", {
    Requester => "requester",
    Cc => "cc",
    Agent => "agent",
    Technician => "technician",
});

string_enum!(MessageDirection, "message direction", {
    /// Mail received.
    Inbound => "inbound",
    /// Mail mailgate sent on the ticket.
    Outbound => "outbound",
    /// Internal: never sent to the customer (an accepted escalation's evidence, an
    /// unauthenticated agent's mail, an agent's note).
    Note => "note",
});

string_enum!(MessageFlag, "message flag", {
    /// Written into a ticket by someone who is not its participant.
    NonParticipant => "non_participant",
    /// Claims an agent's address without the receiving server's attestation.
    UnverifiedAgent => "unverified_agent",
});

string_enum!(PingKind, "SLA ping kind", {
    /// Internal: an open ticket nobody answered for its interval.
    OpenReminder => "open_reminder",
    /// To the customer: the pending ticket waits on them.
    PendingPrompt => "pending_prompt",
    /// The quiet pending ticket is resolved, with a closing notice.
    AutoClose => "auto_close",
});

impl Status {
    /// Resolved and closed tickets are reopened by a customer's reply.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

/// A ticket's clocks: what the SLA schedule (`sla::schedule`) needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketClock {
    pub number: i64,
    pub status: Status,
    pub priority: Priority,
    /// When the ticket took its current status.
    pub status_since: i64,
    pub last_agent_at: Option<i64>,
    pub last_customer_at: Option<i64>,
    /// When the latest prompt of this ticket was sent, if any.
    pub prompted_at: Option<i64>,
    /// The due time of the latest open reminder sent, if any: a clock that jumped back never
    /// sends an older interval's reminder after a newer one.
    pub reminded_due: Option<i64>,
}

impl Priority {
    /// Whether `self` is more urgent than `other` (low < normal < high < critical).
    pub fn is_above(self, other: Priority) -> bool {
        let rank = |p: Priority| match p {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Critical => 3,
        };
        rank(self) > rank(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_ordered_by_urgency() {
        use Priority::*;
        assert!(Critical.is_above(High) && High.is_above(Normal) && Normal.is_above(Low));
        assert!(!Normal.is_above(Normal) && !Low.is_above(Critical) && !High.is_above(Critical));
    }

    #[test]
    fn round_trips() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>().unwrap(), *p);
        }
        assert_eq!(
            " Critical ".parse::<Priority>().unwrap(),
            Priority::Critical
        );
    }

    #[test]
    fn unknown_value_lists_allowed() {
        let err = "urgent".parse::<Priority>().unwrap_err().to_string();
        assert!(err.contains("urgent") && err.contains("critical"), "{err}");
    }

    #[test]
    fn finished() {
        assert!(Status::Resolved.is_finished());
        assert!(Status::Closed.is_finished());
        assert!(!Status::Pending.is_finished());
    }
}
