//! `ParseLimits`: what one mail may cost the parser (`[limits]` in the config, SPEC 2 "every
//! per-mail cost is linear and capped"). Over a header or MIME budget a mail is refused with a
//! [`super::ParseError`] naming the budget; address lists and References are trimmed instead,
//! which is safe (threading needs the first and the last References; nobody needs the
//! thousandth Cc), and the trim is recorded on the mail ([`crate::domain::Trim`]).

use std::collections::HashSet;
use std::hash::Hash;

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

/// Lists this short are searched for repeats; longer ones get a set.
const SHORT_LIST: usize = 16;

/// The first occurrence of each key, in order, in one pass. Repeats are found by a linear
/// search while the list is short (the usual header holds one to three entries, and a set
/// would cost more than it saves) and by a set once it grows, so 200,000 entries still cost
/// one pass.
pub(super) struct Firsts<T, K> {
    pub kept: Vec<T>,
    key: fn(&T) -> &K,
    /// Every key seen once the list outgrew [`SHORT_LIST`] (empty before).
    index: HashSet<K>,
}

impl<T, K: Eq + Hash + Clone> Firsts<T, K> {
    pub fn new(key: fn(&T) -> &K) -> Self {
        Self {
            kept: Vec::new(),
            key,
            index: HashSet::new(),
        }
    }

    /// Keeps `item` unless its key came before; whether it was kept.
    pub fn push(&mut self, item: T) -> bool {
        let key = (self.key)(&item);
        if self.index.is_empty() && self.kept.len() < SHORT_LIST {
            if self.kept.iter().any(|t| (self.key)(t) == key) {
                return false;
            }
        } else {
            self.build_index();
            if !self.index.insert(key.clone()) {
                return false;
            }
        }
        self.kept.push(item);
        true
    }

    /// Counts `key` as seen without keeping anything (past a limit, for the trim's figures).
    pub fn count(&mut self, key: K) {
        self.build_index();
        self.index.insert(key);
    }

    /// Distinct keys seen, kept or only counted.
    pub fn distinct(&self) -> usize {
        if self.index.is_empty() {
            self.kept.len()
        } else {
            self.index.len()
        }
    }

    fn build_index(&mut self) {
        if self.index.is_empty() {
            let key = self.key;
            self.index = self.kept.iter().map(|t| key(t).clone()).collect();
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

    fn firsts(items: &[u32]) -> (Vec<u32>, usize) {
        let mut f = Firsts::new(|n: &u32| n);
        for &n in items {
            f.push(n);
        }
        let distinct = f.distinct();
        (f.kept, distinct)
    }

    #[test]
    fn firsts_keeps_first_occurrences_in_order_short_and_long() {
        assert_eq!(firsts(&[3, 1, 3, 2, 1, 4]), (vec![3, 1, 2, 4], 4));
        assert_eq!(firsts(&[]), (vec![], 0));
        // Across the switch from a search to a set, repeats of early items still found.
        let long: Vec<u32> = (0..40).chain(0..40).chain([5, 39, 40]).collect();
        assert_eq!(firsts(&long), ((0..=40).collect(), 41));
        let many: Vec<u32> = (0..200_000).map(|i| i % 1000).collect();
        assert_eq!(firsts(&many), ((0..1000).collect(), 1000));
    }

    #[test]
    fn firsts_counts_what_it_does_not_keep() {
        let mut f = Firsts::new(|n: &u32| n);
        assert!(f.push(1) && f.push(2) && !f.push(1));
        f.count(2);
        f.count(3);
        f.count(3);
        assert_eq!(f.distinct(), 3);
        assert_eq!(f.kept, [1, 2]);
    }

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
