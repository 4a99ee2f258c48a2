//! The new part of a reply: quoted history, attribution lines, signature and "Sent from my
//! phone" trailers removed.
//!
//! One pass over the lines decides, in order:
//!
//! 1. `>`-quoted lines are dropped wherever they are (so inline, interleaved answers keep only
//!    their own lines), and so is an attribution ("On ... wrote:", "Le ... a écrit :",
//!    "Am ... schrieb ...:", ...; up to four wrapped lines) that introduces a quoted block.
//! 2. Quoted history that is *not* `>`-prefixed ends the reply: an attribution followed by
//!    unprefixed text, Outlook's "-----Original Message-----", an underscore separator
//!    followed by a header block, or a header block itself ("From: ... Sent: ... To: ...",
//!    in several languages, also with bold marked up as `*From:*` or `**From:**`).
//! 3. A forward marker ("---------- Forwarded message ---------", "Begin forwarded
//!    message:", ...) is **not** a cut: for a support desk the forwarded mail is usually the
//!    substance of the request ("see the customer's mail below"), so it is kept verbatim.
//!    When the subject says the mail is a forward (`Fwd:`, `FW:`, ...), the Outlook separators
//!    and header blocks that Outlook uses for forwards and replies alike count as forward
//!    markers too. Only text before a forward marker is trimmed.
//! 4. Of what is left, everything after the first signature delimiter (`-- `, or `--`) goes,
//!    then trailing "Sent from my iPhone"-style lines.
//!
//! Link footnotes at the end (`[1]: https://...`, as html2text writes them) are kept only
//! when the remaining text still refers to them. When nothing is left, the whole text is
//! returned trimmed.
//!
//! Every line is looked at once; the checks reject ordinary lines from their first bytes
//! without allocating (see `casefold`), so trimming costs little more than splitting lines.
//!
//! Known limits: a signature without a delimiter stays; so does unprefixed history that is
//! introduced by nothing recognisable; "-----Original Message-----" in a mail forwarded
//! from Outlook without a forward subject is cut like a reply.

mod attribution;
mod casefold;
mod markers;
mod outlook;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use attribution::{attribution_len, may_start_attribution};
use markers::{is_forward_marker, is_mobile_trailer, may_be_forward_marker};
use outlook::{may_start_outlook_history, outlook_history_start};

/// Only what is new in a reply (see the module documentation).
pub fn extract_reply(body_text: &str) -> String {
    extract_reply_for(body_text, false)
}

/// [`extract_reply`], told whether the subject marks the mail as a forward.
pub(super) fn extract_reply_for(body_text: &str, forwarded: bool) -> String {
    let lines = split_lines(body_text);
    let (content, footnotes) = split_footnotes(&lines);
    let scan = scan(content, forwarded);

    let mut out: Vec<&str> = Vec::with_capacity(scan.head_end);
    let mut after_removed = false;
    for (&line, &drop) in content[..scan.head_end].iter().zip(&scan.dropped) {
        if drop {
            after_removed = true;
            continue;
        }
        if after_removed {
            if is_blank(line) {
                continue;
            }
            trim_blank_end(&mut out);
            if !out.is_empty() {
                out.push("");
            }
            after_removed = false;
        }
        out.push(line);
    }
    if let Some(sig) = out.iter().position(|l| is_signature_delimiter(l)) {
        out.truncate(sig);
    }
    loop {
        trim_blank_end(&mut out);
        match out.last() {
            Some(line) if is_mobile_trailer(line) => {
                out.pop();
            }
            _ => break,
        }
    }
    if let Some(forward) = scan.forward_start {
        if !out.is_empty() {
            out.push("");
        }
        out.extend_from_slice(&content[forward..]);
        trim_blank_end(&mut out);
    }

    let mut text = out.join("\n");
    let markers = if footnotes.is_empty() {
        HashSet::new()
    } else {
        markers_in(&text)
    };
    let referenced: Vec<&str> = footnotes
        .iter()
        .copied()
        .filter(|f| footnote_marker(f).is_some_and(|m| markers.contains(m)))
        .collect();
    if !referenced.is_empty() {
        text.push_str("\n\n");
        text.push_str(&referenced.join("\n"));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        body_text.trim().to_string()
    } else if trimmed.len() == text.len() {
        text
    } else {
        trimmed.to_string()
    }
}

/// `text.lines()`, split with `memchr` into a vector sized for typical mail lines.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::with_capacity(text.len() / 40 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let line = &text[start..end];
        lines.push(line.strip_suffix('\r').unwrap_or(line));
        start = end + 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// What the scan decided about the lines of a mail.
