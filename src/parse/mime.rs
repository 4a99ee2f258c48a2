//! The MIME budget, checked right after mail-parser: how many parts a mail has (attached
//! messages' parts included) and how deep its multiparts nest. Both are read from the part
//! list mail-parser built, in one pass over it.

use mail_parser::{Message, PartType};

use super::{ParseError, ParseLimits};

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
