//! Golden tests: every `fixtures/parse/*.eml` is parsed in its LF form and converted to CRLF,
//! and compared with `X.expected.json` beside it (`{"error": "<code>"}` for expected errors).
//!
//! `MAILGATE_BLESS=1 cargo test --lib parse::golden` rewrites the expectations from the current
//! output; review every changed file by hand before committing it.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{ParseError, parse, peek_message_id};
use crate::domain::{InboundEmail, MessageId};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("parse")
}

/// Every `.eml` fixture, sorted by name.
pub(super) fn fixture_files() -> Vec<PathBuf> {
    let dir = fixtures_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

/// LF line endings → CRLF (a CR already before an LF is left alone).
pub(super) fn to_crlf(lf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 16);
    for (i, &b) in lf.iter().enumerate() {
        if b == b'\n' && (i == 0 || lf[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn as_json(result: &Result<InboundEmail, ParseError>) -> Value {
    match result {
        Ok(mail) => serde_json::to_value(mail).unwrap(),
        Err(e) => json!({ "error": e.code() }),
    }
}

/// The CRLF form must parse like the LF form, except for what depends on the bytes
/// themselves: `size`, a synthetic Message-ID, and the raw content of attachments sent
/// unencoded (an attached `.eml`, 7bit/quoted-printable text), whose line ends are the mail's.
fn check_crlf(
    lf_raw: &[u8],
    lf: &Result<InboundEmail, ParseError>,
    crlf_raw: &[u8],
    crlf: &Result<InboundEmail, ParseError>,
) -> Result<(), String> {
    let (lf, crlf) = match (lf, crlf) {
        (Ok(lf), Ok(crlf)) => (lf, crlf),
        (Err(a), Err(b)) if a == b => return Ok(()),
        (a, b) => {
            return Err(format!(
                "LF gave {:?}, CRLF gave {:?}",
                a.as_ref().err(),
                b.as_ref().err()
            ));
        }
    };
    let mut adjusted = crlf.clone();
    if adjusted.size != crlf_raw.len() || lf.size != lf_raw.len() {
        return Err(format!(
            "size {} / {} is not the raw length",
            lf.size, crlf.size
        ));
    }
    adjusted.size = lf.size;
    if lf.message_id_synthetic {
        if !crlf.message_id_synthetic || crlf.message_id != MessageId::synthetic(crlf_raw) {
            return Err(format!(
                "CRLF synthetic id {} is not the hash of its bytes",
                crlf.message_id
            ));
        }
        adjusted.message_id = lf.message_id.clone();
    }
    if adjusted.attachments.len() != lf.attachments.len() {
        return Err("attachment count differs".to_string());
    }
    for (a, l) in adjusted.attachments.iter_mut().zip(&lf.attachments) {
        let same = a.content == l.content || a.content == to_crlf(&l.content);
        if !same || a.filename != l.filename || a.content_type != l.content_type {
            return Err(format!(
                "attachment {:?} differs: {a:?} vs {l:?}",
                l.filename
            ));
        }
        *a = l.clone();
    }
    if &adjusted != lf {
        return Err(format!(
            "CRLF result differs:\nLF:   {}\nCRLF: {}",
            serde_json::to_string_pretty(lf).unwrap(),
            serde_json::to_string_pretty(&adjusted).unwrap()
        ));
    }
    Ok(())
}

#[test]
fn golden_fixtures() {
    let bless = std::env::var("MAILGATE_BLESS").is_ok_and(|v| v == "1");
    let files = fixture_files();
    assert!(
        !files.is_empty(),
        "no .eml fixtures found in {}",
        fixtures_dir().display()
    );

    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let lf_raw = fs::read(path).unwrap();
        assert!(
            !lf_raw.windows(2).any(|w| w == b"\r\n"),
            "{name}: fixtures are stored with LF line ends"
        );
        let lf = parse(&lf_raw);
        let actual = as_json(&lf);
        let expected_path = path.with_extension("expected.json");
        if bless {
            let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
            fs::write(&expected_path, text).unwrap();
        } else {
            match fs::read_to_string(&expected_path) {
                Err(e) => failures.push(format!("{name}: cannot read expectation: {e}")),
                Ok(text) => {
                    let expected: Value = serde_json::from_str(&text).unwrap();
                    if expected != actual {
                        failures.push(format!(
                            "{name}: differs from {}\nactual:\n{}",
                            expected_path.display(),
                            serde_json::to_string_pretty(&actual).unwrap()
                        ));
                    }
                }
            }
        }

        let crlf_raw = to_crlf(&lf_raw);
        let crlf = parse(&crlf_raw);
        if let Err(e) = check_crlf(&lf_raw, &lf, &crlf_raw, &crlf) {
            failures.push(format!("{name} (CRLF): {e}"));
        }

        for (raw, result) in [(&lf_raw, &lf), (&crlf_raw, &crlf)] {
            if let Ok(mail) = result
                && peek_message_id(raw) != mail.message_id
            {
                failures.push(format!("{name}: peek_message_id differs from parse"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn enough_fixtures_with_expectations() {
    let files = fixture_files();
    assert!(files.len() >= 15, "only {} fixtures", files.len());
    for path in files {
        assert!(
            path.with_extension("expected.json").exists(),
            "{} has no expectation",
            path.display()
        );
    }
}
