//! The evidence block at the top of an escalation mail (SPEC 4): one `Field: value` per line,
//! multi-line values as indented lines or list items.
//!
//! ```text
//! Hi tier 2,                        ← up to 3 greeting lines are skipped
//!
//! **Ticket:** SUP-1042              ← emphasis around the name is dropped
//! > Category: email                 ← `>` quoting is dropped
//! Error: no message received since  ← a value may go on on indented lines …
//!    2026-11-12
//! Steps-Taken:
//!  - confirmed mail was sent        ← … or as `-`, `*`, `•`, `1.`, `1)` list items
//!
//! Thanks, Bob                       ← prose ends the block
//! ---------- Forwarded message ---------   ← and so does any forwarded mail
//! ```
//!
//! Everything here is pure; the callers pass `InboundEmail::body_text` (html2text's output for
//! HTML-only mail).

use super::forwarded::{starts_forward, unquote};
use super::{EvidenceBlock, EvidenceField, FieldKey};

/// Greeting or prose lines allowed before the first field.
const MAX_GREETING_LINES: usize = 3;

/// A field name has at most this many words …
const MAX_NAME_WORDS: usize = 4;

/// … and at most this many characters.
const MAX_NAME_CHARS: usize = 40;

/// A line at least this long (in characters) was probably wrapped by the sender's mail client
/// (Thunderbird wraps at 72, html2text at 100): the line right after it, if it is no field,
/// goes on with its value.
const WRAPPED_LINE_CHARS: usize = 60;

/// Header names of a forwarded original (as [`FieldKey`]s): never evidence, they end the block.
const HEADER_KEYS: &[&str] = &[
    "from",
    "sent",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "reply_to",
    "message_id",
];

/// Words that make `Words: text` a sentence rather than a field (`The customer says: hello`,
/// `Please escalate:`, `Hi tier 2: …`), lower case.
const PROSE_WORDS: &[&str] = &[
    "a", "an", "the", "i", "we", "you", "he", "she", "it", "they", "me", "us", "him", "them", "my",
    "our", "your", "his", "her", "its", "their", "this", "that", "these", "those", "is", "are",
    "was", "were", "be", "been", "am", "has", "have", "had", "do", "does", "did", "can", "could",
    "would", "will", "should", "may", "might", "must", "not", "please", "hi", "hello", "hey",
    "dear", "thanks", "thank", "cheers", "regards", "says", "said", "wrote", "writes", "asked",
    "asks", "here", "there", "if", "when", "re", "fw", "fwd", "aw", "wg", "tr",
];

/// Reads the evidence block at the top of `text`: the `Field: value` lines, in order, each
/// with the 1-based line of its name. Empty when `text` has no block (more than
/// [`MAX_GREETING_LINES`] lines of prose, or a forwarded mail, before the first field).
pub fn parse_evidence(text: &str) -> EvidenceBlock {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut fields: Vec<EvidenceField> = Vec::new();
    let mut open: Option<OpenField> = None;
    let mut greeting_lines = 0;
    let mut after_blank = false;
    let mut previous_chars = 0;

    for (index, raw) in lines.iter().enumerate() {
        let (_, content) = unquote(raw, usize::MAX);
        let content = content.trim_end();
        if content.trim().is_empty() {
            after_blank = true;
            previous_chars = 0;
            continue;
        }
        if is_rule(content) || starts_forward(&lines, index) {
            break;
        }
        let indent = content.chars().take_while(|c| c.is_whitespace()).count();
        let line = Line::classify(content.trim_start());

        let Some(field) = open.as_mut() else {
            // Still before the block: a field starts it, anything else is a greeting.
            match line {
                Line::Field { label, value } => {
                    open = Some(OpenField::new(label, value, indent, index))
                }
                Line::Header => break,
                Line::Item(_) | Line::Text(_) => {
                    greeting_lines += 1;
                    if greeting_lines > MAX_GREETING_LINES {
                        break;
                    }
                }
            }
            after_blank = false;
            previous_chars = content.chars().count();
            continue;
        };

        // A blank line ends a value, unless the value is only beginning (`Steps-Taken:` with
        // nothing after the colon) or is already a list or several lines.
        let may_go_on = !after_blank || field.lines.len() != 1 || field.first_line_empty;
        match line {
            Line::Item(item) if may_go_on => field.push_item(item, indent),
            Line::Item(_) => break,
            Line::Field { .. } | Line::Header | Line::Text(_) if indent > field.indent => {
                if !may_go_on {
                    break;
                }
                field.push_indented(content.trim(), indent, after_blank);
            }
            Line::Field { label, value } => {
                if let Some(done) = open.take() {
                    fields.push(done.finish());
                }
                open = Some(OpenField::new(label, value, indent, index));
            }
            Line::Header => break,
            Line::Text(text) if !after_blank && previous_chars >= WRAPPED_LINE_CHARS => {
                field.push_wrapped(text);
            }
            Line::Text(_) => break,
        }
        after_blank = false;
        previous_chars = content.chars().count();
    }
    fields.extend(open.map(OpenField::finish));
    EvidenceBlock { fields }
}

