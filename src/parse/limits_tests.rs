//! `parse_with` against [`ParseLimits`]: the header budget at its boundaries, the MIME budget,
//! the trims, and `peek_message_id` on mail over every budget.

use std::time::{Duration, Instant};

use super::{ParseError, ParseLimits, parse, parse_with, peek_message_id};
use crate::domain::{Kept, Trim};

const BASE: &str = "From: a@example.test\nMessage-ID: <m@example.test>\nSubject: hi\n";

/// A mail whose header block is exactly `bytes` long (line ends `eol`), padded by one field.
fn header_of(bytes: usize, eol: &str) -> Vec<u8> {
    let base = BASE.replace('\n', eol);
    let pad = bytes - base.len() - "X-Pad: ".len() - eol.len();
    format!("{base}X-Pad: {}{eol}{eol}body{eol}", "p".repeat(pad)).into_bytes()
}

/// A mail with exactly `fields` header fields, each folded over two lines.
fn fields_of(fields: usize, eol: &str) -> Vec<u8> {
    let mut raw = BASE.replace('\n', eol);
    for i in 3..fields {
        raw.push_str(&format!("X-F{i}: a{eol} b{eol}"));
    }
    raw.push_str(&format!("{eol}body{eol}"));
    raw.into_bytes()
}

fn limits(bytes: usize, fields: usize) -> ParseLimits {
    ParseLimits {
        max_header_bytes: bytes,
        max_header_count: fields,
        ..ParseLimits::default()
    }
}

#[test]
fn header_bytes_at_the_limit_pass_one_over_fails() {
    for eol in ["\r\n", "\n"] {
        let at = header_of(4096, eol);
        assert!(parse_with(&at, &limits(4096, 100)).is_ok(), "{eol:?}");
        let over = header_of(4097, eol);
        let err = parse_with(&over, &limits(4096, 100)).unwrap_err();
        assert_eq!(
            err,
            ParseError::HeaderTooLarge {
                bytes: 4097,
                limit: 4096
            }
        );
        assert_eq!(
            err.to_string(),
            "header of 4097 bytes is over the limit of 4096 bytes (limits.max_header_bytes)"
        );
        assert!(err.is_over_budget());
    }
}

#[test]
fn header_fields_at_the_limit_pass_one_over_fails() {
    for eol in ["\r\n", "\n"] {
        let at = fields_of(40, eol);
        assert!(parse_with(&at, &limits(1 << 20, 40)).is_ok(), "{eol:?}");
        let err = parse_with(&fields_of(41, eol), &limits(1 << 20, 40)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "header of 41 fields is over the limit of 40 fields (limits.max_header_count)"
        );
        assert_eq!(err.code(), "too_many_header_fields");
    }
}

#[test]
fn the_default_budget_refuses_six_million_header_lines_at_once() {
    let raw = format!("{BASE}{}\nbody\n", "X:\n".repeat(6_000_000));
    let started = Instant::now();
    assert_eq!(
        parse(raw.as_bytes()).unwrap_err(),
        ParseError::HeaderTooLarge {
            bytes: 18_000_062,
            limit: 256 * 1024
        }
    );
    assert_eq!(
        parse_with(raw.as_bytes(), &limits(usize::MAX, 1000)).unwrap_err(),
        ParseError::TooManyHeaderFields {
            fields: 6_000_003,
            limit: 1000
        }
    );
    // mail-parser never sees it: no gigabyte of header entries. Two scans of 18 MB take well
    // under a second unoptimised; the bound only leaves room for a busy test machine.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(peek_message_id(raw.as_bytes()).as_str(), "m@example.test");
}

#[test]
fn peek_names_the_message_id_of_mail_over_every_budget() {
    // Over the ceiling (never handed to mail-parser), the id folded onto its next line.
    let raw = format!(
        "X-A: 1\nMessage-ID:\n <deep@example.test>\nMessage-ID: <second@x>\n{}\nbody\n",
        "X:\n".repeat(200_000)
    );
    assert_eq!(
        peek_message_id(raw.as_bytes()).as_str(),
        "deep@example.test"
    );
    let no_id = "X:\n".repeat(200_000) + "\nbody\n";
    assert!(peek_message_id(no_id.as_bytes()).is_synthetic());
}

