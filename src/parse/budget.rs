//! The header budget, checked before mail-parser runs (SPEC 2, "every per-mail cost is linear
//! and capped"): one pass over the header block, line by line with `memchr`, counting header
//! fields and header bytes, allocating nothing. mail-parser keeps one entry per header field,
//! so six million empty header lines would otherwise cost seconds and gigabytes before any of
//! mailgate's own code sees the mail.
//!
//! The header block is everything before the first empty line (`\n` or `\r\n`), or the whole
//! message when there is none. A field starts on every line that does not begin with a space
//! or a tab; folded lines belong to the field before them. Lines mail-parser would skip (no
//! colon) are counted too: the figures are an upper bound of what mail-parser will keep.

use std::ops::Range;

/// What [`scan`] found in one header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HeaderScan {
    /// Header fields (folded lines count once).
    pub fields: usize,
    /// Bytes of the header block, line ends included, the empty line that ends it excluded.
    pub bytes: usize,
    /// The value of the first `Message-ID` field (after the colon, up to and including its
    /// last line end), for a mail too large to hand to mail-parser at all.
    pub message_id: Option<Range<usize>>,
}

const MESSAGE_ID: &[u8] = b"message-id";

/// Scans the header block of `raw` once.
pub(super) fn scan(raw: &[u8]) -> HeaderScan {
    let mut fields = 0;
    let mut message_id: Option<Range<usize>> = None;
    // Whether the field being read is the first Message-ID (its folded lines extend it).
    let mut in_message_id = false;
    let mut pos = 0;
    while pos < raw.len() {
        let end = memchr::memchr(b'\n', &raw[pos..]).map_or(raw.len(), |e| pos + e + 1);
        let line = &raw[pos..end];
        if line == b"\n" || line == b"\r\n" {
            return HeaderScan {
                fields,
                bytes: pos,
                message_id,
            };
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if in_message_id && let Some(range) = &mut message_id {
                range.end = end;
            }
        } else {
            fields += 1;
            in_message_id = false;
            if message_id.is_none()
                && let Some(value_start) = message_id_value_start(line)
            {
                message_id = Some(pos + value_start..end);
                in_message_id = true;
            }
        }
        pos = end;
    }
    HeaderScan {
        fields,
        bytes: raw.len(),
        message_id,
    }
}

/// Where the value starts when `line` is a `Message-ID:` field (any case, blanks before the
/// colon allowed, as mail-parser reads header names).
fn message_id_value_start(line: &[u8]) -> Option<usize> {
    let name = line.get(..MESSAGE_ID.len())?;
    if !name.eq_ignore_ascii_case(MESSAGE_ID) {
        return None;
    }
    let rest = &line[MESSAGE_ID.len()..];
    let blanks = rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    (rest.get(blanks) == Some(&b':')).then_some(MESSAGE_ID.len() + blanks + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(raw: &[u8]) -> (usize, usize) {
        let s = scan(raw);
        (s.fields, s.bytes)
    }

    #[test]
    fn counts_fields_and_bytes_up_to_the_empty_line() {
        let crlf = b"From: a@b.c\r\nSubject: hi\r\n\r\nbody\r\nX: not a header\r\n";
        assert_eq!(counts(crlf), (2, 26));
        let lf = b"From: a@b.c\nSubject: hi\n\nbody\nX: y\n";
        assert_eq!(counts(lf), (2, 24));
        // A CRLF header ended by a bare LF line, and the reverse.
        assert_eq!(counts(b"A: 1\r\n\nB: 2\n"), (1, 6));
        assert_eq!(counts(b"A: 1\n\r\nB: 2\n"), (1, 5));
    }

    #[test]
    fn folded_lines_count_as_one_field() {
        let raw = b"Received: from a\r\n\tby b\r\n  with c\r\nTo: x@y.z,\r\n w@y.z\r\n\r\n";
        assert_eq!(counts(raw), (2, raw.len() - 2));
        // Whitespace-only continuation lines are still continuations.
        let raw = b"X-Long: a\r\n \r\n \r\n\t\r\n\r\n";
        assert_eq!(counts(raw), (1, raw.len() - 2));
    }

    #[test]
    fn without_an_empty_line_the_whole_message_is_header() {
        assert_eq!(counts(b"A: 1\r\nB: 2"), (2, 10));
        assert_eq!(counts(b"A: 1\r\nB: 2\r\n"), (2, 12));
        assert_eq!(counts(b""), (0, 0));
        assert_eq!(counts(b"\r\nbody"), (0, 0));
        // Lines without a colon are counted: an upper bound of what mail-parser keeps.
        assert_eq!(counts(b"garbage\nmore garbage\n\n"), (2, 21));
    }

    #[test]
    fn finds_the_first_message_id_with_its_folded_lines() {
        let raw = b"From: a@b.c\r\nmessage-ID :\r\n <a@b.c>\r\nMessage-ID: <second@b.c>\r\n\r\n";
        let s = scan(raw);
        let range = s.message_id.unwrap();
        assert_eq!(&raw[range], b"\r\n <a@b.c>\r\n");
        assert_eq!(scan(b"Message-IDs: <x@y>\n\n").message_id, None);
        assert_eq!(scan(b"X-Message-ID: <x@y>\n\n").message_id, None);
        assert_eq!(scan(b"Subject: x\n\nMessage-ID: <x@y>\n").message_id, None);
    }

    #[test]
    fn million_fields_in_one_pass() {
        let raw = "X:\r\n".repeat(1_000_000) + "\r\nbody";
        let s = scan(raw.as_bytes());
        assert_eq!((s.fields, s.bytes), (1_000_000, 4_000_000));
    }
}