/// What one non-blank line (unquoted, without its indentation) is.
enum Line<'a> {
    /// `Field: value` (`value` trimmed, possibly empty).
    Field { label: &'a str, value: &'a str },
    /// A header line of a forwarded original (`From: …`, `Subject: …`).
    Header,
    /// A list item, marker removed.
    Item(&'a str),
    /// Anything else.
    Text(&'a str),
}

impl<'a> Line<'a> {
    /// What `text` (a non-blank line, unquoted, without its indentation) is.
    fn classify(text: &'a str) -> Self {
        if let Some(item) = list_item(text) {
            return Line::Item(item);
        }
        match field_line(text) {
            Some((label, _)) if HEADER_KEYS.contains(&FieldKey::new(label).as_str()) => {
                Line::Header
            }
            Some((label, value)) => Line::Field { label, value },
            None => Line::Text(text),
        }
    }
}

/// The text of a list item (`- `, `* `, `• `, `1. `, `1) `), trimmed; `None` for other lines.
fn list_item(text: &str) -> Option<&str> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let rest = if (1..=3).contains(&digits) {
        // ASCII digits are one byte each, so `digits` is a char boundary.
        text.get(digits..)?.strip_prefix(['.', ')'])?
    } else {
        text.strip_prefix(['-', '*', '•'])?
    };
    rest.starts_with(char::is_whitespace).then(|| rest.trim())
}

/// `Field: value` → the field name as written (emphasis `*`/`_` around it removed) and the
/// trimmed value. `None` when the text before the colon is no field name, or the colon is a
/// URL's (`http://…`) or a time's (`at 10:30`).
fn field_line(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    let emphasised = name.starts_with(['*', '_']);
    let name = name.trim_matches(['*', '_']).trim();
    let value = if emphasised {
        value.trim_start_matches(['*', '_'])
    } else {
        value
    };
    let url = value.starts_with("//");
    let time = name.ends_with(|c: char| c.is_ascii_digit())
        && value.starts_with(|c: char| c.is_ascii_digit());
    if url || time || !is_field_name(name) {
        return None;
    }
    Some((name, value.trim()))
}

/// A field name: 1 to 4 words of letters, digits, `-` and `_`, starting with a letter, none of
/// them a word that makes it a sentence ([`PROSE_WORDS`]).
fn is_field_name(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    name.chars().count() <= MAX_NAME_CHARS
        && (1..=MAX_NAME_WORDS).contains(&words.len())
        && name.starts_with(char::is_alphabetic)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c.is_whitespace())
        && !words
            .iter()
            .any(|w| PROSE_WORDS.contains(&w.to_lowercase().as_str()))
}

