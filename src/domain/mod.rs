//! The vocabulary of mailgate. Every type here is parsed once, at the edge, and cannot hold an
//! invalid value afterwards: the pipeline never re-validates.

pub mod address_pattern;
pub mod alert_key;
pub mod decision;
pub mod email_address;
pub mod inbound;
pub mod list_id;
pub mod message_id;
pub mod notification;
pub mod outgoing_attachment;
pub mod source;
pub mod ticket;
pub mod ticket_ref;

#[cfg(test)]
pub mod test_support;

pub use address_pattern::AddressPatterns;
pub use alert_key::AlertKey;
pub use decision::{Action, Classification, Decision, IgnoreReason, Rule};
pub use email_address::{EmailAddress, Mailbox};
pub use inbound::{Attachment, ClassifyHeaders, InboundEmail, Kept, SenderOrigin, Trim};
pub use list_id::list_id_of;
pub use message_id::MessageId;
pub use notification::{AutoSubmitted, NotificationKind};
pub use outgoing_attachment::OutgoingAttachment;
pub use source::Source;
pub use ticket::{
    MessageDirection, MessageFlag, ParticipantRole, PingKind, Priority, Status, TicketClock,
};
pub use ticket_ref::TicketRef;
