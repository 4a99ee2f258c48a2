//! Matching the phrase table ([`super::phrases::PHRASES`]) against a subject and a text
//! (pure). One Aho-Corasick automaton per place: one linear pass over each text, however
//! long the table grows.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::phrases::{Kind, PHRASES, Phrase, Place};

/// The rows of one place and their automaton.
struct Automaton {
    rows: Vec<&'static Phrase>,
    matcher: AhoCorasick,
}

fn automaton(place: Place) -> Option<Automaton> {
    let rows: Vec<&'static Phrase> = PHRASES.iter().filter(|p| p.place == place).collect();
    let matcher = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(rows.iter().map(|p| p.text))
        .ok()?;
    Some(Automaton { rows, matcher })
}

static SUBJECT: LazyLock<Option<Automaton>> = LazyLock::new(|| automaton(Place::Subject));
static BODY: LazyLock<Option<Automaton>> = LazyLock::new(|| automaton(Place::Body));

/// A row of the table that matched, and where in the text (a byte offset; 0 for a subject).
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub phrase: &'static Phrase,
    pub at: usize,
}

impl Found {
    pub fn kind(&self) -> Kind {
        self.phrase.kind
    }
}

/// The first row for `place` found in `text` (already lower case).
pub fn find(text: &str, place: Place) -> Option<Found> {
    let automaton = match place {
        Place::Subject => SUBJECT.as_ref(),
        Place::Body => BODY.as_ref(),
    }?;
    let m = automaton.matcher.find(text)?;
    Some(Found {
        phrase: automaton.rows[m.pattern().as_usize()],
        at: m.start(),
    })
}

/// Whether `subject` (lower case) holds any subject phrase: the cheap test that decides
/// whether a mail without other machine signals is read further.
pub fn subject_matches(subject: &str) -> bool {
    find(subject, Place::Subject).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_lower_case_and_found() {
        for p in PHRASES {
            assert_eq!(p.text, p.text.to_lowercase(), "{}", p.text);
            let hit = find(&format!("xx {} yy", p.text), p.place)
                .unwrap_or_else(|| panic!("{} not found", p.text));
            assert_eq!(hit.at, 3, "{}", p.text);
        }
    }

    #[test]
    fn place_is_respected() {
        assert!(find("undelivered mail returned to sender", Place::Subject).is_some());
        assert!(find("hello there", Place::Body).is_none());
        let f = find("this is the mail system at host mx", Place::Body).unwrap();
        assert_eq!(f.phrase.name, "Postfix");
    }

    #[test]
    fn a_long_text_is_one_pass() {
        let text = "a".repeat(super::super::text::MAX_TEXT_BYTES);
        let started = std::time::Instant::now();
        for _ in 0..100 {
            assert!(find(&text, Place::Body).is_none());
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
