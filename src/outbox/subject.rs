//! The subject of an outgoing mail: the ticket tag `[SUP-n]` exactly once, at most one `Re: `,
//! no header-breaking characters, and a sensible length.
//!
//! The customer's subject is taken apart from the front: reply and forward prefixes in the
//! usual languages (`Re:`, `RE:`, `Re[2]:`, `AW:`, `SV:`, `Antw:`, `Fwd:`, `WG:` …) and tags of
//! this installation's prefix are removed repeatedly, then tags of our prefix anywhere else in
//! the text are removed too, so `AW: [SUP-3] Re: Drucker [SUP-3]` becomes `Re: [SUP-3] Drucker`.
//! Other brackets (`[EXTERNAL]`, `[OPS-7]`) are the customer's text and stay.

use crate::domain::TicketRef;

/// Longest customer text kept in a subject, in characters (the tag and `Re: ` come on top).
pub const MAX_SUBJECT_TEXT_CHARS: usize = 120;

/// Whether the mail answers another mail (`Re: `) or starts a new message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectMode {
    /// Answers a mail: `Re: [SUP-3] text`.
    Reply,
    /// Stands on its own (status change, alert): `[SUP-3] text`.
    Fresh,
}

/// Reply and forward prefixes, compared case-insensitively, before the `:`.
const PREFIXES: &[&str] = &[
    "re", "aw", "sv", "vs", "antw", "antwort", "odp", "ref", "rif", "r", "fwd", "fw", "wg", "tr",
    "rv", "enc", "doorst",
];

/// The subject of an outgoing mail about `ticket`, built from `text` (the customer's subject or
/// the ticket's title).
pub fn outgoing_subject(text: &str, ticket: &TicketRef, mode: SubjectMode) -> String {
    let core = strip_tags_and_prefixes(&sanitise(text), ticket.prefix());
    let core = truncate_chars(&core, MAX_SUBJECT_TEXT_CHARS);
    let mut out = String::new();
    if mode == SubjectMode::Reply {
        out.push_str("Re: ");
    }
    out.push_str(&ticket.tag());
    if !core.is_empty() {
        out.push(' ');
        out.push_str(&core);
    }
    out
}

/// Control characters (CR, LF, TAB, …) and bidirectional overrides become spaces; runs of
/// whitespace collapse to one space.
/// The subject without reply / forward prefixes and tags of `prefix` (for quoting it).
pub fn bare_subject(text: &str, prefix: &str) -> String {
    strip_tags_and_prefixes(&sanitise(text), prefix)
}

