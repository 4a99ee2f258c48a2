//! `Decision`: what the pipeline does with one mail, the rule that led there and a sentence
//! an admin can read. Produced by `crate::decide`, stored in the decision log.

use serde::Serialize;

use super::{Priority, Status, TicketRef};

/// What kind of mail this is (SPEC 2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "why", rename_all = "snake_case")]
pub enum Classification {
    /// A delivery status notification or a message from a mailer daemon.
    Bounce(String),
    /// A feedback report (ARF, RFC 5965; an SES complaint): a recipient's mailbox provider
    /// reports mail as abuse. Never a ticket; stored on the ticket of the mail it reports.
    Report(String),
    /// Auto-Submitted, Precedence bulk/junk/list, X-Autoreply...: no human wrote it.
    Automatic(String),
    /// Arrived at a mailbox whose role is `escalation`.
    Escalation,
    Plain,
}

impl Classification {
    pub fn as_str(&self) -> &'static str {
        match self {
            Classification::Bounce(_) => "bounce",
            Classification::Report(_) => "report",
            Classification::Automatic(_) => "automatic",
            Classification::Escalation => "escalation",
            Classification::Plain => "plain",
        }
    }

    /// Bounces, reports and automatic mail never create or reopen a ticket and are never
    /// answered.
    pub fn is_machine_generated(&self) -> bool {
        matches!(
            self,
            Classification::Bounce(_) | Classification::Report(_) | Classification::Automatic(_)
        )
    }

    /// What recognised machine mail (the signal: `DSN`, `ARF`, `Auto-Submitted: …`); `None`
    /// for a person's mail.
    pub fn why(&self) -> Option<&str> {
        match self {
            Classification::Bounce(why)
            | Classification::Report(why)
            | Classification::Automatic(why) => Some(why),
            Classification::Escalation | Classification::Plain => None,
        }
    }
}

/// The rule that decided, as stored in the decision log (`rule` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Message-ID already stored.
    Duplicate,
    /// In-Reply-To names a stored Message-ID.
    InReplyTo,
    /// References names a stored Message-ID.
    References,
    /// Recipient `support+<token>@` whose token verifies.
    PlusAddress,
    /// `[PREFIX-n]` in the subject, sender a participant.
    SubjectTag,
    /// `[PREFIX-n]` in the subject from someone who is not a participant: new ticket.
    StrangerTag,
    /// `[PREFIX-n]` naming a ticket that does not exist: new ticket.
    UnknownTag,
    /// Nothing matched: new ticket.
    NewTicket,
    /// Bounce or automatic mail that threads nowhere: logged only.
    Unthreaded,
    /// The mail could not be parsed or used.
    Unparseable,
    /// Larger than the configured limit.
    OverSize,
    /// Over a budget of `[limits]` (header bytes or fields, MIME parts or depth); the reason
    /// names the budget and its config key.
    OverBudget,
    /// Storing it failed; kept in quarantine to reprocess.
    PipelineError,
    /// mailgate's own mail coming back (our verified Message-ID, or From one of our addresses).
    OwnMail,
    /// A bounce whose returned mail (or In-Reply-To / References) is one mailgate sent.
    ReturnedMail,
    /// Other bytes under the Message-ID of a mail already received and stored: kept under the
    /// synthetic id of its bytes, on the ticket of that mail.
    ReusedMessageId,
    /// An escalation with all the evidence the rules require (SPEC 4).
    EscalationAccepted,
    /// An escalation missing evidence: refused, the sender told what to add.
    EscalationRefused,
    /// Mail at an escalation mailbox from a sender who may not escalate: logged only.
    EscalationUnauthorised,
    /// A monitoring alert's problem with no open ticket for its key: a new ticket (SPEC 7).
    AlertProblem,
    /// A monitoring alert's problem whose key's ticket is still open: stored there.
    AlertRepeat,
    /// A monitoring alert's recovery: stored on its key's open ticket and resolving it (or
    /// logged when there is none).
    AlertRecovery,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Duplicate => "duplicate",
            Rule::InReplyTo => "in-reply-to",
            Rule::References => "references",
            Rule::PlusAddress => "plus-address",
            Rule::SubjectTag => "subject-tag",
            Rule::StrangerTag => "stranger-tag",
            Rule::UnknownTag => "unknown-tag",
            Rule::NewTicket => "new-ticket",
            Rule::Unthreaded => "unthreaded",
            Rule::Unparseable => "unparseable",
            Rule::OverSize => "over-size",
            Rule::OverBudget => "over-budget",
            Rule::PipelineError => "pipeline-error",
            Rule::OwnMail => "own-mail",
            Rule::ReturnedMail => "returned-mail",
            Rule::ReusedMessageId => "reused-message-id",
            Rule::EscalationAccepted => "escalation-accepted",
            Rule::EscalationRefused => "escalation-refused",
            Rule::EscalationUnauthorised => "escalation-unauthorised",
            Rule::AlertProblem => "alert-problem",
            Rule::AlertRepeat => "alert-repeat",
            Rule::AlertRecovery => "alert-recovery",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreReason {
    Duplicate,
    /// Bounce or automatic mail that belongs to no ticket.
    MachineUnthreaded,
    /// mailgate's own outgoing mail seen again: never a customer's message.
    OwnMail,
}

/// What to do with the mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreateTicket {
        status: Status,
        priority: Priority,
        escalation: bool,
    },
    AppendToTicket {
        ticket: TicketRef,
        /// Set when the ticket's status changes (a resolved ticket reopened).
        new_status: Option<Status>,
    },
    Ignore {
        reason: IgnoreReason,
    },
    /// An escalation refused by the gate: nothing escalated, the decision kept for audit.
    /// `answer`: the sender gets the refusal (never a stranger, never automatic mail).
    RejectEscalation {
        answer: bool,
    },
    Quarantine,
}

impl Action {
    /// The decision name shown in `mailgate decisions` and counted by `import`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::CreateTicket { .. } => "created",
            Action::AppendToTicket { .. } => "threaded",
            Action::Ignore {
                reason: IgnoreReason::Duplicate,
            } => "duplicate",
            Action::Ignore { .. } => "ignored",
            Action::RejectEscalation { .. } => "rejected",
            Action::Quarantine => "quarantined",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub action: Action,
    pub classification: Classification,
    pub rule: Rule,
    /// One sentence for people: why this mail went where it went.
    pub reason: String,
}
