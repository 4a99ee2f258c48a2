//! The text body of a message: its text/plain body parts joined; only when there is none, its
//! HTML body parts converted to text. Line endings are normalised to `\n` and NULs removed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Message, MimeHeaders, PartType};

/// HTML beyond this many bytes is not converted (the rest of a 2 MB HTML mail is almost
/// certainly not prose a support agent needs).
const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;

/// Wrap width of the HTML → text conversion.
const HTML_WIDTH: usize = 100;

/// html2text's time grows quadratically with element nesting (100,000 nested `<div>` take
/// minutes). HTML nested deeper than this goes through mail-parser's linear tag stripper.
const MAX_HTML_NESTING: usize = 256;

/// The text body of `message` (see the module documentation).
pub(super) fn body_text(message: &Message<'_>) -> String {
    let mut out = String::new();
    let mut found_text = false;
    for part in message.text_body.iter().filter_map(|&id| message.part(id)) {
        if let PartType::Text(text) = &part.body {
            found_text = true;
            push_part(&mut out, text);
        }
    }
    if found_text {
        return out;
    }
    let mut html_budget = MAX_HTML_BYTES;
    let mut found_html = false;
    for part in message.html_body.iter().filter_map(|&id| message.part(id)) {
        if let PartType::Html(html) = &part.body {
            found_html = true;
            let html = truncate_at_char_boundary(html, html_budget);
            html_budget -= html.len();
            push_part(&mut out, &html_to_text(html));
        }
    }
    if !found_html {
        broken_multipart_text(message, &mut out);
    }
    out
}

/// A multipart whose boundary is missing or never appears is left by mail-parser as one
/// opaque part (counted as an attachment); its bytes are still the only text the sender
/// wrote, so they become the body.
fn broken_multipart_text(message: &Message<'_>, out: &mut String) {
    let root = message.root_part();
    if !root
        .content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
    {
        return;
    }
    match &root.body {
        PartType::Text(text) => normalise_into(out, text),
        PartType::Binary(bytes) => normalise_into(out, &String::from_utf8_lossy(bytes)),
        _ => {}
    }
}

/// Appends one part's text, normalised, on its own lines.
fn push_part(out: &mut String, text: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    normalise_into(out, text);
}

