//! Header fields of a parsed message → the typed fields of `InboundEmail`.
//!
//! mail-parser is run with every non-MIME header *ignored* (see `PARSER` in `parse`), so header
//! boundaries are always found line by line; the values read here are then parsed from each
//! header's own raw slice. This matters: mail-parser's typed parsers can run past the end of
//! a malformed header (a Date with a bad zone swallows the next line, Message-ID included),
//! and `peek_message_id` must see exactly the headers `parse` sees.
//!
//! Single-valued fields (From, Subject, Date, Message-ID, the classify headers) take the
//! **first** occurrence of the header; list fields (To, Cc, Reply-To, In-Reply-To, References,
//! Delivered-To, Authentication-Results) take all occurrences. Invalid addresses and ids are
//! skipped, never an error.

use std::borrow::Cow;

use mail_parser::parsers::MessageStream;
use mail_parser::{Address, Header, HeaderName, HeaderValue, Message, MimeHeaders};

use super::header_text::{HeaderText, raw_value, slice};
use super::limits::Firsts;
use crate::domain::{ClassifyHeaders, EmailAddress, Mailbox, MessageId};

/// The first header called `name` in `headers`.
pub(super) fn first<'a, 'x>(
    headers: &'a [Header<'x>],
    name: &HeaderName<'_>,
) -> Option<&'a Header<'x>> {
    headers.iter().find(|h| &h.name == name)
}

/// Whether `header` is the non-standard header `name` (case-insensitive).
fn is_other(header: &Header<'_>, name: &str) -> bool {
    matches!(&header.name, HeaderName::Other(n) if n.trim().eq_ignore_ascii_case(name))
}

/// The Message-ID of these headers, or the synthetic id of `raw` (second value `true`) when
/// it is missing or invalid. Shared by `parse` and `peek_message_id` so both always agree.
pub(super) fn message_id(headers: &[Header<'_>], raw: &[u8]) -> (MessageId, bool) {
    let parsed = first(headers, &HeaderName::MessageId).and_then(|h| first_id(slice(raw, h)));
    match parsed {
        Some(id) => (id, false),
        None => (MessageId::synthetic(raw), true),
    }
}

/// The first id of a raw Message-ID value, when valid.
pub(super) fn first_id(value: &[u8]) -> Option<MessageId> {
    match MessageStream::new(value).parse_id() {
        HeaderValue::Text(id) => MessageId::parse(&id).ok(),
        HeaderValue::TextList(ids) => ids.first().and_then(|id| MessageId::parse(id).ok()),
        _ => None,
    }
}

/// All valid ids of every `name` header (In-Reply-To, References), in order, without repeats.
pub(super) fn ids(message: &Message<'_>, name: &HeaderName<'_>) -> Vec<MessageId> {
    let raw = message.raw_message.as_ref();
    let mut out = Firsts::new(|id: &MessageId| id);
    for header in message.headers().iter().filter(|h| &h.name == name) {
        let value = MessageStream::new(slice(raw, header)).parse_id();
        let Some(list) = value.as_text_list() else {
            continue;
        };
        for id in list.iter().filter_map(|id| MessageId::parse(id).ok()) {
            out.push(id);
        }
    }
    out.kept
}

pub(super) fn mailbox(addr: &mail_parser::Addr<'_>) -> Option<Mailbox> {
    let address = EmailAddress::parse(addr.address()?).ok()?;
    let name = addr
        .name()
        .map(|n| n.trim().trim_matches('"').trim())
        .filter(|n| !n.is_empty() && !is_address_echo(n, &address))
        .map(str::to_string);
    Some(Mailbox { name, address })
}

/// Whether a display name only repeats the address: `jane@x.example`, or as Outlook writes
/// it, `jane@x.example<mailto:jane@x.example>`.
pub(super) fn is_address_echo(name: &str, address: &EmailAddress) -> bool {
    let name = match name.find("<mailto:") {
        Some(at) if name.ends_with('>') => name[..at].trim_end(),
        _ => name,
    };
    name.eq_ignore_ascii_case(address.as_str())
}

/// The parsed address lists of every `name` header of the message, display names decoded
/// (RFC 2047, or undeclared 8-bit bytes by the message's charset).
pub(super) fn addresses<'m>(text: &HeaderText<'m, '_>, name: &HeaderName<'_>) -> Vec<Address<'m>> {
    text.message()
        .headers()
        .iter()
        .filter(|h| &h.name == name)
        .filter_map(|h| match text.value(h) {
            // Nearly all mail: parsed in place, nothing copied.
            Cow::Borrowed(bytes) => MessageStream::new(bytes).parse_address().into_address(),
            Cow::Owned(bytes) => MessageStream::new(&bytes)
                .parse_address()
                .into_address()
                .map(Address::into_owned),
        })
        .collect()
}

/// The first `max` valid mailboxes of every `name` header (groups flattened), without repeated
/// addresses, and how many distinct valid addresses the headers hold.
pub(super) fn mailboxes(
    text: &HeaderText<'_, '_>,
    name: &HeaderName<'_>,
    max: usize,
) -> (Vec<Mailbox>, usize) {
    let mut out = Firsts::new(|m: &Mailbox| &m.address);
    let lists = addresses(text, name);
    for addr in lists.iter().flat_map(Address::iter) {
        if out.kept.len() < max {
            if let Some(mb) = mailbox(addr) {
                out.push(mb);
            }
        } else if let Some(address) = addr.address().and_then(|a| EmailAddress::parse(a).ok()) {
            // Past the limit only counted, for the trim's figures.
            out.count(address);
        }
    }
    let distinct = out.distinct();
    (out.kept, distinct)
}

