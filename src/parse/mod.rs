//! Parsing raw mail into `InboundEmail` (SPEC 2, step 2 "Parse").
//!
//! Everything here is pure: bytes in, an owned [`InboundEmail`] or a [`ParseError`] out. The
//! pieces live one concept per file:
//!
//! - `budget`, `mime`: the header budget, counted before mail-parser runs, and the MIME budget
//!   after it; `limits`: [`ParseLimits`] and the trimming of long lists;
//! - `header_text`: a header value's raw bytes and text, undeclared 8-bit bytes decoded by the
//!   charset `header_charset` works out for the mail;
//! - `fields`: header fields → addresses, subject, date, ids, `ClassifyHeaders`;
//! - `sender`: the requester and the header it came from (From, Sender, Reply-To, Return-Path);
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
mod budget;
mod fields;
mod fingerprint;
mod header_charset;
pub mod header_labels;
mod header_text;
mod limits;
mod mime;
mod quick_id;
mod reply;
mod salvage;
mod sender;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod robustness_tests;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use mail_parser::{HeaderName, MessageParser};

pub use attachments::sanitise_filename;
pub use fingerprint::content_fingerprint;
pub use limits::*;
pub use reply::extract_reply;

use crate::domain::{InboundEmail, Kept, Mailbox, MessageId, SenderOrigin, Trim};

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
    /// The header block is larger than `limits.max_header_bytes`.
    #[error("header of {bytes} bytes is over the limit of {limit} bytes (limits.max_header_bytes)")]
    HeaderTooLarge { bytes: usize, limit: usize },
    /// The header has more fields than `limits.max_header_count`.
    #[error(
        "header of {fields} fields is over the limit of {limit} fields (limits.max_header_count)"
    )]
    TooManyHeaderFields { fields: usize, limit: usize },
    /// More MIME parts than `limits.max_mime_parts`.
    #[error("{parts} MIME parts are over the limit of {limit} parts (limits.max_mime_parts)")]
    TooManyParts { parts: usize, limit: usize },
    /// More part delimiters than `limits.max_mime_parts`, counted before mail-parser runs.
    #[error(
        "{delimiters} MIME part delimiters are over the limit of {limit} parts (limits.max_mime_parts)"
    )]
    TooManyDelimiters { delimiters: usize, limit: usize },
    /// Multiparts nested deeper than `limits.max_mime_depth`.
    #[error(
        "MIME parts nested {depth} deep are over the limit of {limit} levels (limits.max_mime_depth)"
    )]
    TooDeep { depth: usize, limit: usize },
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
            Self::HeaderTooLarge { .. } => "header_too_large",
            Self::TooManyHeaderFields { .. } => "too_many_header_fields",
            Self::TooManyParts { .. } | Self::TooManyDelimiters { .. } => "too_many_parts",
            Self::TooDeep { .. } => "too_deep",
        }
    }

    /// Whether the mail is refused for going over one of [`ParseLimits`] (rather than for
    /// not being usable mail): the error names the budget and its config key.
    pub fn is_over_budget(&self) -> bool {
        matches!(
            self,
            Self::HeaderTooLarge { .. }
                | Self::TooManyHeaderFields { .. }
                | Self::TooManyParts { .. }
                | Self::TooManyDelimiters { .. }
                | Self::TooDeep { .. }
        )
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

/// Parses one raw message into an owned [`InboundEmail`], with the default [`ParseLimits`].
pub fn parse(raw: &[u8]) -> Result<InboundEmail, ParseError> {
    parse_with(raw, &ParseLimits::default())
}

/// Parses one raw message into an owned [`InboundEmail`]. The header budget is checked before
/// mail-parser sees the bytes, the MIME budget right after; address lists and References are
/// trimmed to `limits` (recorded in [`InboundEmail::trimmed`]). A mail that names no sender
/// is [`ParseError::NoSender`].
pub fn parse_with(raw: &[u8], limits: &ParseLimits) -> Result<InboundEmail, ParseError> {
    let email = parse_any_sender_with(raw, limits)?;
    if email.sender_origin == SenderOrigin::Missing {
        return Err(ParseError::NoSender);
    }
    Ok(email)
}

/// [`parse_with`], except that a mail naming no sender at all (`From: MAILER-DAEMON <>`, no
/// From) is returned with [`Mailbox::no_sender`] and [`SenderOrigin::Missing`]: a bounce or a
/// report needs no sender to be recognised. The pipeline classifies it first and quarantines
/// it with [`ParseError::NoSender`] only when it is a person's mail.
pub fn parse_any_sender_with(raw: &[u8], limits: &ParseLimits) -> Result<InboundEmail, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    if raw.len() > MAX_RAW_LEN {
        return Err(ParseError::TooLarge(raw.len()));
    }
    check_header(&budget::scan(raw), limits)?;
    mime::check_delimiters(raw, limits)?;
    let message = catch_unwind(AssertUnwindSafe(|| PARSER.parse(raw)))
        .map_err(|_| ParseError::ParserFailed)?
        .filter(|m| !m.headers().is_empty())
        .ok_or(ParseError::NotAnEmail)?;
    mime::check(&message, limits)?;

    let text = header_text::HeaderText::new(&message);
    let (from, sender_origin) =
        sender::sender(&text).unwrap_or_else(|| (Mailbox::no_sender(), SenderOrigin::Missing));
    let (message_id, message_id_synthetic) = fields::message_id(message.headers(), raw);
    let subject = fields::subject(&text);
    let body_text = body::body_text(&message);
    let reply_text = reply::extract_reply_for(&body_text, fields::is_forward_subject(&subject));

    let mut trimmed = Vec::new();
    let max = limits.max_addresses_per_header;
    let mut mailboxes = |name: HeaderName<'static>, header: &'static str| {
        let (kept, found) = fields::mailboxes(&text, &name, max);
        trimmed.extend(address_trim(header, kept.len(), found));
        kept
    };
    let to = mailboxes(HeaderName::To, "To");
    let cc = mailboxes(HeaderName::Cc, "Cc");
    let reply_to = mailboxes(HeaderName::ReplyTo, "Reply-To");
    let (delivered_to, found) = fields::delivered_to(&message, raw, max);
    trimmed.extend(address_trim("Delivered-To", delivered_to.len(), found));
    let references = fields::ids(&message, &HeaderName::References);
    let found = references.len();
    let references = limits::keep_ends(references, limits.max_references);
    trimmed.extend(references_trim(
        references.len(),
        found,
        limits.max_references,
    ));

    Ok(InboundEmail {
        message_id,
        message_id_synthetic,
        from,
        sender_origin,
        to,
        cc,
        reply_to,
        delivered_to,
        subject,
        date: fields::date(&message),
        // Never trimmed: it names the mail answered, the strongest threading evidence.
        in_reply_to: fields::ids(&message, &HeaderName::InReplyTo),
        references,
        body_text,
        reply_text,
        attachments: attachments::attachments(&text),
        headers: fields::classify_headers(&message, raw),
        size: raw.len(),
        trimmed,
    })
}