struct Scan {
    /// Lines before this index are the candidate reply; the rest is cut (or forwarded).
    head_end: usize,
    /// Per line of the head: dropped as quote or quote attribution.
    dropped: Vec<bool>,
    /// Where kept forwarded content starts (equals `head_end` when set).
    forward_start: Option<usize>,
}

fn scan(lines: &[&str], forwarded: bool) -> Scan {
    let mut dropped = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let line = trim(lines[i]);
        if line.starts_with('>') {
            dropped[i] = true;
            i += 1;
            continue;
        }
        // Most lines are prose: blank, or unable to start any marker (first byte, last char).
        if line.is_empty()
            || !(may_be_forward_marker(line)
                || may_start_attribution(line)
                || may_start_outlook_history(line))
        {
            i += 1;
            continue;
        }
        if is_forward_marker(line) {
            return forward_at(i, dropped);
        }
        if let Some(span) = attribution_len(lines, i) {
            let next = lines[i + span..].iter().find(|l| !is_blank(l));
            if next.is_some_and(|l| is_quoted(l)) {
                dropped[i..i + span].fill(true);
                i += span;
                continue;
            }
            return cut_at(i, dropped);
        }
        if let Some(start) = outlook_history_start(lines, i) {
            return if forwarded {
                forward_at(start, dropped)
            } else {
                cut_at(start, dropped)
            };
        }
        i += 1;
    }
    Scan {
        head_end: lines.len(),
        dropped,
        forward_start: None,
    }
}

fn cut_at(at: usize, mut dropped: Vec<bool>) -> Scan {
    dropped.truncate(at);
    Scan {
        head_end: at,
        dropped,
        forward_start: None,
    }
}

fn forward_at(at: usize, dropped: Vec<bool>) -> Scan {
    Scan {
        forward_start: Some(at),
        ..cut_at(at, dropped)
    }
}

/// `line.trim()`, at once for a line that starts and ends with visible ASCII (most lines).
fn trim(line: &str) -> &str {
    /// ASCII that `char::is_whitespace` rejects.
    fn solid(b: u8) -> bool {
        b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r')
    }
    match line.as_bytes() {
        [first, .., last] if solid(*first) && solid(*last) => line,
        [only] if solid(*only) => line,
        _ => line.trim(),
    }
}

fn is_blank(line: &str) -> bool {
    trim(line).is_empty()
}

fn is_quoted(line: &str) -> bool {
    trim(line).starts_with('>')
}

/// Whether `t` ends with a colon, ASCII or full-width.
fn ends_with_colon(t: &str) -> bool {
    t.ends_with(':') || t.ends_with('：')
}

fn trim_blank_end(out: &mut Vec<&str>) {
    while out.last().is_some_and(|l| is_blank(l)) {
        out.pop();
    }
}

fn is_signature_delimiter(line: &str) -> bool {
    line.starts_with("--") && (line == "-- " || line.trim_end() == "--")
}

/// `[12]: https://...` → `Some("[12]")`.
fn footnote_marker(line: &str) -> Option<&str> {
    let t = line.trim();
    let close = t.find("]:")?;
    let digits = t.get(1..close)?;
    (t.starts_with('[') && !digits.is_empty() && digits.len() <= 5)
        .then_some(())
        .filter(|()| digits.bytes().all(|b| b.is_ascii_digit()))
        .map(|()| &t[..=close])
}

/// Every footnote marker (`[12]`: one to five digits) in `text`, in one pass, so a mail with a
/// million footnotes is not searched a million times.
fn markers_in(text: &str) -> HashSet<&str> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'[', bytes)
        .filter_map(|open| {
            let digits = bytes[open + 1..]
                .iter()
                .take(6)
                .take_while(|b| b.is_ascii_digit())
                .count();
            let close = open + 1 + digits;
            ((1..=5).contains(&digits) && bytes.get(close) == Some(&b']'))
                .then(|| &text[open..=close])
        })
        .collect()
}

/// Splits the trailing block of link footnotes (and blank lines) off the text.
fn split_footnotes<'a, 'b>(lines: &'b [&'a str]) -> (&'b [&'a str], Vec<&'a str>) {
    let mut start = lines.len();
    let mut found = false;
    while start > 0 {
        let line = lines[start - 1];
        if footnote_marker(line).is_some() {
            found = true;
        } else if !is_blank(line) {
            break;
        }
        start -= 1;
    }
    if !found {
        return (lines, Vec::new());
    }
    let footnotes = lines[start..]
        .iter()
        .copied()
        .filter(|l| !is_blank(l))
        .collect();
    (&lines[..start], footnotes)
}
