//! Placeholder evidence (pure): a value that fills a field without saying anything, such as
//! `Error: n/a` or `Steps-Taken: -`. The gate counts it as missing, and the refusal says that the
//! value given is a placeholder.
//!
//! A value is a placeholder when, ignoring case, punctuation, brackets, quotes and list markers,
//! nothing is left, or what is left is one of the [`PLACEHOLDERS`] alone or with one of the
//! [`FILLERS`] after it (`none yet`, `same as above`, `TBD.`, `(n/a)`). Text that goes on to say
//! something (`none of the users can log in`) is not a placeholder.

/// The words that stand for "nothing to say", normalised (lower case, punctuation made spaces):
/// `n/a` is `n a`, `see below` stays two words.
pub const PLACEHOLDERS: &[&str] = &[
    "n a",
    "na",
    "tbd",
    "tba",
    "todo",
    "to do",
    "none",
    "nothing",
    "see below",
    "see above",
    "same",
    "idem",
    "xxx",
];

/// Words that may follow a placeholder without making it say more.
pub const FILLERS: &[&str] = &[
    "yet",
    "so far",
    "for now",
    "as above",
    "as before",
    "as below",
    "here",
];

/// Whether `value` (a field's whole value, possibly several lines) is a placeholder. A blank
/// value is not one: it is simply empty.
pub fn is_placeholder(value: &str) -> bool {
    if value.trim().is_empty() {
        return false;
    }
    let words = normalise(value);
    if words.is_empty() {
        // Only punctuation: `-`, `--`, `?`, `...`, `—`.
        return true;
    }
    PLACEHOLDERS.iter().any(|p| {
        words == *p
            || words
                .strip_prefix(p)
                .and_then(|rest| rest.strip_prefix(' '))
                .is_some_and(|rest| FILLERS.contains(&rest))
    })
}

/// Lower case, every run of characters that are not letters or digits made one space, trimmed.
fn normalise(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_placeholders_in_any_case_are_placeholders() {
        for value in [
            "n/a",
            "N/A",
            "na",
            "NA",
            "-",
            "--",
            "?",
            "tbd",
            "TBD",
            "todo",
            "ToDo",
            "none",
            "None",
            "nothing",
            "NOTHING",
            "see below",
            "See Below",
            "same",
            "...",
            "…",
            "—",
        ] {
            assert!(is_placeholder(value), "{value:?}");
        }
    }

    #[test]
    fn nearly_alone_is_still_a_placeholder() {
        for value in [
            " n/a ",
            "N/A.",
            "(none)",
            "[TBD]",
            "<n/a>",
            "\"-\"",
            "- n/a",
            "none yet",
            "Nothing so far.",
            "same as above",
            "see below:",
            "n.a.",
            "?? ",
            "- \n -",
            "TODO!",
        ] {
            assert!(is_placeholder(value), "{value:?}");
        }
    }

    #[test]
    fn values_that_say_something_are_not_placeholders() {
        for value in [
            "",
            "   ",
            "none of the users can log in",
            "nothing arrives since Monday",
            "same error as SUP-12: 550 5.1.1",
            "NA region only",
            "timeout",
            "0",
            "12",
            "jane@acme.test",
            "SUP-1042",
            "see below: 550 5.7.1 relaying denied",
            "todo list app crashes",
            "- checked the logs: no errors",
            "n/a for customer A, B fails",
        ] {
            assert!(!is_placeholder(value), "{value:?}");
        }
    }
}
