//! The customer's original mail inside an escalation (SPEC 4): a message/rfc822 attachment,
//! or an inline forward in the text body as Gmail, Thunderbird, Apple Mail or Outlook write it
//! (also `> ` quoted, and with German, French and other localized header names).
//!
//! An inline forward is a marker line (`---------- Forwarded message ---------`,
//! `Begin forwarded message:`, …) and/or a header block (`From:` / `Sent:` / `Subject:` …);
//! the original's text is what follows the header block. Everything here is pure.

use super::{ForwardForm, ForwardedOriginal};
use crate::domain::{Attachment, EmailAddress, InboundEmail, MessageId};
use crate::parse::header_labels as names;

/// A header block has at most this many lines (wrapped values included).
const MAX_HEADER_LINES: usize = 20;

/// Only this much of an attached message is searched for its Date header.
const MAX_RAW_HEADER_BYTES: usize = 64 * 1024;

/// A marker line is never longer than this (in bytes).
const MAX_MARKER_LEN: usize = 100;

/// The header fields of an inline forward's header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Header {
    From,
    /// Outlook's `Sent:`, everybody else's `Date:`.
    Sent,
    To,
    Cc,
    Bcc,
    Subject,
    ReplyTo,
    MessageId,
    /// Lines Outlook adds that matter to nobody (`Importance: High`).
    Other,
}

/// Header names in lower case, as the mail clients write them in each language.
const HEADER_NAMES: &[(Header, &[&str])] = &[
    (Header::From, names::FROM),
    (Header::Sent, names::SENT),
    (Header::To, names::TO),
    (Header::Cc, names::CC),
    (Header::Bcc, names::BCC),
    (Header::Subject, names::SUBJECT),
    (Header::ReplyTo, names::REPLY_TO),
    (Header::MessageId, &["message-id"]),
    (
        Header::Other,
        &["importance", "wichtigkeit", "attachments", "anlagen"],
    ),
];

/// The text of a `---- … ----` marker line meaning "forwarded message", lower case.
const FORWARDED_MARKERS: &[&str] = &[
    "forwarded message",
    "weitergeleitete nachricht",
    "message transféré",
    "mensaje reenviado",
    "messaggio inoltrato",
    "doorgestuurd bericht",
    "mensagem encaminhada",
];

/// The text of a `---- … ----` marker line meaning "original message", lower case.
const ORIGINAL_MARKERS: &[&str] = &[
    "original message",
    "ursprüngliche nachricht",
    "original-nachricht",
    "message d'origine",
    "message d’origine",
    "mensaje original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "mensagem original",
];

/// Apple Mail's marker line (lower case, without the final colon) in each language.
const APPLE_MARKERS: &[&str] = &[
    "begin forwarded message",
    "anfang der weitergeleiteten nachricht",
    "début du message réexpédié",
    "inicio del mensaje reenviado",
];

/// The customer's original mail inside an escalation: the first (outermost) inline forward in
/// the text body, otherwise the first message/rfc822 (or `.eml`) attachment that parses and was
/// not sent by the escalation's own sender. An inline forward wins because attached mail is
/// often evidence (tier 1's own sent mail as proof of delivery), not the customer's request.
/// `None` when the escalation forwards nothing.
pub fn find_forwarded(email: &InboundEmail) -> Option<ForwardedOriginal> {
    inline_original(&email.body_text).or_else(|| {
        email
            .attachments
            .iter()
            .filter_map(attached_original)
            .find(|o| o.from.as_ref() != Some(&email.from.address))
    })
}

/// The original read from an attached message, when `attachment` is one and parses.
fn attached_original(attachment: &Attachment) -> Option<ForwardedOriginal> {
    let content_type = attachment.content_type.to_ascii_lowercase();
    let is_message = content_type == "message/rfc822"
        || content_type == "message/global"
        || attachment.filename.to_ascii_lowercase().ends_with(".eml");
    if !is_message {
        return None;
    }
    let inner = crate::parse::parse(&attachment.content).ok()?;
    Some(ForwardedOriginal {
        form: ForwardForm::Attached,
        from: Some(inner.from.address),
        message_id: (!inner.message_id_synthetic).then_some(inner.message_id),
        subject: Some(inner.subject).filter(|s| !s.trim().is_empty()),
        date: raw_date_header(&attachment.content),
        body: inner.body_text,
    })
}

