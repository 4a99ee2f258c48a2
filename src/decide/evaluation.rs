//! What deciding takes (the store's answers, the context of the run) and gives (an
//! [`Evaluation`]: the decision, the ticket, who wrote the mail), shared by the rules of every
//! mailbox (`decide`, `decide::escalation`).

use crate::alerts::AlertSources;
use crate::domain::{
    AlertKey, Classification, Decision, EmailAddress, MessageFlag, MessageId, Priority, Status,
};
use crate::escalation::gate::GateReport;
use crate::escalation::rules::{EscalationRules, TicketLookup};
use crate::thread::{ThreadContext, ThreadLookup};

use crate::store::Seen;

/// Everything deciding needs from the store (the escalation gate's ticket lookup included).
pub trait DecideLookup: ThreadLookup + TicketLookup {
    fn seen(&self, id: &MessageId) -> Option<Seen>;
    /// The ticket of a monitoring alert's key that is still new, open or pending.
    fn open_alert_ticket(&self, key: &AlertKey) -> Option<i64>;
    /// The priority of a ticket the batch may touch (`None`: not known to this lookup).
    fn ticket_priority(&self, _number: i64) -> Option<Priority> {
        None
    }
}

pub struct DecideContext<'a> {
    pub thread: ThreadContext<'a>,
    /// `import --archive`: history, so tickets are created closed and never reopened.
    pub archive: bool,
    /// The escalation gate's rules (SPEC 4), for mail at an escalation mailbox.
    pub escalation: &'a EscalationRules,
    /// `notify.technicians`: staff whose authenticated mail involves them in a ticket.
    pub technicians: &'a [EmailAddress],
    /// `[[alerts]]`: the monitoring systems whose alerts open tickets (SPEC 7).
    pub alerts: &'a AlertSources,
}

/// A decision plus what the store needs to apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The ticket the mail lands on, for appends and duplicates.
    pub ticket: Option<i64>,
    /// The very same bytes were decided before (a re-run or re-delivery): nothing at all is
    /// stored, not even a decision row, so re-running an import changes nothing.
    pub redelivery: bool,
    /// What the escalation gate found and decided, for mail it judged.
    pub escalation: Option<Box<GateReport>>,
    /// Who wrote a mail that lands on an existing ticket, as far as it is proven.
    pub author: Author,
    /// For a monitoring alert acted on: its key, entry and priority.
    pub alert: Option<AlertNote>,
}

impl Evaluation {
    /// `decision` on `ticket` by `author`: not a re-delivery, not judged by the escalation
    /// gate, not a monitoring alert (set those fields where they apply).
    pub fn new(decision: Decision, ticket: Option<i64>, author: Author) -> Evaluation {
        Evaluation {
            decision,
            ticket,
            redelivery: false,
            escalation: None,
            author,
            alert: None,
        }
    }
}

/// What planning needs of a monitoring alert's decision: the key a new ticket is stored
/// under, the `[[alerts]]` entry, and the priority (critical: every technician is alerted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNote {
    pub key: AlertKey,
    pub source: String,
    pub priority: Priority,
    /// A repeat at a higher state: the ticket's priority is raised to this (a critical one
    /// alerts every technician).
    pub raise: Option<Priority>,
    /// A recovery resolves a critical ticket: every technician is told (SPEC 6).
    pub resolves_critical: bool,
}

/// Who wrote a mail threaded onto an existing ticket, as far as anything proves it (SPEC 2,
/// Trust; 2.4.1; 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// A participant (the customer side), or any mail that opens a ticket.
    Participant,
    /// Not a participant of the ticket it threaded onto by Message-ID, or unverified: the
    /// mail is stored and flagged; it makes nobody a participant and changes no status.
    NonParticipant,
    /// An agent, authenticated by the trusted Authentication-Results or by the reply address
    /// mailgate signed for them: their mail is relayed to the customers.
    Agent,
    /// From an agent's address but not authenticated: an internal note marked unverified,
    /// never relayed, no status change.
    UnverifiedAgent,
    /// A technician of `notify.technicians`, authenticated by the trusted
    /// Authentication-Results, writing onto a ticket they were not yet part of (by its
    /// Message-ID): stored unflagged, and they become a participant with the technician role
    /// (involved, SPEC 6: the resolution of a critical ticket reaches them). Staff mail: it
    /// changes no status and is not customer activity.
    Technician,
}

impl Author {
    /// The flag stored on the message (`messages.flag`), `None` for unflagged mail.
    pub fn flag(self) -> Option<MessageFlag> {
        match self {
            Author::NonParticipant => Some(MessageFlag::NonParticipant),
            Author::UnverifiedAgent => Some(MessageFlag::UnverifiedAgent),
            Author::Participant | Author::Agent | Author::Technician => None,
        }
    }

    /// Whether the mail may change the ticket's status (reopen it).
    pub(super) fn may_change_status(self) -> bool {
        matches!(self, Author::Participant | Author::Agent)
    }
}

/// A person's reply to a resolved, closed or pending ticket opens it again; machine mail and
/// imported history never change a status.
pub(super) fn reopens(
    classification: &Classification,
    status: Option<Status>,
    ctx: &DecideContext,
) -> Option<Status> {
    if classification.is_machine_generated() || ctx.archive {
        return None;
    }
    match status? {
        Status::Resolved | Status::Closed | Status::Pending => Some(Status::Open),
        Status::New | Status::Open => None,
    }
}