pub fn sanitise(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn strip_tags_and_prefixes(text: &str, prefix: &str) -> String {
    let mut rest = text.trim();
    loop {
        if let Some(after) = strip_reply_prefix(rest) {
            rest = after.trim_start();
        } else if let Some(after) = strip_leading_tag(rest, prefix) {
            rest = after.trim_start();
        } else {
            break;
        }
    }
    // Our tags anywhere else ("printer broken [SUP-3]"), in one scan as
    // `TicketRef::find_in_subject` finds them: each `]` with the last `[` before it.
    let mut out = String::with_capacity(rest.len());
    let mut copied = 0;
    let mut open: Option<usize> = None;
    for (at, c) in rest.bytes().enumerate() {
        match c {
            b'[' => open = Some(at),
            b']' => {
                if let Some(start) = open.take()
                    && TicketRef::parse(rest[start + 1..at].trim(), prefix).is_ok()
                {
                    out.push_str(&rest[copied..start]);
                    copied = at + 1;
                }
            }
            _ => {}
        }
    }
    out.push_str(&rest[copied..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Re:`, `RE :`, `Re[2]:`, `Re(2):`, `Re^2:` at the start → the text after the colon.
fn strip_reply_prefix(text: &str) -> Option<&str> {
    let word_end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let word = &text[..word_end];
    if !PREFIXES.iter().any(|p| p.eq_ignore_ascii_case(word)) {
        return None;
    }
    let mut rest = &text[word_end..];
    // Optional counter: [2], (2), ^2
    if let Some(inner) = rest.strip_prefix('[').or_else(|| rest.strip_prefix('(')) {
        let close = inner.find([']', ')'])?;
        if close == 0 || !inner[..close].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = &inner[close + 1..];
    } else if let Some(inner) = rest.strip_prefix('^') {
        let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &inner[digits..];
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    rest.strip_prefix(':')
        .or_else(|| rest.strip_prefix('\u{ff1a}'))
}

/// `[SUP-3]` (any case, any number, our prefix only) at the start → the text after it.
fn strip_leading_tag<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find(']')?;
    let candidate = inner[..close].trim();
    TicketRef::parse(candidate, prefix).ok()?;
    Some(&inner[close + 1..])
}

/// At most `max` characters; a cut text ends in `…` (counted in `max`), cut at a word boundary
/// when one is reasonably close.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let cut: String = text.chars().take(keep).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if cut[..space].chars().count() >= keep * 3 / 4 => cut[..space].to_string(),
        _ => cut,
    };
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sup3() -> TicketRef {
        TicketRef::new("SUP", 3)
    }

    #[test]
    fn reply_table() {
        let cases = [
            ("Printer broken", "Re: [SUP-3] Printer broken"),
            ("Re: Printer broken", "Re: [SUP-3] Printer broken"),
            ("Re: Re: [SUP-3] x", "Re: [SUP-3] x"),
            ("AW: [SUP-3] x", "Re: [SUP-3] x"),
            ("RE: AW: SV: Antw: Fwd: FW: WG: x", "Re: [SUP-3] x"),
            ("Re[2]: x", "Re: [SUP-3] x"),
            ("Re(3): x", "Re: [SUP-3] x"),
            ("Re^2: x", "Re: [SUP-3] x"),
            ("RE : x", "Re: [SUP-3] x"),
            ("[SUP-3] Re: [sup-3] x", "Re: [SUP-3] x"),
            ("[ SUP-3 ] x", "Re: [SUP-3] x"),
            ("Printer broken [SUP-3]", "Re: [SUP-3] Printer broken"),
            ("Printer [SUP-3] broken", "Re: [SUP-3] Printer broken"),
            ("x [SUP-3] [SUP-3]", "Re: [SUP-3] x"),
            ("[EXTERNAL] Re: x", "Re: [SUP-3] [EXTERNAL] Re: x"),
            ("[OPS-7] x", "Re: [SUP-3] [OPS-7] x"),
            ("Re: [SUP-4] x", "Re: [SUP-3] x"),
            ("Report: March", "Re: [SUP-3] Report: March"),
            ("Regarding: x", "Re: [SUP-3] Regarding: x"),
            ("Rechnung fehlt", "Re: [SUP-3] Rechnung fehlt"),
            ("Re x", "Re: [SUP-3] Re x"),
            ("[SUP-3", "Re: [SUP-3] [SUP-3"),
            ("a [ b", "Re: [SUP-3] a [ b"),
            ("", "Re: [SUP-3]"),
            ("Re: ", "Re: [SUP-3]"),
            (
                "AW: Drucker druckt nicht – dringend",
                "Re: [SUP-3] Drucker druckt nicht – dringend",
            ),
            ("Re: 打印机坏了", "Re: [SUP-3] 打印机坏了"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                outgoing_subject(input, &sup3(), SubjectMode::Reply),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn fresh_table() {
        let cases = [
            ("Printer broken", "[SUP-3] Printer broken"),
            ("Re: Re: [SUP-3] x", "[SUP-3] x"),
            ("Fwd: x", "[SUP-3] x"),
            ("", "[SUP-3]"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                outgoing_subject(input, &sup3(), SubjectMode::Fresh),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn other_prefixes_use_their_own_tag() {
        let ops = TicketRef::new("OPS", 12);
        assert_eq!(
            outgoing_subject("Re: [SUP-3] [ops-12] x", &ops, SubjectMode::Reply),
            "Re: [OPS-12] [SUP-3] x"
        );
    }

    #[test]
    fn never_breaks_the_header() {
        for input in [
            "x\r\nBcc: victim@example.test",
            "x\nSubject: y",
            "x\r",
            "a\tb\u{0}c\u{7f}d",
            "evil \u{202e}txt.exe",
        ] {
            let s = outgoing_subject(input, &sup3(), SubjectMode::Reply);
            assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
            assert!(!s.chars().any(is_bidi_control), "{s:?}");
            assert!(!s.contains("  "), "{s:?}");
        }
        assert_eq!(
            outgoing_subject("x\r\nBcc: v@example.test", &sup3(), SubjectMode::Fresh),
            "[SUP-3] x Bcc: v@example.test"
        );
    }

    #[test]
    fn long_subjects_are_capped_on_char_boundaries() {
        let long = "Drucker ".repeat(40);
        let s = outgoing_subject(&long, &sup3(), SubjectMode::Reply);
        let text = s.strip_prefix("Re: [SUP-3] ").unwrap();
        assert!(text.chars().count() <= MAX_SUBJECT_TEXT_CHARS, "{s}");
        assert!(text.ends_with("Drucker…"), "cut at a word: {s}");

        let umlauts = "ä".repeat(500);
        let s = outgoing_subject(&umlauts, &sup3(), SubjectMode::Fresh);
        let text = s.strip_prefix("[SUP-3] ").unwrap();
        assert_eq!(text.chars().count(), MAX_SUBJECT_TEXT_CHARS);
        assert!(text.ends_with('…'));

        let exact = "x".repeat(MAX_SUBJECT_TEXT_CHARS);
        let s = outgoing_subject(&exact, &sup3(), SubjectMode::Fresh);
        assert_eq!(
            s,
            format!("[SUP-3] {exact}"),
            "exactly the cap is kept whole"
        );
    }

    #[test]
    fn tag_appears_exactly_once() {
        for input in [
            "[SUP-3][SUP-3]",
            "Re:[SUP-3]Re:[SUP-3]x",
            "[sup-3] [SUP-03] x",
        ] {
            for mode in [SubjectMode::Reply, SubjectMode::Fresh] {
                let s = outgoing_subject(input, &sup3(), mode);
                assert_eq!(TicketRef::find_in_subject(&s, "SUP"), vec![sup3()], "{s}");
                assert_eq!(s.matches("[SUP-3]").count(), 1, "{s}");
                assert!(!s.contains("Re: Re:"), "{s}");
            }
        }
    }

    #[test]
    fn hostile_subjects_take_one_pass() {
        let started = std::time::Instant::now();
        let brackets = "[".repeat(1 << 20) + "]";
        let s = outgoing_subject(&brackets, &sup3(), SubjectMode::Reply);
        assert!(s.starts_with("Re: [SUP-3] [[["), "{s}");
        let tags = "x [SUP-".repeat(200_000) + "3]";
        let s = outgoing_subject(&tags, &sup3(), SubjectMode::Fresh);
        assert!(s.starts_with("[SUP-3] x [SUP-x [SUP-"), "{s}");
        let many = "[SUP-3] [SUP-4] ".repeat(50_000);
        let s = outgoing_subject(&many, &sup3(), SubjectMode::Fresh);
        assert_eq!(s, "[SUP-3]");
        // Trying every `[` against the rest of the subject took minutes here.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn sanitise_collapses_whitespace() {
        assert_eq!(sanitise("  a \r\n\t b  "), "a b");
        assert_eq!(sanitise(""), "");
    }
}
