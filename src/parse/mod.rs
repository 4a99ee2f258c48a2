//! Parsing raw mail into `InboundEmail` (SPEC 2, step 2 "Parse").
//!
//! Everything here is pure: bytes in, an owned [`InboundEmail`] or a [`ParseError`] out. The
//! pieces live one concept per file:
//!
//! - `fields`: header fields → addresses, subject, date, ids, `ClassifyHeaders`;
//! - `salvage`: the sender of a mail whose address headers are mangled;
//! - `body`: the text body (HTML converted to text only when there is no text part);
//! - `reply`: what is new in a reply ([`extract_reply`]);
//! - `attachments`: attachments with sanitised names ([`sanitise_filename`]).
//!
//! `parse` never panics on hostile input: the third-party parsers are additionally run behind
//! `catch_unwind`, so a bug in them turns into [`ParseError::ParserFailed`] for that one mail
//! instead of taking down an import.

mod attachments;
mod body;
mod fields;
mod fingerprint;
pub mod header_labels;
mod quick_id;
mod reply;
mod salvage;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod robustness_tests;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use mail_parser::{HeaderName, MessageParser};

pub use attachments::{sanitise_filename, sanitise_filename_for};
pub use fingerprint::{TRACE_HEADER_PREFIXES, TRACE_HEADERS, content_fingerprint, is_trace_header};
pub use reply::extract_reply;

use crate::domain::{InboundEmail, MessageId};

/// Why raw bytes could not be turned into an [`InboundEmail`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No bytes at all, or only whitespace.
    #[error("empty message")]
    Empty,
    /// No header field could be found: this is not an RFC 5322 message.
    #[error("not an email: no header fields found")]
    NotAnEmail,
    /// Neither From, Sender, Reply-To nor Return-Path holds a usable address, not even a
    /// salvageable one, so there is no requester.
    #[error("no usable sender address in From, Sender, Reply-To or Return-Path")]
    NoSender,
    /// Larger than the MIME parser can address (its offsets are 32-bit).
    #[error("message of {0} bytes is too large to parse")]
    TooLarge(usize),
    /// The MIME parser itself failed (panicked) on this input.
    #[error("the MIME parser failed on this message")]
    ParserFailed,
}

impl ParseError {
    /// A short stable code, e.g. for the decision log and the golden fixtures.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::NotAnEmail => "not_an_email",
            Self::NoSender => "no_sender",
            Self::TooLarge(_) => "too_large",
            Self::ParserFailed => "parser_failed",
        }
    }
}

/// The largest input handed to mail-parser, whose part offsets are `u32`.
const MAX_RAW_LEN: usize = u32::MAX as usize;

/// The parser used for both [`parse`] and [`peek_message_id`]: typed parsing only for the MIME
/// headers its structure needs; every other header is skipped line by line and read later from
/// its raw bytes (see [`fields`]), so both functions always agree on the header fields.
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .with_mime_headers()
        .default_header_ignore()
});

/// Parses one raw message into an owned [`InboundEmail`].
pub fn parse(raw: &[u8]) -> Result<InboundEmail, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    if raw.len() > MAX_RAW_LEN {
        return Err(ParseError::TooLarge(raw.len()));
    }
    let message = catch_unwind(AssertUnwindSafe(|| PARSER.parse(raw)))
        .map_err(|_| ParseError::ParserFailed)?
        .filter(|m| !m.headers().is_empty())
        .ok_or(ParseError::NotAnEmail)?;

    let (from, sender_origin) = fields::sender(&message, raw).ok_or(ParseError::NoSender)?;
    let (message_id, message_id_synthetic) = fields::message_id(message.headers(), raw);
    let subject = fields::subject(&message);
    let body_text = body::body_text(&message);
    let reply_text = reply::extract_reply_for(&body_text, fields::is_forward_subject(&subject));

    Ok(InboundEmail {
        message_id,
        message_id_synthetic,
        from,
        sender_origin,
        to: fields::mailboxes(&message, &HeaderName::To),
        cc: fields::mailboxes(&message, &HeaderName::Cc),
        reply_to: fields::mailboxes(&message, &HeaderName::ReplyTo),
        delivered_to: fields::delivered_to(&message, raw),
        subject,
        date: fields::date(&message),
        in_reply_to: fields::ids(&message, &HeaderName::InReplyTo),
        references: fields::ids(&message, &HeaderName::References),
        body_text,
        reply_text,
        attachments: attachments::attachments(&message),
        headers: fields::classify_headers(&message, raw),
        size: raw.len(),
    })
}

/// The Message-ID that [`parse`] would give these bytes, from a header-only look: the
/// Message-ID header, or [`MessageId::synthetic`] when it is missing or invalid. Used to skip
/// full parsing of a duplicate on re-import.
pub fn peek_message_id(raw: &[u8]) -> MessageId {
    if raw.len() > MAX_RAW_LEN {
        return MessageId::synthetic(raw);
    }
    quick_id::quick_message_id(raw).unwrap_or_else(|| peek_message_id_parsed(raw))
}

/// [`peek_message_id`] by parsing every header.
fn peek_message_id_parsed(raw: &[u8]) -> MessageId {
    match catch_unwind(AssertUnwindSafe(|| PARSER.parse_headers(raw))) {
        Ok(Some(headers_only)) => fields::message_id(headers_only.headers(), raw).0,
        _ => MessageId::synthetic(raw),
    }
}
