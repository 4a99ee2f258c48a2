//! Header values in raw 8-bit bytes with no MIME encoding (RFC 2047) — a Subject, a display
//! name or an attachment's file name written by an old client in GBK, Shift_JIS, EUC-KR,
//! Windows-1251 or ISO-8859-x — turned into UTF-8 text before the header is parsed, so that a
//! person reads what the sender wrote instead of U+FFFD replacement characters.
//!
//! A value is decoded, in this order:
//!
//! 1. as UTF-8, when its bytes are valid UTF-8 (RFC 6532 mail): left as it is;
//! 2. by the charset the mail's own body parts declare (the client that wrote the body in
//!    that charset wrote the headers in it too), when it is a charset other than UTF-8 or
//!    US-ASCII;
//! 3. by detection ([`chardetng`], the detector Firefox uses) over every 8-bit header byte of
//!    the mail, with the top-level domain of the From address as its hint.
//!
//! Encoded words are ASCII, so they pass through the transcoding unchanged and are decoded
//! afterwards by the header's own parser: a value mixing an encoded word with raw 8-bit bytes
//! reads right. Only the text is decoded; the raw bytes of the mail are stored as they came.
//! A value of ASCII or valid UTF-8 (nearly all mail) costs one scan and is never copied.
//!
//! Pure: bytes in, text out.

use std::borrow::Cow;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::Encoding;

/// Whether `value` holds raw 8-bit bytes that are not UTF-8, and so needs a charset to be read.
pub(super) fn needs_charset(value: &[u8]) -> bool {
    !value.is_ascii() && std::str::from_utf8(value).is_err()
}

/// `value` as UTF-8 bytes: unchanged when it is ASCII or valid UTF-8, else decoded with the
/// charset `fallback` gives (called only then).
pub(super) fn to_utf8<'a>(
    value: &'a [u8],
    fallback: impl FnOnce() -> &'static Encoding,
) -> Cow<'a, [u8]> {
    if !needs_charset(value) {
        return Cow::Borrowed(value);
    }
    let (text, _) = fallback().decode_without_bom_handling(value);
    Cow::Owned(text.into_owned().into_bytes())
}

/// The first charset among `declared` (the `charset` parameters of a mail's parts, in MIME
/// order) that says something about 8-bit bytes: known to the Encoding Standard and neither
/// UTF-8 nor US-ASCII (whose declaration is no help for bytes that are not UTF-8).
pub(super) fn declared_charset<'a>(
    declared: impl IntoIterator<Item = &'a str>,
) -> Option<&'static Encoding> {
    declared
        .into_iter()
        .filter(|label| !is_ascii_declaration(label))
        .filter_map(|label| Encoding::for_label_no_replacement(label.trim().as_bytes()))
        .find(|e| *e != encoding_rs::UTF_8)
}

/// Labels that declare ASCII text (an alias of windows-1252 in the Encoding Standard): no help
/// for 8-bit bytes.
fn is_ascii_declaration(label: &str) -> bool {
    let label = label.trim();
    ["us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"]
        .iter()
        .any(|a| label.eq_ignore_ascii_case(a))
}

/// The charset `bytes` (the 8-bit header bytes of a mail) are most likely written in, with
/// `tld` (the sender's top-level domain, e.g. `jp`) as a hint when known.
pub(super) fn detect(bytes: &[u8], tld: Option<&str>) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let tld = tld
        .map(str::to_ascii_lowercase)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let guess = detector.guess(tld.as_deref().map(str::as_bytes), Utf8Detection::Deny);
    if guess == encoding_rs::WINDOWS_1250 && looks_like_iso_8859_2(bytes) {
        return encoding_rs::ISO_8859_2;
    }
    guess
}

/// chardetng never guesses ISO-8859-2 (on the Web, windows-1250 is what Central European text
/// is in), but mail from Unix clients is often ISO-8859-2, where Ą ą Ś ś Ź ź sit on bytes that
/// windows-1250 reads as `ˇ ± ¦ ¶ ¬ Ľ`. Text with those bytes and none of windows-1250's own
/// letters (0x80–0x9F, control characters in ISO-8859-2) is taken for ISO-8859-2.
fn looks_like_iso_8859_2(bytes: &[u8]) -> bool {
    !bytes.iter().any(|b| (0x80..=0x9f).contains(b))
        && bytes
            .iter()
            .any(|b| matches!(b, 0xa1 | 0xa6 | 0xac | 0xb1 | 0xb6 | 0xbc))
}

