//! Case-insensitive matching for the reply markers, cheap for the common case: an ASCII line
//! that cannot be a marker is rejected from its first bytes, and ASCII text is lower-cased on
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
#[inline]
pub(super) fn starts_with_ci(text: &str, prefix: &str) -> bool {
    // An ASCII first character lower-cases to itself: a cheap exact rejection.
    if let (Some(&t), Some(&p)) = (text.as_bytes().first(), prefix.as_bytes().first())
        && t.is_ascii()
        && !t.eq_ignore_ascii_case(&p)
    {
        return false;
    }
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

/// The first two bytes a text can have when its lower case starts with one of a set of
/// words: for each word starting with an ASCII letter, both cases of its first two bytes; any
/// non-ASCII byte (which may lower-case to anything). A cheap first filter that never rejects
/// a text that starts with one of the words.
pub(super) struct Initials([[u64; 4]; 128]);

impl Initials {
    /// The filter for `words` (lower case).
    pub(super) const fn of(words: &[&str]) -> Self {
        let mut table = [[0u64; 4]; 128];
        let mut i = 0;
        while i < words.len() {
            let word = words[i].as_bytes();
            i += 1;
            let [first, rest @ ..] = word else {
                continue;
            };
            if !first.is_ascii() {
                continue;
            }
            // Second bytes: both cases of the word's, any non-ASCII byte; anything at all
            // after a one-byte word.
            let mut seconds = [0, 0, u64::MAX, u64::MAX];
            match rest.first() {
                Some(&second) if second.is_ascii() => {
                    let (lower, upper) = (second.to_ascii_lowercase(), second.to_ascii_uppercase());
                    seconds[(lower / 64) as usize] |= 1 << (lower % 64);
                    seconds[(upper / 64) as usize] |= 1 << (upper % 64);
                }
                Some(_) => {}
                None => seconds = [u64::MAX; 4],
            }
            let mut k = 0;
            while k < 4 {
                table[first.to_ascii_lowercase() as usize][k] |= seconds[k];
                table[first.to_ascii_uppercase() as usize][k] |= seconds[k];
                k += 1;
            }
        }
        Self(table)
    }

    /// Whether `text` may start with one of the words (ignoring case).
    #[inline]
    pub(super) fn may_start(&self, text: &str) -> bool {
        match *text.as_bytes() {
            [] => false,
            [first, ..] if !first.is_ascii() => true,
            [first] => self.0[usize::from(first)].iter().any(|&s| s != 0),
            [first, second, ..] => {
                self.0[usize::from(first)][usize::from(second / 64)] >> (second % 64) & 1 == 1
            }
        }
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
    fn initials_filter() {
        let filter = Initials::of(&["on ", "в ", "på ", "x"]);
        for text in [
            "On",
            "oN",
            "o",
            "В",
            "É",
            "På",
            "pÅ",
            "p\u{e9}",
            "o\u{212A}",
            "x",
            "xyz",
        ] {
            assert!(filter.may_start(text), "{text}");
        }
        for text in ["", "Hello", "Of", "pa"] {
            assert!(!filter.may_start(text), "{text}");
        }
    }

    #[test]
    fn whole_words() {
        assert!(contains_word("x wrote", "wrote"));
        assert!(!contains_word("x rewrote", "wrote"));
        assert!(contains_word("张三写道", "写道"));
    }
}
