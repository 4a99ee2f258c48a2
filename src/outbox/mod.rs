//! The pure core of outgoing mail (SPEC 5 and 6, issue 4): everything mailgate decides about a
//! notification before any SMTP or database I/O happens.
//!
//! - [`message_id`]: Message-IDs mailgate generates and can later recognise (HMAC-signed).
//! - [`subject`]: the subject line, with the ticket tag exactly once and one `Re: `.
//! - [`headers`]: the header set of one outgoing mail and its RFC 5322 / RFC 2047 rendering.
//! - [`own_addresses`]: which addresses are mailgate's own (never a recipient, never a customer).
//! - [`recipients`]: who gets which notification.
//! - [`loop_guard`]: never answer machines, cap automatic mail per recipient, recognise our own
//!   mail coming back in.
//!
//! - [`agent_mail`]: which agent mail is relayed to the customers, and what of it.
//! - [`escalation_mail`]: the refusal / confirmation of an escalation, to its tier-1 sender.
//! - [`intl`]: non-ASCII addresses: A-labels, SMTPUTF8 or a refusal, per recipient (pure).
//! - [`render`]: an outbox row → the RFC 5322 message bytes (pure); [`attachments`]: the files
//!   a mail carries (which of an agent's are relayed, `multipart/mixed`).
//! - [`enqueue`]: which notifications a stored decision queues (pure; the store writes them);
//!   their bodies are [`crate::templates`].
//!
//! No network, database or file I/O here: the
//! SMTP sender and its connections are the delivery edge (`delivery` at the crate root), the
//! outbox table is the store's; both build on these functions.

pub mod agent_mail;
pub mod attachments;
pub mod enqueue;
pub mod escalation_mail;
pub mod headers;
pub mod intl;
pub mod loop_guard;
pub mod message_id;
pub mod own_addresses;
pub mod recipients;
pub mod render;
pub mod subject;

pub use message_id::OwnMessageIds;
pub use own_addresses::OwnAddresses;
pub use recipients::{Audience, Participants};
