//! Salvaging the sender of a mail whose address headers are mangled, so that real mail is not
//! quarantined for "no usable sender" when its address is plainly there:
//!
//! - `From: Big Bug bb@bug.com` (no angle brackets),
//! - `From: Some One <discuss@foo.bar<mailto:discuss@foo.bar>>` (Outlook's mailto mangling),
//! - `From: Discourse <info@discourse.org.` (trailing dot, missing `>`).
//!
//! Only used when the structured parse of From, Sender and Return-Path found no valid address.
//! The raw values of From, Sender, Reply-To and Return-Path (every occurrence, in that order)
//! are split into tokens at blanks, `,`, `;`, `<` and `>`; the first token that is an address
//! once stripped of surrounding `<>()"'.,` and a `mailto:` prefix wins. Its local part must be
//! a plain dot-atom (so `sip:x@y` or `"quoted@x` are not taken for an address). The text
//! before it in the same header, if any, becomes the display name. Nothing is made up: a
//! header without an address yields nothing.

use mail_parser::HeaderName;
use mail_parser::parsers::MessageStream;

use super::fields::is_address_echo;
use super::header_text::HeaderText;
use crate::domain::{EmailAddress, Mailbox};

/// The headers searched, in order.
const HEADERS: [HeaderName<'static>; 4] = [
    HeaderName::From,
    HeaderName::Sender,
    HeaderName::ReplyTo,
    HeaderName::ReturnPath,
];

/// Characters stripped from both ends of a token.
const STRIP: &[char] = &['<', '>', '(', ')', '"', '\'', '.', ','];

/// The first address salvaged from the raw values of header `name`.
pub(super) fn salvage_header(text: &HeaderText<'_, '_>, name: &HeaderName<'_>) -> Option<Mailbox> {
    text.message()
        .headers()
        .iter()
        .filter(|h| &h.name == name)
        .find_map(|h| mailbox_in(&text.unfolded(h)))
}

/// The first address found in the raw From, Sender, Reply-To or Return-Path values.
pub(super) fn salvage_sender(text: &HeaderText<'_, '_>) -> Option<Mailbox> {
    HEADERS.iter().find_map(|name| salvage_header(text, name))
}

/// The first address in a raw header value, with the text before it as its name.
fn mailbox_in(value: &str) -> Option<Mailbox> {
    let (at, address) = tokens(value).find_map(|(at, token)| Some((at, address_in(token)?)))?;
    let name = display_name(&value[..at]).filter(|n| !is_address_echo(n, &address));
    Some(Mailbox { name, address })
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>')
}

/// The tokens of `value` with their byte offsets.
fn tokens(value: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = 0;
    std::iter::from_fn(move || {
        let tail = value.get(rest..)?;
        let start = rest + tail.find(|c| !is_separator(c))?;
        let len = value[start..]
            .find(is_separator)
            .unwrap_or(value.len() - start);
        rest = start + len;
        Some((start, &value[start..rest]))
    })
}

/// The address a token holds, if it is one (see the module documentation).
fn address_in(token: &str) -> Option<EmailAddress> {
    let t = token.trim_matches(STRIP);
    let t = match t.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => t[7..].trim_matches(STRIP),
        _ => t,
    };
    let (local, _) = t.rsplit_once('@')?;
    if !is_dot_atom(local) {
        return None;
    }
    EmailAddress::parse(t).ok()
}

/// RFC 5322 dot-atom (any non-ASCII letter allowed, as in internationalised mail).
fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        })
}

