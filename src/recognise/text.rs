//! The text the recogniser reads (pure): at most [`MAX_TEXT_BYTES`] of a mail's body, in lower
//! case, with ISO-2022-JP that no header declared decoded (Japanese carriers' notices often
//! arrive as raw `ESC $ B` sequences that a parser leaves as ASCII).

use std::borrow::Cow;

/// How much of a body the recogniser reads: a bounce says what it is near the top; what
/// follows (the returned original, an attachment's text) is not read, so a hostile mail costs
/// no more than this.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The first [`MAX_TEXT_BYTES`] of `text`, cut at a character boundary.
pub fn capped(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` with undeclared ISO-2022-JP decoded, in lower case: what phrases are matched against.
pub fn folded(text: &str) -> String {
    decode_iso_2022_jp(text).to_lowercase()
}

/// `text` with its ISO-2022-JP escape sequences decoded when it has any (7-bit text that a
/// parser read as ASCII); other text is returned as it is.
pub fn decode_iso_2022_jp(text: &str) -> Cow<'_, str> {
    let has_escape = text.contains("\u{1b}$B") || text.contains("\u{1b}$@");
    if !has_escape || !text.is_ascii() {
        return Cow::Borrowed(text);
    }
    match mail_parser::decoders::charsets::map::charset_decoder(b"iso-2022-jp") {
        Some(decode) => Cow::Owned(decode(text.as_bytes())),
        None => Cow::Borrowed(text),
    }
}

/// The non-empty lines at the top of `text`, at most `n`, trimmed.
pub fn first_lines(text: &str, n: usize) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_at_a_char_boundary() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        let cut = capped(&long);
        assert!(cut.len() <= MAX_TEXT_BYTES && cut.len() > MAX_TEXT_BYTES - 2);
        assert_eq!(capped("short"), "short");
    }

    #[test]
    fn undeclared_iso_2022_jp_is_decoded() {
        // "メールエラー通知" in ISO-2022-JP.
        let raw = "\u{1b}$B%a!<%k%(%i!<DLCN\u{1b}(B";
        assert_eq!(decode_iso_2022_jp(raw), "メールエラー通知");
        assert_eq!(decode_iso_2022_jp("plain"), "plain");
        assert_eq!(folded("Mail ERROR"), "mail error");
    }
}