/// The trim of References that held `found` distinct ids of which `kept` were kept (the first
/// `max / 2` and the rest from the end), if any were dropped.
fn references_trim(kept: usize, found: usize, max: usize) -> Option<Trim> {
    let first = (max / 2).min(kept);
    (found > kept).then_some(Trim {
        header: "References",
        found,
        kept: Kept::Ends {
            first,
            last: kept - first,
        },
        unit: "Message-IDs",
        limit: "limits.max_references",
    })
}

/// Parses a mail mailgate already stored, to show its texts or attachments: its budgets were
/// checked with the limits of the day it arrived, so the widest limits the config allows apply
/// here (a limit lowered since never hides a stored mail), and a stored bounce that names no
/// sender is read as it was ([`parse_any_sender_with`]).
pub fn parse_stored(raw: &[u8]) -> Result<InboundEmail, ParseError> {
    parse_any_sender_with(raw, &ParseLimits::ceiling())
}

/// The header budget of `limits` against what [`budget::scan`] counted.
fn check_header(scan: &budget::HeaderScan, limits: &ParseLimits) -> Result<(), ParseError> {
    if scan.bytes > limits.max_header_bytes {
        return Err(ParseError::HeaderTooLarge {
            bytes: scan.bytes,
            limit: limits.max_header_bytes,
        });
    }
    if scan.fields > limits.max_header_count {
        return Err(ParseError::TooManyHeaderFields {
            fields: scan.fields,
            limit: limits.max_header_count,
        });
    }
    Ok(())
}

/// The trim of an address header that held `found` distinct addresses of which `kept` were
/// kept, if any were dropped.
fn address_trim(header: &'static str, kept: usize, found: usize) -> Option<Trim> {
    (found > kept).then_some(Trim {
        header,
        found,
        kept: Kept::First(kept),
        unit: "addresses",
        limit: "limits.max_addresses_per_header",
    })
}

/// The Message-ID that [`parse`] would give these bytes, from a header-only look: the
/// Message-ID header, or [`MessageId::synthetic`] when it is missing or invalid. Used to skip
/// full parsing of a duplicate on re-import.
pub fn peek_message_id(raw: &[u8]) -> MessageId {
    if raw.len() > MAX_RAW_LEN {
        return MessageId::synthetic(raw);
    }
    quick_id::quick_message_id(raw).unwrap_or_else(|| {
        let scan = budget::scan(raw);
        if check_header(&scan, &ParseLimits::ceiling()).is_ok() {
            peek_message_id_parsed(raw)
        } else {
            // A header no configuration lets `parse` read: never handed to mail-parser.
            scan.message_id
                .and_then(|value| raw.get(value))
                .and_then(fields::first_id)
                .unwrap_or_else(|| MessageId::synthetic(raw))
        }
    })
}

/// [`peek_message_id`] by parsing every header.
fn peek_message_id_parsed(raw: &[u8]) -> MessageId {
    match catch_unwind(AssertUnwindSafe(|| PARSER.parse_headers(raw))) {
        Ok(Some(headers_only)) => fields::message_id(headers_only.headers(), raw).0,
        _ => MessageId::synthetic(raw),
    }
}