/// The display name in the text before a salvaged address: decoded (RFC 2047), without
/// quotes and brackets; none when empty or when it looks like (part of) an address.
fn display_name(before: &str) -> Option<String> {
    let text = before.trim().trim_end_matches(['<', '(']).trim();
    if text.is_empty() || text.contains(['@', '<', '>']) {
        return None;
    }
    let decoded = MessageStream::new(format!("{text}\n").as_bytes())
        .parse_unstructured()
        .as_text()
        .map(str::to_string)?;
    let name = decoded.trim().trim_matches('"').trim();
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salvaged(value: &str) -> Option<(String, Option<String>)> {
        mailbox_in(value).map(|m| (m.address.as_str().to_string(), m.name))
    }

    fn some(address: &str, name: Option<&str>) -> Option<(String, Option<String>)> {
        Some((address.to_string(), name.map(str::to_string)))
    }

    #[test]
    fn mangled_from_headers() {
        assert_eq!(
            salvaged("Big Bug bb@bug.com"),
            some("bb@bug.com", Some("Big Bug"))
        );
        assert_eq!(
            salvaged("Some One <discuss@foo.bar<mailto:discuss@foo.bar>>"),
            some("discuss@foo.bar", Some("Some One"))
        );
        assert_eq!(
            salvaged("Discourse <info@discourse.org."),
            some("info@discourse.org", Some("Discourse"))
        );
        assert_eq!(
            salvaged("\"Doe, John\" JDoe@Example.COM"),
            some("jdoe@example.com", Some("Doe, John"))
        );
        assert_eq!(
            salvaged("=?utf-8?q?J=C3=B6rg?= joerg@example.de"),
            some("joerg@example.de", Some("Jörg"))
        );
        assert_eq!(
            salvaged("(mailto:x@example.com)"),
            some("x@example.com", None)
        );
        assert_eq!(
            salvaged("'o'brien@example.ie'"),
            some("o'brien@example.ie", None)
        );
        assert_eq!(salvaged("bb@bug.com bb@bug.com"), some("bb@bug.com", None));
        assert_eq!(
            salvaged("broken@, Bob bob@example.com"),
            some("bob@example.com", None)
        );
    }

    #[test]
    fn nothing_is_invented() {
        for value in [
            "",
            "<>",
            "Mystery Person",
            "undisclosed-recipients:;",
            "broken@",
            "@example.com",
            "sip:x@example.com",
            "\"quoted local\"@example.com",
            "x@example..com",
            "a..b@example.com",
            "=?utf-8?q?a@b?=",
        ] {
            assert_eq!(salvaged(value), None, "{value}");
        }
    }

    #[test]
    fn parse_salvages_only_what_the_structured_parse_missed() {
        let from = |raw: &str| {
            crate::parse::parse(raw.as_bytes()).map(|m| (m.from.address.to_string(), m.from.name))
        };
        let body = "To: support@helpdesk.example\nSubject: Hi\n\nHello\n";
        assert_eq!(
            from(&format!("From: Discourse <info@discourse.org.\n{body}")),
            Ok((
                "info@discourse.org".to_string(),
                Some("Discourse".to_string())
            ))
        );
        // The author of a mangled From is a better requester than the envelope sender.
        assert_eq!(
            from(&format!(
                "Return-Path: <bounce@mailer.example>\nFrom: Big Bug bb@bug.com\n{body}"
            )),
            Ok(("bb@bug.com".to_string(), Some("Big Bug".to_string())))
        );
        assert_eq!(
            from(&format!(
                "From: Support Team\nReply-To: Help <help@vendor.example>\n{body}"
            )),
            Ok(("help@vendor.example".to_string(), Some("Help".to_string())))
        );
        assert_eq!(
            from(&format!("Return-Path: <>\nFrom: Mystery Person\n{body}")),
            Err(crate::parse::ParseError::NoSender)
        );
        assert_eq!(from(body), Err(crate::parse::ParseError::NoSender));
    }

    #[test]
    fn tokens_with_offsets() {
        let tokens: Vec<_> = tokens(" a, b<c>;d ").collect();
        assert_eq!(tokens, [(1, "a"), (4, "b"), (6, "c"), (9, "d")]);
        assert_eq!(super::tokens("").count(), 0);
        assert_eq!(super::tokens(" ,<> ").count(), 0);
    }
}