/// The Date header of a raw message as written (unfolded), `None` when it has none.
fn raw_date_header(raw: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(raw.get(..MAX_RAW_HEADER_BYTES).unwrap_or(raw));
    let mut date: Option<String> = None;
    for line in head.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.trim().is_empty() {
            break; // the end of the header section
        }
        if let Some(value) = date.as_mut() {
            if !line.starts_with([' ', '\t']) {
                break; // the Date header is complete
            }
            value.push(' ');
            value.push_str(line.trim());
        } else if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("date")
        {
            date = Some(value.trim().to_string());
        }
    }
    date.filter(|d| !d.is_empty())
}

/// The first (outermost) inline forward in `text`, with its header fields and the text after
/// its header block.
fn inline_original(text: &str) -> Option<ForwardedOriginal> {
    let lines: Vec<&str> = text.split('\n').collect();
    let (start, form, block) =
        (0..lines.len()).find_map(|i| forward_at(&lines, i).map(|(form, b)| (i, form, b)))?;

    // The original's text carries the quoting of the marker line; remove just that much.
    let (depth, _) = unquote(lines.get(start).copied().unwrap_or(""), usize::MAX);
    let body_lines = lines.get(block.end..).unwrap_or(&[]);
    let body: Vec<&str> = body_lines
        .iter()
        .map(|line| unquote(line, depth).1.trim_end())
        .collect();

    Some(ForwardedOriginal {
        form,
        from: block.value(Header::From).and_then(sender_address),
        message_id: block
            .value(Header::MessageId)
            .and_then(|v| MessageId::parse(v).ok()),
        subject: block.value(Header::Subject).map(str::to_string),
        date: block.value(Header::Sent).map(str::to_string),
        body: body.join("\n").trim().to_string(),
    })
}

/// Whether an inline forward starts at line `i` (used by the evidence parser, whose block ends
/// there).
pub(super) fn starts_forward(lines: &[&str], i: usize) -> bool {
    forward_at(lines, i).is_some()
}

/// If an inline forward starts at line `i`: its form and its header block. A forward starts
/// at a marker line, or (Outlook without a marker) at a `From:` line whose header block also
/// has a `Sent:`/`Date:` line.
fn forward_at(lines: &[&str], i: usize) -> Option<(ForwardForm, HeaderBlock)> {
    let (_, first) = unquote(lines.get(i)?, usize::MAX);
    match marker_form(first.trim()) {
        Some(form) => {
            // Apple Mail leaves a blank line between its marker and the headers.
            let mut start = i + 1;
            while lines.get(start).is_some_and(|l| is_blank(l)) {
                start += 1;
            }
            Some((form, HeaderBlock::read(lines, start)))
        }
        None => {
            let block = HeaderBlock::read(lines, i);
            let outlook = block
                .headers
                .first()
                .is_some_and(|(h, _)| *h == Header::From)
                && block.value(Header::Sent).is_some();
            outlook.then_some((ForwardForm::InlineOutlook, block))
        }
    }
}

/// The form of forward a marker line (unquoted, trimmed) announces, if it is one.
fn marker_form(text: &str) -> Option<ForwardForm> {
    if text.len() > MAX_MARKER_LEN {
        return None;
    }
    let lower = text.to_lowercase();
    if APPLE_MARKERS.contains(&lower.trim_end_matches(':').trim()) {
        return Some(ForwardForm::InlineApple);
    }
    let leading_dashes = text.chars().take_while(|&c| c == '-').count();
    if leading_dashes < 3 {
        return None;
    }
    let core = lower.trim_matches(|c: char| c == '-' || c.is_whitespace());
    // Thunderbird writes 8 dashes on each side, Gmail 10, Outlook 5.
    let thunderbird = leading_dashes == 8;
    if FORWARDED_MARKERS.contains(&core) {
        Some(if thunderbird {
            ForwardForm::InlineThunderbird
        } else {
            ForwardForm::InlineGmail
        })
    } else if ORIGINAL_MARKERS.contains(&core) {
        Some(if thunderbird {
            ForwardForm::InlineThunderbird
        } else {
            ForwardForm::InlineOutlook
        })
    } else {
        None
    }
}

