//! `TicketRef`: `<PREFIX>-<n>`, shown in subjects as `[SUP-1042]`.

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
    pub fn find_in_subject(subject: &str, prefix: &str) -> Vec<TicketRef> {
        let mut found: Vec<TicketRef> = Vec::new();
        let mut rest = subject;
        while let Some(open) = rest.find('[') {
            rest = &rest[open + 1..];
            let Some(close) = rest.find(']') else { break };
            let inner = &rest[..close];
            if let Ok(r) = Self::parse(inner, prefix)
                && !found.contains(&r)
            {
                found.push(r);
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
}