#[test]
fn address_lists_are_trimmed_to_the_first_n() {
    let cc: Vec<String> = (0..30).map(|i| format!("c{}@x.test", i % 25)).collect();
    let raw = format!(
        "{BASE}To: t1@x.test, t2@x.test\nCc: {}\nCc: late@x.test\nDelivered-To: d1@x.test\n\
         Delivered-To: d2@x.test\nX-Original-To: d3@x.test\n\nbody\n",
        cc.join(",\n ")
    );
    let limits = ParseLimits {
        max_addresses_per_header: 10,
        ..ParseLimits::default()
    };
    let mail = parse_with(raw.as_bytes(), &limits).unwrap();
    assert_eq!(mail.cc.len(), 10);
    assert_eq!(mail.cc[9].address.as_str(), "c9@x.test");
    assert_eq!(mail.to.len(), 2);
    assert_eq!(mail.delivered_to.len(), 3);
    assert_eq!(
        mail.trimmed,
        vec![Trim {
            header: "Cc",
            found: 26,
            kept: Kept::First(10),
            unit: "addresses",
            limit: "limits.max_addresses_per_header",
        }]
    );
    assert_eq!(
        mail.trimmed[0].to_string(),
        "Cc kept the first 10 of 26 addresses (limits.max_addresses_per_header)"
    );
    let two = ParseLimits {
        max_addresses_per_header: 2,
        ..limits
    };
    let mail = parse_with(raw.as_bytes(), &two).unwrap();
    let headers: Vec<&str> = mail.trimmed.iter().map(|t| t.header).collect();
    assert_eq!(headers, ["Cc", "Delivered-To"]);
    // Exactly at the limit: nothing trimmed.
    let mail = parse_with(raw.as_bytes(), &ParseLimits::default()).unwrap();
    assert!(mail.trimmed.is_empty());
    assert_eq!(mail.cc.len(), 26);
}

#[test]
fn references_keep_the_first_and_the_last_half_and_in_reply_to_is_kept() {
    let ids: Vec<String> = (0..250).map(|i| format!("<r{i}@x.test>")).collect();
    let raw = format!(
        "{BASE}In-Reply-To: <r249@x.test> <r7@x.test>\nReferences: {}\n <r3@x.test>\n\nbody\n",
        ids.join("\n ")
    );
    let mail = parse(raw.as_bytes()).unwrap();
    let refs: Vec<&str> = mail.references.iter().map(|m| m.as_str()).collect();
    assert_eq!(refs.len(), 100);
    assert_eq!((refs[0], refs[49]), ("r0@x.test", "r49@x.test"));
    assert_eq!((refs[50], refs[99]), ("r200@x.test", "r249@x.test"));
    assert_eq!(mail.in_reply_to.len(), 2);
    assert_eq!(
        mail.trimmed[0].to_string(),
        "References kept the first 50 and the last 50 of 250 Message-IDs (limits.max_references)"
    );
    let odd = ParseLimits {
        max_references: 5,
        ..ParseLimits::default()
    };
    let mail = parse_with(raw.as_bytes(), &odd).unwrap();
    let refs: Vec<&str> = mail.references.iter().map(|m| m.as_str()).collect();
    assert_eq!(
        refs,
        [
            "r0@x.test",
            "r1@x.test",
            "r247@x.test",
            "r248@x.test",
            "r249@x.test"
        ]
    );
    assert_eq!(mail.trimmed[0].kept, Kept::Ends { first: 2, last: 3 });
}

/// With the largest budgets the config allows, what gets through is still handled in one
/// pass: 100,000 References, 200,000 Cc and a 1 MB subject of `[`.
#[test]
fn the_widest_budget_still_costs_one_pass() {
    let refs: String = (0..100_000).map(|i| format!(" <r{i}@x.test>\n")).collect();
    let cc: String = (0..200_000).map(|i| format!(" c{i}@x.test,\n")).collect();
    let raw = format!(
        "{BASE}References:\n{refs}Cc:\n{cc} last@x.test\nTo: {}\nX-Subject: {}\n\nbody\n",
        "[SUP-".repeat(200_000),
        "[".repeat(1_000_000)
    );
    let started = Instant::now();
    let mail = parse_with(raw.as_bytes(), &ParseLimits::ceiling()).unwrap();
    assert_eq!(mail.references.len(), 100_000);
    assert_eq!(mail.cc.len(), 200_001);
    let mail = parse_with(
        raw.as_bytes(),
        &ParseLimits {
            max_addresses_per_header: 1000,
            max_references: 100,
            ..ParseLimits::ceiling()
        },
    )
    .unwrap();
    assert_eq!((mail.cc.len(), mail.references.len()), (1000, 100));
    assert_eq!(mail.trimmed.len(), 2);
    // Linear search per item took minutes on these lists.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn mime_budget_is_checked_after_parsing() {
    let mut raw = String::from("From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n");
    for i in 0..1_000 {
        raw.push_str(&format!("--b\nContent-Type: text/plain\n\npart {i}\n"));
    }
    raw.push_str("--b--\n");
    // 1,000 parts plus the multipart itself.
    assert_eq!(
        parse(raw.as_bytes()).unwrap_err().to_string(),
        "1001 MIME parts are over the limit of 1000 parts (limits.max_mime_parts)"
    );
    let wider = ParseLimits {
        max_mime_parts: 1001,
        ..ParseLimits::default()
    };
    assert!(parse_with(raw.as_bytes(), &wider).is_ok());
}
