//! The MIME budget: how many parts a mail has (attached messages' parts included) and how
//! deep its multiparts nest.
//!
//! Checked twice. Before mail-parser runs, [`check_delimiters`] counts the part delimiters of
//! the boundaries the mail declares, in linear time and without building anything per part:
//! mail-parser keeps about a kilobyte per part, so a 16 MB mail of 400,000 empty parts would
//! otherwise cost hundreds of megabytes before the exact count could refuse it. After
//! mail-parser, [`check`] reads the exact figures from the part list it built, in one pass.

use aho_corasick::{AhoCorasick, MatchKind};
use mail_parser::{Message, PartType};

use super::{ParseError, ParseLimits};

/// Before mail-parser: refuses a mail whose opening delimiters (`--` and a boundary the mail
/// declares, not followed by `--`) are more than `limits.max_mime_parts`. mail-parser starts a
/// part at each of them (it finds `--boundary` anywhere, not only at the start of a line), so
/// this count is about the parts it would build, never more than one per delimiter.
///
/// Almost every mail has fewer `--` pairs in all than the limit and is passed after one
/// vectorised scan. Otherwise the boundaries are collected (at most `limit + 1` of them: a
/// mail declaring more is refused, each boundary opening a multipart part) and all their
/// delimiters counted in one pass of an Aho-Corasick automaton.
pub(super) fn check_delimiters(raw: &[u8], limits: &ParseLimits) -> Result<(), ParseError> {
    let limit = limits.max_mime_parts;
    // Each delimiter holds its own `--`: leftmost non-overlapping pairs are at least as many.
    let pairs = memchr::memmem::find_iter(raw, b"--")
        .take(limit.saturating_add(1))
        .count();
    if pairs <= limit {
        return Ok(());
    }
    let boundaries = declared_boundaries(raw, limit.saturating_add(1));
    if boundaries.len() > limit {
        return Err(ParseError::TooManyParts {
            parts: boundaries.len(),
            limit,
        });
    }
    let delimiters = opening_delimiters(raw, &boundaries);
    if delimiters > limit {
        return Err(ParseError::TooManyDelimiters { delimiters, limit });
    }
    Ok(())
}

/// The distinct values of every `boundary=` parameter in `raw` (any case, quoted or not), in
/// order of appearance, at most `max` of them.
fn declared_boundaries(raw: &[u8], max: usize) -> Vec<&[u8]> {
    let mut seen = std::collections::HashSet::new();
    let mut found = Vec::new();
    for at in memchr::memmem::find_iter(raw, b"oundary") {
        if found.len() >= max {
            break;
        }
        if at == 0 || !raw[at - 1].eq_ignore_ascii_case(&b'b') {
            continue;
        }
        if let Some(value) = parameter_value(&raw[at + b"oundary".len()..])
            && seen.insert(value)
        {
            found.push(value);
        }
    }
    found
}

/// The value of a parameter whose name `rest` follows: blanks, `=`, blanks, then a quoted
/// string (without its quotes) or a token. `None` without `=` or for an empty value.
fn parameter_value(rest: &[u8]) -> Option<&[u8]> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let skip = |s: &[u8]| s.iter().take_while(|b| blank(b)).count();
    let rest = &rest[skip(rest)..];
    let rest = rest.strip_prefix(b"=")?;
    let rest = &rest[skip(rest)..];
    let value = match rest.strip_prefix(b"\"") {
        Some(quoted) => &quoted[..memchr::memchr2(b'"', b'\n', quoted).unwrap_or(quoted.len())],
        None => {
            let end = rest
                .iter()
                .position(|b| matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n' | b'"'))
                .unwrap_or(rest.len());
            &rest[..end]
        }
    };
    (!value.is_empty()).then_some(value)
}

/// Occurrences of `--boundary` for any of `boundaries` that do not close their multipart
/// (`--boundary--`), leftmost first and not overlapping, in one pass over `raw`.
fn opening_delimiters(raw: &[u8], boundaries: &[&[u8]]) -> usize {
    let patterns = boundaries.iter().map(|b| [b"--".as_slice(), b].concat());
    let Ok(automaton) = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(patterns)
    else {
        // Too many or too long patterns for the automaton: count every `--` pair instead,
        // which is never fewer.
        return memchr::memmem::find_iter(raw, b"--").count();
    };
    automaton
        .find_iter(raw)
        .filter(|m| raw.get(m.end()..m.end() + 2) != Some(b"--".as_slice()))
        .count()
}

pub(super) fn check(message: &Message<'_>, limits: &ParseLimits) -> Result<(), ParseError> {
    let parts = part_count(message);
    if parts > limits.max_mime_parts {
        return Err(ParseError::TooManyParts {
            parts,
            limit: limits.max_mime_parts,
        });
    }
    let depth = depth(message);
    if depth > limits.max_mime_depth {
        return Err(ParseError::TooDeep {
            depth,
            limit: limits.max_mime_depth,
        });
    }
    Ok(())
}

/// Every part of `message` and of the messages attached to it (mail-parser parses those
/// three levels deep).
fn part_count(message: &Message<'_>) -> usize {
    message
        .parts
        .iter()
        .map(|p| match &p.body {
            PartType::Message(inner) => 1 + part_count(inner),
            _ => 1,
        })
        .sum()
}

