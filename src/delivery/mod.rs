//! The delivery edge of outgoing mail (SPEC 5): the I/O around the pure core in
//! [`crate::outbox`]. It reads the outbox table ([`crate::store`]), renders each row with
//! [`crate::outbox::render`] and hands it to SMTP.
//!
//! - [`sender`]: the sender task of `mailgate run` (claim with a lease, send, record, retry
//!   with backoff; a 5xx fails per recipient);
//! - [`smtp`]: its pooled SMTP connections (lettre's protocol client over our own sockets);
//! - [`smtp_oauth`]: SMTP AUTH with an OAuth2 access token (`auth = "oauth2"`).
//!
//! It imports `outbox` and `store`; neither imports it.

pub mod sender;
pub mod smtp;
pub mod smtp_oauth;