/// The first `max` Delivered-To and X-Original-To addresses, all occurrences, without repeats,
/// and how many distinct ones there are.
pub(super) fn delivered_to(
    message: &Message<'_>,
    raw: &[u8],
    max: usize,
) -> (Vec<EmailAddress>, usize) {
    let mut out = Firsts::new(|a: &EmailAddress| a);
    for header in message
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::DeliveredTo || is_other(h, "X-Original-To"))
    {
        let value = raw_value(raw, header);
        for address in value.split(',').filter_map(|a| EmailAddress::parse(a).ok()) {
            if out.kept.len() < max {
                out.push(address);
            } else {
                out.count(address);
            }
        }
    }
    let distinct = out.distinct();
    (out.kept, distinct)
}

/// The decoded Subject (first occurrence), empty when missing: RFC 2047 encoded words and
/// undeclared 8-bit bytes (by the message's charset) decoded.
pub(super) fn subject(text: &HeaderText<'_, '_>) -> String {
    let Some(header) = first(text.message().headers(), &HeaderName::Subject) else {
        return String::new();
    };
    let bytes = text.value(header);
    let value = MessageStream::new(&bytes).parse_unstructured();
    value
        .as_text()
        .map(|s| s.trim().replace('\0', ""))
        .unwrap_or_default()
}

/// Whether a subject says the mail is a forward (`Fwd:`, `FW:`, `WG:`, `TR:`, ...): the reply
/// trimmer then keeps forwarded content that it would cut from a reply.
pub(super) fn is_forward_subject(subject: &str) -> bool {
    let Some((prefix, _)) = subject.split_once(':') else {
        return false;
    };
    let prefix = prefix.trim();
    // "Fwd", "FW", "Fw", and the German, French, Spanish, Dutch, Nordic variants.
    ["fwd", "fw", "wg", "tr", "rv", "enc", "doorst", "vb"]
        .iter()
        .any(|p| prefix.eq_ignore_ascii_case(p))
}

/// The Date header as Unix seconds, when present and a valid date.
pub(super) fn date(message: &Message<'_>) -> Option<i64> {
    let header = first(message.headers(), &HeaderName::Date)?;
    MessageStream::new(slice(&message.raw_message, header))
        .parse_date()
        .as_datetime()
        .filter(|d| d.is_valid())
        .map(|d| d.to_timestamp())
}

/// `type/subtype` in lower case, or just `type` when the subtype is missing.
pub(super) fn mime_type(ct: &mail_parser::ContentType<'_>) -> String {
    let mut out = ct.ctype().trim().to_ascii_lowercase();
    if let Some(sub) = ct.subtype() {
        out.push('/');
        out.push_str(&sub.trim().to_ascii_lowercase());
    }
    out
}

fn is_type(ct: Option<&mail_parser::ContentType<'_>>, ctype: &str, subtypes: &[&str]) -> bool {
    ct.is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| subtypes.iter().any(|t| s.eq_ignore_ascii_case(t)))
    })
}

/// The headers and structure facts that classification reads.
pub(super) fn classify_headers(message: &Message<'_>, raw: &[u8]) -> ClassifyHeaders {
    let headers = message.headers();
    let known = |name: HeaderName<'static>| first(headers, &name).map(|h| raw_value(raw, h));
    let other = |name: &str| {
        headers
            .iter()
            .find(|h| is_other(h, name))
            .map(|h| raw_value(raw, h))
    };
    let root_type = message.root_part().content_type();
    let report_type = root_type
        .filter(|ct| is_type(Some(ct), "multipart", &["report"]))
        .and_then(|ct| ct.attribute("report-type"))
        .map(|t| t.trim().to_ascii_lowercase());

    ClassifyHeaders {
        auto_submitted: known(HeaderName::AutoSubmitted),
        precedence: other("Precedence"),
        x_autoreply: other("X-Autoreply"),
        x_autorespond: other("X-Autorespond"),
        list_id: known(HeaderName::ListId),
        list_post: known(HeaderName::ListPost),
        list_unsubscribe: known(HeaderName::ListUnsubscribe),
        x_been_there: other("X-BeenThere"),
        return_path: known(HeaderName::ReturnPath),
        authentication_results: headers
            .iter()
            .filter(|h| h.name == HeaderName::AuthenticationResults)
            .map(|h| raw_value(raw, h))
            .collect(),
        x_priority: other("X-Priority"),
        content_type: root_type.map_or_else(|| "text/plain".to_string(), mime_type),
        report_type,
        has_delivery_status: message.parts.iter().any(|p| {
            is_type(
                p.content_type(),
                "message",
                &["delivery-status", "global-delivery-status"],
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_subjects() {
        for s in [
            "Fwd: x",
            "FW: x",
            "Fw:x",
            "WG: Rechnung",
            "TR: facture",
            "RV: hola",
        ] {
            assert!(is_forward_subject(s), "{s}");
        }
        for s in ["Re: Fwd: x", "Invoice", "", "Re: x", "Forward planning: Q3"] {
            assert!(!is_forward_subject(s), "{s}");
        }
    }
}
