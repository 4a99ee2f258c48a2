//! Text from mail made safe to print on a terminal: [`safe`] for one line, [`safe_lines`] for a
//! body. Used by every command's human output (`cli::output` re-exports both) and by the import
//! report; `--json` needs none of it (serde escapes control characters itself).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` for one line of human output: control characters (C0 including CR, LF and tab, DEL,
/// C1) and the invisible characters that reorder or hide text (bidi embeddings, overrides,
/// isolates and marks, line/paragraph separators, zero-width space, BOM) are shown escaped —
/// `\x1b`, `\r`, `\n`, `\u{202e}` — so a mail cannot drive the admin's terminal or disguise
/// what is shown. `--json` needs none of this: serde escapes control characters itself.
pub fn safe(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// [`safe`] for a body shown over several lines: newlines and tabs are kept, everything else
/// escaped the same way (a CR too: it would let a line overwrite itself).
pub fn safe_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, multiline: bool) -> Cow<'_, str> {
    let kept = |c: char| multiline && (c == '\n' || c == '\t');
    let needs = |c: char| unsafe_char(c) && !kept(c);
    let Some(first) = text.find(needs) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => write!(out, "\\n"),
            '\r' => write!(out, "\\r"),
            '\t' => write!(out, "\\t"),
            c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
            c => write!(out, "\\u{{{:x}}}", c as u32),
        };
    }
    Cow::Owned(out)
}

/// Control characters, and format characters that reorder or hide what a terminal shows.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(
            safe("Invoice \u{1b}[2J\u{1b}]0;pwned\u{7}"),
            "Invoice \\x1b[2J\\x1b]0;pwned\\x07"
        );
        assert_eq!(safe("a\rb\nc\td\u{7f}"), "a\\rb\\nc\\td\\x7f");
        assert_eq!(safe("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(safe("gpj.\u{202e}exe"), "gpj.\\u{202e}exe");
        assert_eq!(
            safe("\u{2066}\u{2069}\u{200e}\u{200f}\u{61c}\u{2028}\u{feff}\u{200b}"),
            "\\u{2066}\\u{2069}\\u{200e}\\u{200f}\\u{61c}\\u{2028}\\u{feff}\\u{200b}"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["", "Drucker kaputt – bitte helfen", "日本語 ✓ 👨‍👩‍👧", "a\\x1b"]
        {
            assert!(
                matches!(safe(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn bodies_keep_their_lines_and_tabs_but_not_cr() {
        assert_eq!(safe_lines("one\n\ttwo\r\n"), "one\n\ttwo\\r\n");
        assert_eq!(safe_lines("x\u{1b}[31m\n"), "x\\x1b[31m\n");
    }
}
