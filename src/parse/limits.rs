//! `ParseLimits`: what one mail may cost the parser (`[limits]` in the config, SPEC 2 "every
//! per-mail cost is linear and capped"). Over a header or MIME budget a mail is refused with a
//! [`super::ParseError`] naming the budget; address lists and References are trimmed instead,
//! which is safe (threading needs the first and the last References; nobody needs the
//! thousandth Cc), and the trim is recorded on the mail ([`crate::domain::Trim`]).

/// Default `limits.max_header_bytes`: Exchange Online's own header limit (256 KB). Real mail
/// needs far less: a long Received chain, DKIM and ARC sets and a few hundred recipients stay
/// under 64 KB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 256 * 1024;
/// Default `limits.max_header_count`: real mail has 20 to 150 header fields.
pub const DEFAULT_MAX_HEADER_COUNT: usize = 1_000;
/// Default `limits.max_addresses_per_header`: addresses kept of each of To, Cc, Reply-To and
/// Delivered-To (every occurrence of the header together).
pub const DEFAULT_MAX_ADDRESSES_PER_HEADER: usize = 1_000;
/// Default `limits.max_references`: the first 50 and the last 50 Message-IDs of References.
pub const DEFAULT_MAX_REFERENCES: usize = 100;
/// Default `limits.max_mime_parts`: MIME parts of a mail, every level counted.
pub const DEFAULT_MAX_MIME_PARTS: usize = 1_000;
/// Default `limits.max_mime_depth`: multiparts nested in multiparts.
pub const DEFAULT_MAX_MIME_DEPTH: usize = 32;

/// The largest values the config accepts. [`super::peek_message_id`] hands mail-parser only
/// headers within these (whatever is configured), so it agrees with `parse` on every mail that
/// parses and never costs more than a header of this size.
pub const CEILING_HEADER_BYTES: usize = 16 * 1024 * 1024;
pub const CEILING_HEADER_COUNT: usize = 100_000;
pub const CEILING_ADDRESSES_PER_HEADER: usize = 1_000_000;
pub const CEILING_REFERENCES: usize = 100_000;
pub const CEILING_MIME_PARTS: usize = 100_000;
pub const CEILING_MIME_DEPTH: usize = 10_000;

/// What one mail may cost the parser; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    pub max_header_bytes: usize,
    pub max_header_count: usize,
    pub max_addresses_per_header: usize,
    /// At least 2: half of it (rounded down) from the start of References, the rest from its
    /// end.
    pub max_references: usize,
    pub max_mime_parts: usize,
    pub max_mime_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_header_count: DEFAULT_MAX_HEADER_COUNT,
            max_addresses_per_header: DEFAULT_MAX_ADDRESSES_PER_HEADER,
            max_references: DEFAULT_MAX_REFERENCES,
            max_mime_parts: DEFAULT_MAX_MIME_PARTS,
            max_mime_depth: DEFAULT_MAX_MIME_DEPTH,
        }
    }
}

impl ParseLimits {
    /// The largest limits the config accepts (tests, benchmarks of the worst case).
    pub fn ceiling() -> Self {
        Self {
            max_header_bytes: CEILING_HEADER_BYTES,
            max_header_count: CEILING_HEADER_COUNT,
            max_addresses_per_header: CEILING_ADDRESSES_PER_HEADER,
            max_references: CEILING_REFERENCES,
            max_mime_parts: CEILING_MIME_PARTS,
            max_mime_depth: CEILING_MIME_DEPTH,
        }
    }
}

/// The first `max / 2` and the last `max - max / 2` of `items` when there are more than `max`
/// (`max` 0 or 1 keeps the last `max`); the other items are dropped from the middle.
pub(super) fn keep_ends<T>(mut items: Vec<T>, max: usize) -> Vec<T> {
    if items.len() <= max {
        return items;
    }
    let head = max / 2;
    let tail = items.split_off(items.len() - (max - head));
    items.truncate(head);
    items.extend(tail);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_ends_keeps_the_first_and_the_last() {
        let v: Vec<u32> = (0..10).collect();
        assert_eq!(keep_ends(v.clone(), 10), v);
        assert_eq!(keep_ends(v.clone(), 11), v);
        assert_eq!(keep_ends(v.clone(), 4), vec![0, 1, 8, 9]);
        assert_eq!(keep_ends(v.clone(), 5), vec![0, 1, 7, 8, 9]);
        assert_eq!(keep_ends(v.clone(), 9), vec![0, 1, 2, 3, 5, 6, 7, 8, 9]);
        assert_eq!(keep_ends(v.clone(), 1), vec![9]);
        assert_eq!(keep_ends(v, 0), Vec::<u32>::new());
        let big = keep_ends((0..100_000).collect::<Vec<u32>>(), 100);
        assert_eq!(big.len(), 100);
        assert_eq!((big[0], big[49], big[50], big[99]), (0, 49, 99_950, 99_999));
    }
}