/// A rule of underscores or box-drawing lines (Outlook's line above a forwarded header block,
/// html2text's `<hr>`).
fn is_rule(content: &str) -> bool {
    let rule = content.trim();
    rule.chars().count() >= 10 && rule.chars().all(|c| matches!(c, '_' | '─' | '━'))
}

/// The field being read: its name line, and the value lines seen so far.
struct OpenField {
    label: String,
    line: usize,
    /// Indentation of the name line; deeper lines go on with the value.
    indent: usize,
    /// Nothing was written after the colon.
    first_line_empty: bool,
    /// The value's lines, list markers removed (the text after the colon first, if any).
    lines: Vec<String>,
    items: Vec<String>,
    /// Indentation of the last list marker, while the last line is a list item.
    item_indent: Option<usize>,
}

impl OpenField {
    /// A field whose name line (0-based `index`) reads `label: value`.
    fn new(label: &str, value: &str, indent: usize, index: usize) -> Self {
        Self {
            label: label.to_string(),
            line: index + 1,
            indent,
            first_line_empty: value.is_empty(),
            lines: if value.is_empty() {
                Vec::new()
            } else {
                vec![value.to_string()]
            },
            items: Vec::new(),
            item_indent: None,
        }
    }

    /// A list item (marker removed) whose marker is indented by `indent`.
    fn push_item(&mut self, item: &str, indent: usize) {
        self.lines.push(item.to_string());
        self.items.push(item.to_string());
        self.item_indent = Some(indent);
    }

    /// An indented line: the rest of a wrapped list item when it is indented deeper than the
    /// item's marker and directly below it, otherwise a line of its own.
    fn push_indented(&mut self, text: &str, indent: usize, after_blank: bool) {
        match self.item_indent {
            Some(marker) if indent > marker && !after_blank => self.push_wrapped(text),
            _ => {
                self.lines.push(text.to_string());
                self.item_indent = None;
            }
        }
    }

    /// The rest of the last line, wrapped onto the next one: joined with a space.
    fn push_wrapped(&mut self, text: &str) {
        let Some(last) = self.lines.last_mut() else {
            self.lines.push(text.to_string());
            return;
        };
        last.push(' ');
        last.push_str(text.trim());
        if self.item_indent.is_some()
            && let Some(item) = self.items.last_mut()
        {
            item.push(' ');
            item.push_str(text.trim());
        }
    }

    /// The finished field: value lines joined with `\n`, html2text's link markup removed.
    fn finish(self) -> EvidenceField {
        let lines: Vec<String> = self.lines.iter().map(|l| without_link_markup(l)).collect();
        EvidenceField {
            key: FieldKey::new(&self.label),
            label: self.label,
            value: lines.join("\n"),
            items: self.items.iter().map(|i| without_link_markup(i)).collect(),
            line: self.line,
        }
    }
}

/// html2text writes a link as `[text][1]`, the URL in a footnote at the end of the mail (an
/// address Gmail turned into a `mailto:` link, say): keeps just the text.
fn without_link_markup(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find('[') {
        let (before, link) = rest.split_at(open);
        out.push_str(before);
        match link_text(link) {
            Some((text, after)) => {
                out.push_str(text);
                rest = after;
            }
            None => {
                out.push('[');
                rest = link.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[text][12]…` → `text` and `…`; `None` when `s` does not start with such a link. Looks
/// only as far as the next bracket (the text holds none), so a value full of `[` costs one
/// pass in [`without_link_markup`], not one pass per `[`.
fn link_text(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(['[', ']'])?;
    let (text, after) = inner.split_at(close);
    let after = after.strip_prefix("][")?;
    let digits = after.chars().take_while(char::is_ascii_digit).count();
    let after = after.get(digits..)?.strip_prefix(']')?;
    let text = text.trim();
    (digits > 0 && !text.is_empty()).then_some((text, after))
}

#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod tests;
