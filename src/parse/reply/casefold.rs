//! Case-insensitive matching for the reply markers, cheap for the common case: an ASCII line
//! that cannot be a marker is rejected from its first byte, and ASCII text is lower-cased on
//! the stack. Only non-ASCII text pays for `str::to_lowercase`, whose result these helpers
//! always match exactly.

/// Up to this many bytes, ASCII text is lower-cased in a stack buffer.
const STACK_LOWERCASE: usize = 128;

/// Calls `f` with `text` in lower case (exactly `str::to_lowercase`), allocating only for
/// long or non-ASCII text.
pub(super) fn with_lowercase<R>(text: &str, f: impl FnOnce(&str) -> R) -> R {
    if text.len() <= STACK_LOWERCASE && text.is_ascii() {
        let mut buf = [0u8; STACK_LOWERCASE];
        let lower = &mut buf[..text.len()];
        lower.copy_from_slice(text.as_bytes());
        lower.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(lower) {
            return f(lower);
        }
    }
    f(&text.to_lowercase())
}

/// Whether `text` starts with `prefix` (given in lower case) ignoring case: the first
/// `prefix.len()` bytes of `text`, lower-cased, equal `prefix`.
pub(super) fn starts_with_ci(text: &str, prefix: &str) -> bool {
    let Some(head) = text.get(..prefix.len()) else {
        return false;
    };
    if head.eq_ignore_ascii_case(prefix) {
        return true;
    }
    // ASCII lower-cases to ASCII, which the comparison above has already covered.
    !head.is_ascii() && lowercase_eq(head, prefix)
}

/// `text.to_lowercase() == lower`, without allocating unless `text` holds a capital sigma
/// (the one character whose lower case depends on its neighbours).
fn lowercase_eq(text: &str, lower: &str) -> bool {
    if text.contains('Σ') {
        return text.to_lowercase() == lower;
    }
    text.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

/// The bytes a text can start with when its lower case starts with one of a set of words:
/// both cases of each word's first ASCII letter, and every non-ASCII byte. A cheap first
/// filter, never a false negative.
pub(super) struct FirstBytes([bool; 256]);

impl FirstBytes {
    /// The filter for `words` (lower case, non-empty).
    pub(super) const fn of(words: &[&str]) -> Self {
        let mut table = [false; 256];
        let mut b = 0x80;
        while b < 256 {
            table[b] = true;
            b += 1;
        }
        let mut i = 0;
        while i < words.len() {
            if let Some(&first) = words[i].as_bytes().first() {
                table[first.to_ascii_lowercase() as usize] = true;
                table[first.to_ascii_uppercase() as usize] = true;
            }
            i += 1;
        }
        Self(table)
    }

    /// Whether `text` may start with one of the words (ignoring case).
    pub(super) fn may_start(&self, text: &str) -> bool {
        text.as_bytes()
            .first()
            .is_some_and(|&b| self.0[usize::from(b)])
    }
}

/// Whether `needle` occurs in `hay` as a word (an ASCII word needs non-alphanumeric
/// neighbours; CJK verbs are matched anywhere).
pub(super) fn contains_word(hay: &str, needle: &str) -> bool {
    let ascii_start = needle.as_bytes().first().is_some_and(u8::is_ascii);
    hay.match_indices(needle).any(|(at, _)| {
        !ascii_start
            || (hay[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && hay[at + needle.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_matches_std() {
        for text in [
            "",
            "Hello World",
            "ÀÉÎ",
            "ΣΤΙΣ ",
            "ΟΔΟΣ",
            "İl ",
            "\u{212A}elvin",
            &"X".repeat(200),
        ] {
            assert_eq!(
                with_lowercase(text, str::to_string),
                text.to_lowercase(),
                "{text}"
            );
        }
    }

    #[test]
    fn prefix_ignoring_case() {
        assert!(starts_with_ci("On Monday", "on "));
        assert!(starts_with_ci("PÅ mandag", "på "));
        assert!(starts_with_ci("ΣΤΙΣ 3 Μαρτίου", "στις "));
        assert!(starts_with_ci("В понедельник", "в "));
        assert!(!starts_with_ci("Once", "on "));
        assert!(!starts_with_ci("o", "on "));
        assert!(!starts_with_ci("Öl ", "on "));
        assert!(!starts_with_ci("\u{212A}", "k"));
    }

    #[test]
    fn first_bytes_filter() {
        let filter = FirstBytes::of(&["on ", "в "]);
        assert!(filter.may_start("On"));
        assert!(filter.may_start("on"));
        assert!(filter.may_start("В"));
        assert!(filter.may_start("É"));
        assert!(!filter.may_start("Hello"));
        assert!(!filter.may_start(""));
    }

    #[test]
    fn whole_words() {
        assert!(contains_word("x wrote", "wrote"));
        assert!(!contains_word("x rewrote", "wrote"));
        assert!(contains_word("张三写道", "写道"));
    }
}
