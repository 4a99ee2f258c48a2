//! The fixtures are documented and used: every `fixtures/cases/*.eml` is described in
//! `fixtures/cases/README.md` and exercised by a test, and the README names no missing file.

use crate::support::*;

fn case_files() -> Vec<String> {
    let dir = manifest_dir().join("fixtures/cases");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_case_is_documented_and_used() {
    let names = case_files();
    assert!(
        names.len() >= 15,
        "fixtures/cases holds too few cases: {names:?}"
    );
    let readme = std::fs::read_to_string(manifest_dir().join("fixtures/cases/README.md"))
        .expect("fixtures/cases/README.md is missing");
    let tests_dir = manifest_dir().join("tests/it");
    let sources = read_sources(&tests_dir);
    for name in &names {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not described in README.md"
        );
        assert!(
            sources.contains(&format!("\"{name}\"")),
            "no test uses {name}"
        );
    }
    for word in readme
        .split('`')
        .filter(|w| w.ends_with(".eml") && !w.starts_with('.'))
    {
        assert!(
            names.iter().any(|n| n == word),
            "README.md names a missing file {word}"
        );
    }
}

#[test]
fn sample_archive_and_its_expectation_agree() {
    let expected = sample_expected();
    let messages = split_mbox(&std::fs::read(sample_archive()).unwrap());
    assert_eq!(messages.len() as u64, u64_of(&expected, "read"));
    assert!((12..=20).contains(&messages.len()));
    let listed = items(&expected, "messages");
    assert_eq!(listed.len(), messages.len());
    for (raw, want) in messages.iter().zip(listed) {
        let text = String::from_utf8_lossy(raw);
        let id = str_of(want, "message_id");
        assert!(
            text.contains(&format!("Message-ID: <{id}>")),
            "message {want:#} not at its place"
        );
    }
    let sum = [
        "created",
        "threaded",
        "duplicates",
        "ignored",
        "quarantined",
    ]
    .iter()
    .map(|k| u64_of(&expected, k))
    .sum::<u64>();
    assert_eq!(sum, u64_of(&expected, "read"));
    let stored: u64 = items(&expected, "tickets")
        .iter()
        .map(|t| u64_of(t, "message_count"))
        .sum();
    assert_eq!(
        stored,
        u64_of(&expected, "created") + u64_of(&expected, "threaded")
    );
}

/// The text of every `.rs` file under `dir`, recursively.
fn read_sources(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.push_str(&read_sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}
