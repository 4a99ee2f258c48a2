//! OAuth2 sign-in for IMAP and SMTP (issue 17): the mailboxes of Microsoft 365 and Google
//! Workspace take no passwords.
//!
//! - [`sasl`] (pure): the `OAUTHBEARER` (RFC 7628) and `XOAUTH2` initial responses, the choice
//!   among what a server offers, the server's JSON error challenge.
//! - [`token`] (pure): the refresh grant's form, the token endpoint's answer, when an access
//!   token is due for a refresh.
//! - [`token_file`]: the refresh token's file, rewritten atomically (mode 0600) when rotated.
//! - [`client`]: the edge: one [`client::TokenSource`] per account keeps the access token and
//!   refreshes it over HTTPS (reqwest, rustls with ring) before it expires, and once more when
//!   a server refuses it.
//!
//! It imports only `config` (the settings, `Secret`) and `tls`; `imap` and `delivery` use it.
//! Tokens and secrets are [`crate::config::Secret`]s: never in `Debug`, logs or errors.

pub mod client;
pub mod sasl;
#[cfg(test)]
pub mod test_endpoint;
pub mod token;
pub mod token_file;

pub use client::TokenSource;
pub use sasl::{Bearer, Mechanism, ServerError};
pub use token::TokenError;