/// Appends `text` to `out` with CRLF and lone CR turned into LF and NULs removed.
pub(super) fn normalise_into(out: &mut String, text: &str) {
    if memchr::memchr2(b'\r', b'\0', text.as_bytes()).is_none() {
        out.push_str(text);
        return;
    }
    out.reserve(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\0' => {}
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            c => out.push(c),
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub(super) fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// HTML → plain text, as people read it: emphasis is not marked up (no markdown `**bold**`),
/// quotes become `> ` lines (which the reply trimmer relies on), list items `* ` or `1. `,
/// and links `[text][n]` with the URL in an `[n]: url` footnote at the end (kept whole, not
/// wrapped, and out of the way of the prose). Too deeply nested HTML, or an html2text
/// failure, falls back to mail-parser's simple tag stripper.
fn html_to_text(html: &str) -> String {
    if nesting_exceeds(html, MAX_HTML_NESTING) {
        return mail_parser::decoders::html::html_to_text(html);
    }
    let converted = catch_unwind(AssertUnwindSafe(|| {
        html2text::config::plain_no_decorate()
            .link_footnotes(true)
            .allow_width_overflow()
            .no_table_borders()
            .string_from_read(html.as_bytes(), HTML_WIDTH)
    }));
    match converted {
        Ok(Ok(text)) => text,
        _ => mail_parser::decoders::html::html_to_text(html),
    }
}

/// Elements that never nest (void elements) or that HTML closes implicitly when a sibling
/// starts, so an unclosed run of them is not deep nesting.
const NON_NESTING: &[&[u8]] = &[
    b"br", b"img", b"hr", b"meta", b"link", b"input", b"col", b"area", b"base", b"wbr", b"source",
    b"embed", b"param", b"track", b"p", b"li", b"td", b"th", b"tr", b"option", b"dt", b"dd",
];

/// A cheap over-estimate of whether element nesting in `html` goes deeper than `limit`:
/// opening tags minus closing tags, ignoring the elements of [`NON_NESTING`] and `<.../>`.
fn nesting_exceeds(html: &str, limit: usize) -> bool {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[pos..]) {
        let start = pos + found + 1;
        pos = start;
        let closing = bytes.get(start) == Some(&b'/');
        let name_start = if closing { start + 1 } else { start };
        let name_len = bytes[name_start.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            continue;
        }
        let name = &bytes[name_start..name_start + name_len];
        if NON_NESTING.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        let window = &bytes[name_start..(name_start + 1024).min(bytes.len())];
        let tag_end = memchr::memchr(b'>', window).map(|e| name_start + e);
        if tag_end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/') {
            continue;
        }
        depth += 1;
        if depth > limit {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(raw: &[u8]) -> String {
        body_text(&mail_parser::MessageParser::new().parse(raw).unwrap())
    }

    #[test]
    fn broken_multipart_keeps_its_text() {
        let no_boundary = b"From: a@b.c\nContent-Type: multipart/mixed\n\nHello there\n";
        assert_eq!(body_of(no_boundary), "Hello there\n");
        let lost = b"From: a@b.c\nContent-Type: multipart/alternative; boundary=zz\n\nNo parts\n";
        assert_eq!(body_of(lost), "No parts\n");
        let calendar = b"From: a@b.c\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n";
        assert_eq!(body_of(calendar), "");
    }

    #[test]
    fn text_part_wins_over_html_and_parts_are_joined() {
        let raw = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
Content-Type: text/plain\n\none\n--b\nContent-Type: text/html\n\n<p>html</p>\n--b\n\
Content-Type: text/plain\n\ntwo\r\n--b--\n";
        assert_eq!(body_of(raw), "one\ntwo");
    }

    #[test]
    fn normalises_line_endings_and_nuls() {
        let mut out = String::new();
        normalise_into(&mut out, "a\r\nb\rc\0d\n");
        assert_eq!(out, "a\nb\ncd\n");
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate_at_char_boundary("héllo", 2), "h");
        assert_eq!(truncate_at_char_boundary("héllo", 3), "hé");
        assert_eq!(truncate_at_char_boundary("abc", 10), "abc");
    }

    #[test]
    fn nesting_estimate() {
        assert!(!nesting_exceeds("<div><p>a<p>b<br><img src=x/></div>", 1));
        assert!(nesting_exceeds(&"<div>".repeat(300), 256));
        assert!(!nesting_exceeds(&"<div>a</div>".repeat(10_000), 2));
        assert!(!nesting_exceeds(&"<p>para".repeat(10_000), 2));
        assert!(!nesting_exceeds("a < b and <", 0));
        assert!(nesting_exceeds(&"<a<b".repeat(500_000), 256));
    }

    #[test]
    fn deep_html_is_converted_quickly() {
        let html = format!(
            "{}deep{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        let start = std::time::Instant::now();
        let text = html_to_text(&html);
        assert!(text.contains("deep"));
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn html_text_is_plain_with_link_footnotes() {
        let text = html_to_text(
            "<p>The <b>printer queue</b> is <em>stuck</em>, see <code>lpq</code> and \
             <a href=\"https://help.example/printing\">the guide</a>.</p>",
        );
        assert_eq!(
            text,
            "The printer queue is stuck, see lpq and [the guide][1].\n\n\
             [1]: https://help.example/printing\n"
        );
    }

    #[test]
    fn html_quotes_become_quote_lines() {
        let text = html_to_text(
            "<div>Thanks!</div><div>On Mon, X wrote:<blockquote>old</blockquote></div>",
        );
        assert!(text.contains("Thanks!"), "{text}");
        assert!(text.contains("> old"), "{text}");
    }
}
