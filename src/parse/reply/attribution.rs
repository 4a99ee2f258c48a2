//! Quote attributions: "On ... wrote:", "Le ... a écrit :", "Am ... schrieb ...:", ...,
//! possibly wrapped over up to four lines.

use super::casefold::{Initials, contains_word, starts_with_ci};
use super::{ends_with_colon, is_quoted, trim};

/// Lines that start a quote attribution in various languages.
const ATTRIBUTION_PREFIXES: &[&str] = &[
    "on ",
    "le ",
    "am ",
    "el ",
    "il ",
    "op ",
    "em ",
    "den ",
    "på ",
    "w dniu ",
    "dne ",
    "pada ",
    "в ",
    "στις ",
    "在 ",
    "el día ",
];

/// The first bytes a line needs to start with one of [`ATTRIBUTION_PREFIXES`].
static PREFIX_INITIALS: Initials = Initials::of(ATTRIBUTION_PREFIXES);

/// "wrote" in various languages, lower case.
const WROTE: &[&str] = &[
    "wrote",
    "writes",
    "a écrit",
    "schrieb",
    "escribió",
    "ha escrito",
    "ha scritto",
    "scrisse",
    "schreef",
    "escreveu",
    "skrev",
    "kirjoitti",
    "napisał",
    "napisała",
    "napisał(a)",
    "написал",
    "написала",
    "написал(а)",
    "έγραψε",
    "a scris",
    "írta",
    "写道",
    "寫道",
];

/// Whether an attribution may start with the line `t` (trimmed): cheap checks on its first
/// bytes and last character that [`attribution_len`] starts with.
pub(super) fn may_start_attribution(t: &str) -> bool {
    PREFIX_INITIALS.may_start(t) || ends_with_colon(t)
}

/// If an attribution line ("On ... wrote:") starts at `i`, how many lines it spans (1–4).
pub(super) fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let first = trim(lines.get(i)?);
    if first.len() > 400 {
        return None;
    }
    let has_prefix = PREFIX_INITIALS.may_start(first)
        && ATTRIBUTION_PREFIXES
            .iter()
            .any(|p| starts_with_ci(first, p));
    if !has_prefix && !ends_with_colon(first) {
        return None;
    }
    let max_span = if has_prefix { 4 } else { 1 };
    if !colon_ends_a_line(&lines[i..], max_span) {
        return None;
    }
    let mut joined = String::new();
    for (span, line) in lines[i..].iter().take(max_span).enumerate() {
        let line = trim(line);
        if line.is_empty() || is_quoted(line) || joined.len() + line.len() > 500 {
            return None;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(&line.to_lowercase());
        let Some(core) = joined
            .strip_suffix(':')
            .or_else(|| joined.strip_suffix('：'))
            .map(str::trim_end)
        else {
            continue;
        };
        let verb_anywhere = || WROTE.iter().any(|w| contains_word(core, w));
        let verb_at_end = || {
            WROTE
                .iter()
                .any(|w| core.ends_with(w) && contains_word(core, w))
        };
        // Gmail in some locales: "2025-03-03 10:00 GMT+01:00 Name <name@example.com>:"
        let dated_address = span == 0
            && first.starts_with(|c: char| c.is_ascii_digit())
            && core.ends_with('>')
            && core.contains('@');
        if (has_prefix && verb_anywhere()) || verb_at_end() || dated_address {
            return Some(span + 1);
        }
    }
    None
}

/// Whether one of the first `max_span` lines ends with a colon before a blank or quoted line
/// does: what every attribution needs (lower-casing never adds or removes a final colon), so
/// the costly check below runs only for such lines.
fn colon_ends_a_line(lines: &[&str], max_span: usize) -> bool {
    for line in lines.iter().take(max_span) {
        let line = trim(line);
        if line.is_empty() || is_quoted(line) {
            return false;
        }
        if ends_with_colon(line) {
            return true;
        }
    }
    false
}