/// How deep multiparts nest in `message`: 0 for a single part, 1 for a multipart of single
/// parts. A part's children always come after it in mail-parser's list, so one pass in order
/// sees every parent before its children.
fn depth(message: &Message<'_>) -> usize {
    if message.parts.len() < 2 {
        return 0;
    }
    let mut depths = vec![0usize; message.parts.len()];
    let mut deepest = 0;
    for (i, part) in message.parts.iter().enumerate() {
        let PartType::Multipart(children) = &part.body else {
            continue;
        };
        let child_depth = depths[i] + 1;
        for &child in children {
            if let Some(d) = depths
                .get_mut(child as usize)
                .filter(|_| child as usize > i)
            {
                *d = child_depth;
                deepest = deepest.max(child_depth);
            }
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::PARSER;

    fn nested(levels: usize) -> String {
        let mut raw = String::from("From: a@b.c\nContent-Type: multipart/mixed; boundary=b0\n\n");
        for i in 0..levels - 1 {
            raw.push_str(&format!(
                "--b{i}\nContent-Type: multipart/mixed; boundary=b{}\n\n",
                i + 1
            ));
        }
        raw.push_str(&format!(
            "--b{}\nContent-Type: text/plain\n\ndeep\n",
            levels - 1
        ));
        for i in (0..levels).rev() {
            raw.push_str(&format!("--b{i}--\n"));
        }
        raw
    }

    fn with_parts(n: usize) -> String {
        let mut raw = String::from("From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n");
        for i in 0..n {
            raw.push_str(&format!("--b\nContent-Type: text/plain\n\npart {i}\n"));
        }
        raw.push_str("--b--\n");
        raw
    }

    fn measure(raw: &str) -> (usize, usize) {
        let message = PARSER.parse(raw.as_bytes()).unwrap();
        (part_count(&message), depth(&message))
    }

    #[test]
    fn counts_parts_and_depth() {
        assert_eq!(measure("From: a@b.c\n\nhello\n"), (1, 0));
        assert_eq!(measure(&with_parts(3)), (4, 1));
        assert_eq!(measure(&nested(1)), (2, 1));
        assert_eq!(measure(&nested(5)), (6, 5));
        let attached = "From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
Content-Type: text/plain\n\nsee attached\n--b\nContent-Type: message/rfc822\n\n\
From: c@d.e\nContent-Type: multipart/mixed; boundary=i\n\n--i\nContent-Type: text/plain\n\n\
inner\n--i--\n--b--\n";
        // Root, text, the attached message; inside it: its root and its text part.
        assert_eq!(measure(attached), (5, 1));
    }

    fn limits(parts: usize) -> ParseLimits {
        ParseLimits {
            max_mime_parts: parts,
            ..ParseLimits::default()
        }
    }

    #[test]
    fn declared_boundaries_quoted_or_not_in_any_case() {
        let raw = b"Content-Type: multipart/mixed; boundary=\"=_a b\"\n\
            content-type: multipart/alternative;\n BOUNDARY = inner;charset=x\n\
            Boundary=inner\nboundary=\nX-Boundary-Note: no value\nboundary=\"\"\n";
        assert_eq!(
            declared_boundaries(raw, 10),
            vec![b"=_a b".as_slice(), b"inner".as_slice()]
        );
        assert_eq!(declared_boundaries(raw, 1), vec![b"=_a b".as_slice()]);
        assert!(declared_boundaries(b"oundary=x", 10).is_empty());
    }

    #[test]
    fn opening_delimiters_leave_out_closing_ones_and_other_dashes() {
        let raw = with_parts(3) + "-- \nsignature\n----b\nx--b\n";
        // Three parts, the closing one left out; `----b` and `x--b` are delimiters to
        // mail-parser too (it finds `--b` anywhere).
        assert_eq!(opening_delimiters(raw.as_bytes(), &[b"b"]), 5);
        assert_eq!(opening_delimiters(raw.as_bytes(), &[b"c"]), 0);
        let nested = nested(5);
        let bounds = declared_boundaries(nested.as_bytes(), 100);
        assert_eq!(bounds.len(), 5);
        assert_eq!(opening_delimiters(nested.as_bytes(), &bounds), 5);
    }

    #[test]
    fn delimiters_over_the_limit_are_refused_before_parsing() {
        assert_eq!(
            check_delimiters(with_parts(10).as_bytes(), &limits(10)),
            Ok(())
        );
        assert_eq!(
            check_delimiters(with_parts(11).as_bytes(), &limits(10)),
            Err(ParseError::TooManyDelimiters {
                delimiters: 11,
                limit: 10
            })
        );
        // Dashes that delimit nothing pass, however many.
        let dashes = "From: a@b.c\n\n".to_string() + &"----------\n".repeat(100);
        assert_eq!(check_delimiters(dashes.as_bytes(), &limits(10)), Ok(()));
        // More boundaries declared than parts allowed.
        let raw = nested(12);
        assert_eq!(
            check_delimiters(raw.as_bytes(), &limits(10)),
            Err(ParseError::TooManyParts {
                parts: 11,
                limit: 10
            })
        );
        assert_eq!(check_delimiters(nested(9).as_bytes(), &limits(10)), Ok(()));
    }

    #[test]
    fn limits_are_inclusive() {
        let limits = |parts, depth| ParseLimits {
            max_mime_parts: parts,
            max_mime_depth: depth,
            ..ParseLimits::default()
        };
        let raw = with_parts(9);
        let message = PARSER.parse(raw.as_bytes()).unwrap();
        assert_eq!(check(&message, &limits(10, 1)), Ok(()));
        assert_eq!(
            check(&message, &limits(9, 1)),
            Err(ParseError::TooManyParts {
                parts: 10,
                limit: 9
            })
        );
        let raw = nested(4);
        let message = PARSER.parse(raw.as_bytes()).unwrap();
        assert_eq!(check(&message, &limits(100, 4)), Ok(()));
        let err = check(&message, &limits(100, 3)).unwrap_err();
        assert_eq!(err, ParseError::TooDeep { depth: 4, limit: 3 });
        assert_eq!(
            err.to_string(),
            "MIME parts nested 4 deep are over the limit of 3 levels (limits.max_mime_depth)"
        );
    }
}
