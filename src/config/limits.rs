//! `[limits]` → [`Limits`]: what one mail may cost before it is quarantined or trimmed
//! (SPEC 2, 12). Each budget has a default, a floor (below it real mail would be refused) and
//! a ceiling (above it one mail could stall the serial pipeline again).
//!
//! `max_message_bytes` (`[limits]`, and per mailbox): how big a mail may be to be read and
//! stored. Bigger mail is quarantined by reference, never read whole. The ceiling keeps every
//! mail that is read storable: SQLite refuses a value of 1 GB or more (`string or blob too
//! big`), and a mail is stored as one value.

use std::ops::Range;

use toml::Spanned;

use super::file::LimitsFile;
use crate::parse::{self, ParseLimits};

/// The limits a mail is prepared with (`pipeline::Preparer`): its size and the parser's
/// budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub parse: ParseLimits,
}

impl super::Settings {
    /// What a mail may cost before it is quarantined or trimmed (`[limits]`).
    pub fn limits(&self) -> Limits {
        self.limits_with_size(self.max_message_bytes)
    }

    /// [`super::Settings::limits`] with another size limit (a mailbox's own
    /// `max_message_bytes`).
    pub fn limits_with_size(&self, max_message_bytes: usize) -> Limits {
        Limits {
            max_message_bytes,
            parse: self.parse_limits,
        }
    }
}

/// A size limit with the default parse limits (benchmarks and tests; the pipeline takes the
/// configured ones from [`super::Settings::limits`]).
impl From<usize> for Limits {
    fn from(max_message_bytes: usize) -> Self {
        Self {
            max_message_bytes,
            parse: ParseLimits::default(),
        }
    }
}

/// The parse limits of `[limits]`, each checked against its range.
pub(super) fn parse_limits(
    raw: &LimitsFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> ParseLimits {
    let mut limit = |value: &Option<Spanned<u64>>, key: &str, range: (usize, usize), default| {
        let Some(value) = value else {
            return default;
        };
        let (min, max) = range;
        match usize::try_from(*value.get_ref()) {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                issue(
                    Some(value.span()),
                    format!("limits.{key} must be {min} to {max}"),
                );
                default
            }
        }
    };
    ParseLimits {
        max_header_bytes: limit(
            &raw.max_header_bytes,
            "max_header_bytes",
            (1024, parse::CEILING_HEADER_BYTES),
            parse::DEFAULT_MAX_HEADER_BYTES,
        ),
        max_header_count: limit(
            &raw.max_header_count,
            "max_header_count",
            (16, parse::CEILING_HEADER_COUNT),
            parse::DEFAULT_MAX_HEADER_COUNT,
        ),
        max_addresses_per_header: limit(
            &raw.max_addresses_per_header,
            "max_addresses_per_header",
            (1, parse::CEILING_ADDRESSES_PER_HEADER),
            parse::DEFAULT_MAX_ADDRESSES_PER_HEADER,
        ),
        max_references: limit(
            &raw.max_references,
            "max_references",
            (2, parse::CEILING_REFERENCES),
            parse::DEFAULT_MAX_REFERENCES,
        ),
        max_mime_parts: limit(
            &raw.max_mime_parts,
            "max_mime_parts",
            (1, parse::CEILING_MIME_PARTS),
            parse::DEFAULT_MAX_MIME_PARTS,
        ),
        max_mime_depth: limit(
            &raw.max_mime_depth,
            "max_mime_depth",
            (1, parse::CEILING_MIME_DEPTH),
            parse::DEFAULT_MAX_MIME_DEPTH,
        ),
    }
}

/// The largest `max_message_bytes` accepted: 512 MiB.
pub const MAX_MESSAGE_BYTES_CEILING: u64 = 512 * 1024 * 1024;

/// The configured limit, when it is within the ceiling (else an issue on its line).
pub(super) fn message_limit(
    value: Option<&Spanned<u64>>,
    key: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<usize> {
    let value = value?;
    let bytes = *value.get_ref();
    if bytes > MAX_MESSAGE_BYTES_CEILING {
        issue(
            Some(value.span()),
            format!(
                "{key} = {bytes} is over the ceiling of {MAX_MESSAGE_BYTES_CEILING} bytes \
                 (512 MiB): the database stores a mail as one value, which must stay under \
                 1 GB; bigger mail is quarantined by reference instead"
            ),
        );
        return None;
    }
    usize::try_from(bytes).ok()
}

/// A count limit (`max_new_participants`, `max_automatic_recipients`): its value, or `default`
/// when absent; 0 and over 10,000 are mistakes.
pub(super) fn count_limit(
    value: &Option<Spanned<u32>>,
    default: usize,
    key: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> usize {
    match value {
        None => default,
        Some(v) if (1..=10_000).contains(v.get_ref()) => *v.get_ref() as usize,
        Some(v) => {
            issue(
                Some(v.span()),
                format!("{key} = {} must be between 1 and 10000", v.get_ref()),
            );
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{ConfigError, Settings};
    use crate::parse::ParseLimits;

    #[test]
    fn defaults_and_configured_values() {
        let s = Settings::from_toml("", "t").unwrap();
        assert_eq!(s.parse_limits, ParseLimits::default());
        assert_eq!(s.limits().max_message_bytes, s.max_message_bytes);
        let text = "[limits]\nmax_message_bytes = 5000000\nmax_header_bytes = 1048576\n\
                    max_header_count = 2000\nmax_addresses_per_header = 50\nmax_references = 20\n\
                    max_mime_parts = 300\nmax_mime_depth = 8\n";
        let s = Settings::from_toml(text, "t").unwrap();
        assert_eq!(
            s.limits().parse,
            ParseLimits {
                max_header_bytes: 1_048_576,
                max_header_count: 2000,
                max_addresses_per_header: 50,
                max_references: 20,
                max_mime_parts: 300,
                max_mime_depth: 8,
            }
        );
        assert_eq!(s.limits().max_message_bytes, 5_000_000);
    }

    #[test]
    fn out_of_range_values_are_mistakes_with_their_lines() {
        let text = "[limits]\nmax_header_bytes = 100\nmax_header_count = 100000\n\
                    max_references = 1\nmax_mime_depth = 0\nmax_addresses_per_header = 1000001\n";
        let Err(ConfigError::Invalid { issues, .. }) = Settings::from_toml(text, "t") else {
            panic!("out-of-range limits must be refused");
        };
        let mut found: Vec<(Option<usize>, &str)> = issues
            .iter()
            .map(|i| (i.line, i.message.as_str()))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (Some(2), "limits.max_header_bytes must be 1024 to 16777216"),
                (Some(4), "limits.max_references must be 2 to 100000"),
                (Some(5), "limits.max_mime_depth must be 1 to 10000"),
                (
                    Some(6),
                    "limits.max_addresses_per_header must be 1 to 1000000"
                ),
            ]
        );
    }
}