/// The top-level domain of the first address-like text in a raw From value (`jp` for
/// `=?…?= <taro@example.co.jp>` or for 8-bit `山田 <taro@example.co.jp>`).
pub(super) fn tld_of(from: &[u8]) -> Option<&str> {
    let at = memchr::memrchr(b'@', from)?;
    let domain = &from[at + 1..];
    let end = domain
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-'))
        .unwrap_or(domain.len());
    let domain = std::str::from_utf8(&domain[..end]).ok()?;
    let tld = domain.trim_end_matches('.').rsplit('.').next()?;
    (!tld.is_empty() && tld.len() < domain.len()).then_some(tld)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(label: &str) -> &'static Encoding {
        Encoding::for_label(label.as_bytes()).unwrap()
    }

    /// `text` written in `label` without any MIME encoding.
    fn raw(text: &str, label: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = enc(label).encode(text);
        assert!(!unmappable, "{text} in {label}");
        bytes.into_owned()
    }

    fn decoded(value: &[u8], fallback: &'static Encoding) -> String {
        String::from_utf8(to_utf8(value, || fallback).into_owned()).unwrap()
    }

    /// Subjects and names as old clients in each of these charsets send them.
    const CASES: &[(&str, &str, &str)] = &[
        ("gbk", "cn", "打印机无法连接网络，请帮忙处理"),
        ("gb2312", "cn", "关于发票的问题"),
        (
            "shift_jis",
            "jp",
            "プリンターが動きません。至急対応をお願いします",
        ),
        ("euc-kr", "kr", "프린터가 작동하지 않습니다 도와주세요"),
        (
            "windows-1251",
            "ru",
            "Не работает принтер, помогите пожалуйста",
        ),
        (
            "iso-8859-1",
            "de",
            "Drucker geht nicht, bitte um Rückmeldung",
        ),
        ("iso-8859-2", "pl", "Drukarka nie działa, proszę o pomoc"),
        (
            "iso-8859-2",
            "pl",
            "Źle wyświetla się ekran, proszę o pomoc",
        ),
        (
            "windows-1250",
            "pl",
            "Źle wyświetla się ekran, proszę o pomoc",
        ),
        ("iso-8859-7", "gr", "Ο εκτυπωτής δεν λειτουργεί"),
    ];

    #[test]
    fn ascii_and_utf8_pass_unchanged_and_uncopied() {
        for value in [
            &b"Printer broken"[..],
            "Drucker kaputt: Grüße".as_bytes(),
            b"",
        ] {
            assert!(!needs_charset(value));
            let out = to_utf8(value, || panic!("no charset needed"));
            assert!(matches!(out, Cow::Borrowed(_)));
        }
    }

    #[test]
    fn each_charset_by_the_declared_charset() {
        for (label, _, text) in CASES {
            let bytes = raw(text, label);
            assert!(needs_charset(&bytes), "{label}");
            let declared = declared_charset(["us-ascii", "utf-8", label]);
            assert_eq!(declared, Some(enc(label)), "{label}");
            assert_eq!(decoded(&bytes, enc(label)), *text, "{label}");
        }
    }

    #[test]
    fn each_charset_by_detection() {
        for (label, tld, text) in CASES {
            let bytes = raw(text, label);
            // With the sender's country as a hint, and without (a .com sender).
            for hint in [Some(*tld), Some("com"), None] {
                let guess = detect(&bytes, hint);
                assert_eq!(
                    decoded(&bytes, guess),
                    *text,
                    "{label} {hint:?}: {}",
                    guess.name()
                );
            }
        }
    }

    #[test]
    fn an_encoded_word_next_to_raw_8bit_bytes_survives_the_transcoding() {
        let mut value = b"=?utf-8?q?R=C3=BCckfrage?= ".to_vec();
        value.extend(raw("请帮忙处理发票", "gbk"));
        let out = decoded(&value, enc("gbk"));
        assert_eq!(out, "=?utf-8?q?R=C3=BCckfrage?= 请帮忙处理发票");
        let line = format!("{out}\n");
        let text = mail_parser::parsers::MessageStream::new(line.as_bytes()).parse_unstructured();
        assert_eq!(text.as_text(), Some("Rückfrage 请帮忙处理发票"));
    }

    #[test]
    fn the_tld_of_a_raw_from_value() {
        assert_eq!(tld_of(b"=?x?= <taro@example.co.jp>"), Some("jp"));
        let mut name = raw("山田", "shift_jis");
        name.extend(b" <taro@Example.JP>");
        assert_eq!(tld_of(&name), Some("JP"));
        assert_eq!(tld_of(b"nobody"), None);
        assert_eq!(tld_of(b"a@localhost"), None);
        assert_eq!(tld_of(b"a@"), None);
        // A hint that is no label never reaches the detector's assertion.
        let _ = detect(&raw("Привет", "windows-1251"), Some("r.u"));
        let _ = detect(b"\xff\xfe", Some("JP"));
    }
}
