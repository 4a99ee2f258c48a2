//! What the store reads back (tickets, their participants, messages and attachments, the
//! decision log, the quarantine, a ticket's notifications) and what the agent commands write
//! besides a batch's [`super::Writes`]. Plain rows: the CLI and the pipeline turn them into what
//! they show or decide with.

use serde::Serialize;
use sqlx::FromRow;

use crate::domain::{
    EmailAddress, MessageDirection, MessageId, ParticipantRole, PingKind, Priority, Status,
    TicketClock,
};

use super::{RawDecodeError, StoredRaw};

#[derive(Debug, Clone, FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester: String,
    pub mailbox: String,
    pub escalation: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub message_count: i64,
    /// The agent or technician it is assigned to, if any.
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ParticipantRow {
    pub address: String,
    pub name: Option<String>,
    pub role: String,
    pub bouncing: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct MessageRow {
    pub message_id: String,
    pub direction: String,
    pub classification: String,
    pub from_addr: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub sent_date: Option<i64>,
    pub received_at: i64,
    /// `None` for received mail: derived from `raw` when shown (`pipeline::message_texts`).
    pub body_text: Option<String>,
    /// `None` for received mail: derived from `raw` when shown (`pipeline::message_texts`).
    pub reply_text: Option<String>,
    /// Only loaded when a text must be derived from it; encoded as `raw_codec` says.
    pub raw: Option<Vec<u8>>,
    pub raw_codec: String,
    pub source: String,
    /// `non_participant` / `unverified_agent`: stored with a reservation (SPEC 2, Trust).
    pub flag: Option<String>,
}

impl MessageRow {
    /// The mail as received, when it was loaded.
    pub fn raw_bytes(&self) -> Option<Result<Vec<u8>, RawDecodeError>> {
        self.raw
            .clone()
            .map(|bytes| StoredRaw::decode(&self.raw_codec, bytes))
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttachmentRow {
    pub message_id: String,
    /// Its place among the message's attachments, from 0 (see `pipeline::attachment_content`).
    pub position: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// Where an attachment's content is (see [`Store::attachment_source`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentSource {
    /// The received mail it is a part of, decoded.
    StoredMail(Vec<u8>),
    /// A file mailgate sent, as sent.
    Sent(Vec<u8>),
}

/// A ticket as the agent commands need it, as stored.
#[derive(Debug, Clone)]
pub struct StoredTicket {
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: String,
    /// The agent or technician it is assigned to, if any.
    pub assignee: Option<EmailAddress>,
    /// In the order they joined.
    pub participants: Vec<StoredParticipant>,
    /// Every Message-ID of the ticket, oldest first.
    pub thread: Vec<MessageId>,
    /// The newest mail a customer wrote: received, plain or an escalation, not flagged, not
    /// from one of the ticket's agents or technicians.
    pub latest_customer: Option<MessageRow>,
    /// A monitoring alert opened it (`alert_keys`): it has no customer to mail.
    pub alert: bool,
}

/// One participant of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredParticipant {
    pub address: EmailAddress,
    pub role: ParticipantRole,
    /// A bounce of our mail failed for this address on this ticket.
    pub bouncing: bool,
}

/// A mail mailgate sends on a ticket, stored with the ticket's messages (direction outbound).
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub ticket: i64,
    pub message_id: MessageId,
    /// `Outbound` (sent to the customer) or `Note` (internal, never sent).
    pub direction: MessageDirection,
    pub from_addr: String,
    pub from_name: Option<String>,
    pub to: Vec<EmailAddress>,
    pub subject: String,
    pub in_reply_to: Option<MessageId>,
    pub references: Vec<MessageId>,
    pub body: String,
    pub source: String,
    pub at: i64,
}

/// One notification of a ticket, for `tickets show`.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub recipients: String,
    pub subject: String,
    pub message_id: String,
    pub status: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub created_at: i64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub classification: String,
    pub decision: String,
    pub rule: String,
    pub reason: String,
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct QuarantineRow {
    pub id: i64,
    pub created_at: i64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub reason: String,
    pub status: String,
    /// The mail's size as received, in bytes; `None` when only known to be over the limit.
    pub size: Option<i64>,
    /// Only the header is kept (the message was over the size limit).
    pub header_only: bool,
}

/// A ticket as an SLA pass sees it (`store::sqlite::sla`): its clocks, and the agent's note
/// given with its current status (`set-status pending --note`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTicket {
    pub clock: TicketClock,
    pub status_note: Option<String>,
}

/// One SLA ping sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PingRow {
    pub kind: PingKind,
    pub due_at: i64,
    pub sent_at: i64,
}