/// The header lines of an inline forward, in order, with wrapped values joined.
struct HeaderBlock {
    headers: Vec<(Header, String)>,
    /// The index of the first line after the block.
    end: usize,
}

impl HeaderBlock {
    /// Reads header lines from line `start` until a blank or non-header line.
    fn read(lines: &[&str], start: usize) -> Self {
        let mut headers: Vec<(Header, String)> = Vec::new();
        let mut end = start;
        while let Some(line) = lines.get(end) {
            if end - start >= MAX_HEADER_LINES {
                break;
            }
            let (_, text) = unquote(line, usize::MAX);
            if is_blank(text) {
                break;
            }
            if let Some((header, value)) = header_line(text) {
                headers.push((header, value.to_string()));
            } else if text.starts_with(char::is_whitespace)
                && let Some((_, value)) = headers.last_mut()
            {
                value.push(' ');
                value.push_str(text.trim());
            } else {
                break;
            }
            end += 1;
        }
        Self { headers, end }
    }

    /// The first non-empty value of `header`.
    fn value(&self, header: Header) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, v)| *h == header && !v.is_empty())
            .map(|(_, v)| v.trim())
    }
}

/// A `Name: value` header line (also `*From:*` and `**From:**` as Outlook and html2text write
/// bold), with the header it names and its trimmed value.
fn header_line(text: &str) -> Option<(Header, &str)> {
    let text = text.trim().trim_start_matches('*');
    let (name, value) = text.split_once(':')?;
    let name = name.trim_end_matches('*').trim();
    if name.is_empty() || name.chars().count() > 20 {
        return None;
    }
    let name = name.to_lowercase();
    let (header, _) = HEADER_NAMES
        .iter()
        .find(|(_, names)| names.contains(&name.as_str()))?;
    Some((*header, value.trim_start_matches('*').trim()))
}

/// The address in a From value: `Name <addr>`, `"Name" <addr>`, `Name [mailto:addr]`, a bare
/// address, or html2text's `Name <[addr][1]>`. The part in angle brackets wins over an address
/// that appears in the display name.
fn sender_address(value: &str) -> Option<EmailAddress> {
    let in_brackets = value
        .rsplit_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(inside, _)| inside);
    in_brackets
        .and_then(first_address)
        .or_else(|| first_address(value))
}

/// The first word of `text` that is an email address (a `mailto:` prefix allowed).
fn first_address(text: &str) -> Option<EmailAddress> {
    text.split(|c: char| c.is_whitespace() || "<>[]()\"',;".contains(c))
        .map(|word| {
            let word = word.trim_end_matches('.');
            match word.get(..7) {
                Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
                    word.get(7..).unwrap_or("")
                }
                _ => word,
            }
        })
        .filter(|word| word.contains('@'))
        .find_map(|word| EmailAddress::parse(word).ok())
}

/// Removes up to `max_levels` levels of `>` quoting (with or without spaces between them) and
/// the one space after the last `>`. Returns how many levels were removed and the rest.
pub(super) fn unquote(line: &str, max_levels: usize) -> (usize, &str) {
    let mut rest = line;
    let mut depth = 0;
    while depth < max_levels {
        match rest.trim_start().strip_prefix('>') {
            Some(after) => {
                rest = after;
                depth += 1;
            }
            None => break,
        }
    }
    if depth > 0 {
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    (depth, rest)
}

/// Whether a line has nothing but whitespace.
fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

#[cfg(test)]
mod tests;
