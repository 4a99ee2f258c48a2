//! `TicketRef`: `<PREFIX>-<n>`, shown in subjects as `[SUP-1042]`.

use std::collections::HashSet;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketRefError {
    #[error("ticket reference {0:?} is not of the form PREFIX-NUMBER (for example SUP-42)")]
    Malformed(String),
    #[error("ticket reference {found:?} does not use this installation's prefix {expected:?}")]
    WrongPrefix { found: String, expected: String },
}

/// A ticket reference of this installation. The number is the ticket's sequential number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketRef {
    prefix: String,
    number: i64,
}

impl TicketRef {
    pub fn new(prefix: &str, number: i64) -> Self {
        Self {
            prefix: prefix.to_ascii_uppercase(),
            number,
        }
    }

    /// Parses `SUP-42` (case-insensitive prefix, surrounding brackets allowed) for `prefix`.
    pub fn parse(input: &str, prefix: &str) -> Result<Self, TicketRefError> {
        let s = input.trim().trim_start_matches('[').trim_end_matches(']');
        let (p, n) = s
            .rsplit_once('-')
            .ok_or_else(|| TicketRefError::Malformed(input.to_string()))?;
        let number = parse_number(n).ok_or_else(|| TicketRefError::Malformed(input.to_string()))?;
        if !p.eq_ignore_ascii_case(prefix) {
            return Err(TicketRefError::WrongPrefix {
                found: input.to_string(),
                expected: prefix.to_string(),
            });
        }
        Ok(Self::new(prefix, number))
    }

    /// Every `[PREFIX-n]` tag in a subject, in order of appearance, without repeats.
    ///
    /// One scan: each `]` is tried with the text after the last `[` before it (and after the
    /// previous `]`). That finds every tag the text holds: `[[SUP-1]` is a tag, `[SUP-1 [x]` is
    /// not, and a subject of a million `[` costs one pass, not a million.
    pub fn find_in_subject(subject: &str, prefix: &str) -> Vec<TicketRef> {
        let mut seen: HashSet<TicketRef> = HashSet::new();
        let mut found: Vec<TicketRef> = Vec::new();
        let mut open: Option<usize> = None;
        for (at, c) in subject.bytes().enumerate() {
            match c {
                b'[' => open = Some(at),
                b']' => {
                    if let Some(start) = open.take()
                        && let Ok(r) = Self::parse(&subject[start + 1..at], prefix)
                        && seen.insert(r.clone())
                    {
                        found.push(r);
                    }
                }
                _ => {}
            }
        }
        found
    }

    pub fn number(&self) -> i64 {
        self.number
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `[SUP-42]`
    pub fn tag(&self) -> String {
        format!("[{self}]")
    }
}

fn parse_number(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 15 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n > 0)
}

impl serde::Serialize for TicketRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.prefix, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let r = TicketRef::parse("sup-1042", "SUP").unwrap();
        assert_eq!(r.number(), 1042);
        assert_eq!(r.to_string(), "SUP-1042");
        assert_eq!(r.tag(), "[SUP-1042]");
        assert_eq!(TicketRef::parse("[SUP-7]", "SUP").unwrap().number(), 7);
    }

    #[test]
    fn rejects_bad_refs() {
        assert!(TicketRef::parse("SUP-", "SUP").is_err());
        assert!(TicketRef::parse("SUP-0", "SUP").is_err());
        assert!(TicketRef::parse("SUP-12a", "SUP").is_err());
        assert!(TicketRef::parse("SUP-+1", "SUP").is_err());
        assert!(matches!(
            TicketRef::parse("OPS-12", "SUP"),
            Err(TicketRefError::WrongPrefix { .. })
        ));
    }

    #[test]
    fn finds_tags_in_subjects() {
        let tags =
            TicketRef::find_in_subject("Re: [SUP-12] printer [ops-3] [sup-12] [SUP-9", "SUP");
        assert_eq!(tags, vec![TicketRef::new("SUP", 12)]);
        assert!(TicketRef::find_in_subject("no tag here", "SUP").is_empty());
        let two = TicketRef::find_in_subject("[SUP-1] and [SUP-2]", "SUP");
        assert_eq!(two.len(), 2);
    }

    /// The scan before the linear one: every `[` tried with the text up to the next `]`.
    fn find_by_every_bracket(subject: &str, prefix: &str) -> Vec<TicketRef> {
        let mut found: Vec<TicketRef> = Vec::new();
        let mut rest = subject;
        while let Some(open) = rest.find('[') {
            rest = &rest[open + 1..];
            let Some(close) = rest.find(']') else { break };
            if let Ok(r) = TicketRef::parse(&rest[..close], prefix)
                && !found.contains(&r)
            {
                found.push(r);
            }
        }
        found
    }

    #[test]
    fn one_scan_finds_what_trying_every_bracket_finds() {
        let subjects = [
            "[[SUP-1]",
            "[[ SUP-1]",
            "[ SUP-1 ]",
            "[SUP-1 [x]",
            "[x [SUP-2]] [SUP-3]]",
            "]SUP-4] [SUP-5]]]",
            "[SUP-6][SUP-6][sup-7]",
            "[[[SUP-8]]] tail [",
            "[SUP-[SUP-9]",
            "[SUP-10-[SUP-11]",
            "Re: [SUP-12] printer [ops-3] [sup-12] [SUP-9",
            "ünïcode [SUP-13] «[SUP-14]»",
            "[SUP-0] [SUP-1234567890123456] [SUP-+1] [SUP-]",
        ];
        for s in subjects {
            assert_eq!(
                TicketRef::find_in_subject(s, "SUP"),
                find_by_every_bracket(s, "SUP"),
                "{s:?}"
            );
        }
    }

    #[test]
    fn hostile_subjects_take_one_pass() {
        let started = std::time::Instant::now();
        let brackets = "[".repeat(1_000_000) + "]";
        assert!(TicketRef::find_in_subject(&brackets, "SUP").is_empty());
        let sup = "[SUP-".repeat(200_000) + "1]";
        assert_eq!(
            TicketRef::find_in_subject(&sup, "SUP"),
            vec![TicketRef::new("SUP", 1)]
        );
        let many: String = (1..=100_000)
            .map(|n| format!("[SUP-{}]", n % 1000 + 1))
            .collect();
        assert_eq!(TicketRef::find_in_subject(&many, "SUP").len(), 1000);
        // Quadratic scans took minutes here; one pass takes milliseconds even unoptimised.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
