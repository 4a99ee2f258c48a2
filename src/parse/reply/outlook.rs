//! Unprefixed Outlook-style history: "-----Original Message-----", long underscore rules and
//! quoted header blocks ("From: / Sent: / To: / Subject:", in the languages Outlook writes
//! them, also with bold marked up as `*From:*` (Outlook's text part) or `**From:**`).

use super::casefold::{Initials, with_lowercase};
use super::{is_blank, trim};

/// Header labels of a quoted header block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    From,
    Sent,
    To,
    Cc,
    Subject,
    ReplyTo,
}

use crate::parse::header_labels as names;

const FROM_NAMES: &[&str] = names::FROM;

/// The first bytes a line needs to start with a From label.
static FROM_INITIALS: Initials = Initials::of(FROM_NAMES);

/// Label names in lower case (From first: a header block starts with it).
const LABELS: &[(Label, &[&str])] = &[
    (Label::From, FROM_NAMES),
    (Label::Sent, names::SENT),
    (Label::To, names::TO),
    (Label::Cc, names::CC),
    (Label::Subject, names::SUBJECT),
    (Label::ReplyTo, names::REPLY_TO),
];

/// The text a label is read from: the line without surrounding blanks and leading `*`.
fn label_text(line: &str) -> &str {
    trim(line).trim_start_matches('*').trim_start()
}

/// The label `text` (see [`label_text`]) starts with, if any.
fn label(text: &str) -> Option<Label> {
    let colon = find_colon(text)?;
    let name = text[..colon].trim().trim_end_matches('*').trim();
    if name.is_empty() || name.len() > 24 {
        return None;
    }
    with_lowercase(name, |name| {
        LABELS
            .iter()
            .find(|(_, names)| names.contains(&name))
            .map(|&(label, _)| label)
    })
}

/// `text.find([':', '：'])`, with `memchr`.
fn find_colon(text: &str) -> Option<usize> {
    const FULLWIDTH: &[u8] = "：".as_bytes();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = memchr::memchr2(b':', FULLWIDTH[0], bytes.get(from..)?) {
        let at = from + found;
        if bytes[at] == b':' || bytes[at..].starts_with(FULLWIDTH) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether a quoted header block ("From: / Sent: / To: / Subject:") starts at `i`: a From
/// label followed, before the next blank line, by at least two other labels of which one is
/// Sent/Date or Subject.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    let text = label_text(lines[i]);
    if !FROM_INITIALS.may_start(text) || label(text) != Some(Label::From) {
        return false;
    }
    let mut seen: Vec<Label> = Vec::new();
    for line in lines[i + 1..].iter().take(8).take_while(|l| !is_blank(l)) {
        if let Some(l) = label(label_text(line)).filter(|l| *l != Label::From && !seen.contains(l))
        {
            seen.push(l);
        }
    }
    seen.len() >= 2
        && seen
            .iter()
            .any(|l| matches!(l, Label::Sent | Label::Subject))
}

/// A line that only separates: underscores, dashes, box-drawing rules (html2text's `<hr>`).
fn is_separator(line: &str) -> bool {
    let t = trim(line);
    t.chars().count() >= 5 && t.chars().all(|c| matches!(c, '_' | '-' | '─' | '━' | '='))
}

/// `-----Original Message-----` and its translations (`t` trimmed).
fn is_original_message(t: &str) -> bool {
    if !t.starts_with("--") || t.len() > 80 {
        return false;
    }
    let core = t.trim_matches(|c: char| c == '-' || c.is_whitespace());
    with_lowercase(core, |core| {
        [
            "original message",
            "original-nachricht",
            "ursprüngliche nachricht",
            "message d'origine",
            "message d’origine",
            "mensaje original",
            "messaggio originale",
            "oorspronkelijk bericht",
            "originalmeddelande",
            "opprinnelig melding",
            "oprindelig meddelelse",
            "alkuperäinen viesti",
            "wiadomość oryginalna",
            "исходное сообщение",
            "mensagem original",
            "reply message",
        ]
        .contains(&core)
    })
}

/// Whether Outlook-style history may start with the line `t` (trimmed): cheap checks on its
/// first bytes that [`outlook_history_start`] starts with.
pub(super) fn may_start_outlook_history(t: &str) -> bool {
    t.starts_with(['-', '_', '*']) || FROM_INITIALS.may_start(t)
}

/// If unprefixed Outlook-style history starts at `i`, the line where it starts (moved up over
/// separator lines just above it).
pub(super) fn outlook_history_start(lines: &[&str], i: usize) -> Option<usize> {
    let t = trim(lines.get(i)?);
    let starts = is_original_message(t)
        || is_header_block(lines, i)
        || (t.len() >= 30 && t.bytes().all(|b| b == b'_'));
    if !starts {
        return None;
    }
    let mut start = i;
    let mut k = i;
    while k > 0 {
        k -= 1;
        if is_blank(lines[k]) {
            continue;
        }
        if is_separator(lines[k]) {
            start = k;
            continue;
        }
        break;
    }
    Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(label("From: x") == Some(Label::From));
        assert!(label("FROM : x") == Some(Label::From));
        assert!(label("From:** x") == Some(Label::From));
        assert!(label("Betreff：x") == Some(Label::Subject));
        assert!(label("件名：x") == Some(Label::Subject));
        assert!(label("Répondre à: x") == Some(Label::ReplyTo));
        assert!(label("Fromage: x").is_none());
        assert!(label("From x").is_none());
        assert!(label(": x").is_none());
    }

    #[test]
    fn colons() {
        assert_eq!(find_colon("ab:c"), Some(2));
        assert_eq!(find_colon("件名：x"), Some(6));
        assert_eq!(find_colon("ï：x"), Some(2));
        assert_eq!(find_colon("abc"), None);
        assert_eq!(find_colon(""), None);
    }
}
