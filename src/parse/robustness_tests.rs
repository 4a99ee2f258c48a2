//! `parse` must never panic and never take long, whatever the bytes.

use std::time::{Duration, Instant};

use super::golden_tests::{fixture_files, to_crlf};
use super::{ParseError, ParseLimits, parse, parse_with, peek_message_id};

/// A tiny deterministic PRNG (xorshift64*), so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parses and checks the invariants that hold for any input.
fn check(raw: &[u8], what: &str) {
    let result = parse(raw);
    assert_ne!(
        result,
        Err(ParseError::ParserFailed),
        "{what}: mail-parser panicked"
    );
    let peeked = peek_message_id(raw);
    if let Ok(mail) = result {
        assert_eq!(
            peeked,
            mail.message_id,
            "{what}: peek differs from parse; input starts {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(700)])
        );
        assert_eq!(mail.size, raw.len());
        assert!(!mail.body_text.contains('\r'), "{what}: CR left in body");
        assert!(!mail.body_text.contains('\0'), "{what}: NUL left in body");
        for a in &mail.attachments {
            assert!(
                !a.filename.is_empty() && a.filename.len() <= 200,
                "{what}: {a:?}"
            );
            assert_eq!(a.size, a.content.len());
        }
    }
}

#[test]
fn truncated_prefixes_of_every_fixture() {
    for path in fixture_files() {
        let raw = std::fs::read(&path).unwrap();
        for raw in [raw.clone(), to_crlf(&raw)] {
            for len in (0..=raw.len()).step_by(7) {
                check(
                    &raw[..len],
                    &format!("{} truncated to {len}", path.display()),
                );
            }
        }
    }
}

#[test]
fn random_byte_flips() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let interesting = b"\r\n\0:<>=-;\"\\ \t@?*";
    for path in fixture_files() {
        let original = std::fs::read(&path).unwrap();
        if original.is_empty() {
            continue;
        }
        for round in 0..40 {
            let mut raw = original.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(raw.len());
                raw[at] = if rng.below(2) == 0 {
                    interesting[rng.below(interesting.len())]
                } else {
                    rng.next() as u8
                };
            }
            check(&raw, &format!("{} flip round {round}", path.display()));
        }
    }
}

#[test]
fn empty_and_whitespace() {
    assert_eq!(parse(b""), Err(ParseError::Empty));
    assert_eq!(parse(b" \r\n\t\n"), Err(ParseError::Empty));
    assert_eq!(
        parse(b"just some text\nwithout any header\n"),
        Err(ParseError::NotAnEmail)
    );
    assert!(peek_message_id(b"").is_synthetic());
}

fn timed(limit: Duration, what: &str, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    assert!(start.elapsed() < limit, "{what} took {:?}", start.elapsed());
}

#[test]
fn ten_megabyte_single_line_body() {
    let mut raw = b"From: a@example.com\nSubject: big\n\n".to_vec();
    raw.resize(raw.len() + 10 * 1024 * 1024, b'a');
    timed(Duration::from_secs(10), "10 MB line", || {
        let mail = parse(&raw).unwrap();
        assert_eq!(mail.body_text.len(), 10 * 1024 * 1024);
        assert_eq!(mail.reply_text.len(), 10 * 1024 * 1024);
    });
}

#[test]
fn five_thousand_nested_multiparts() {
    let mut raw =
        String::from("From: a@example.com\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n");
    for i in 0..5_000 {
        raw.push_str(&format!(
            "--b{i}\nContent-Type: multipart/mixed; boundary=\"b{}\"\n\n",
            i + 1
        ));
    }
    raw.push_str("--b5000\nContent-Type: text/plain\n\ndeep text\n");
    for i in (0..=5_000).rev() {
        raw.push_str(&format!("--b{i}--\n"));
    }
    timed(Duration::from_secs(10), "nested multiparts", || {
        check(raw.as_bytes(), "nested multiparts");
    });
}

#[test]
fn deeply_nested_html_only_mail() {
    let html = format!(
        "{}deep{}",
        "<div>".repeat(200_000),
        "</div>".repeat(200_000)
    );
    let raw = format!("From: a@example.com\nContent-Type: text/html\n\n{html}");
    timed(Duration::from_secs(10), "nested html", || {
        let mail = parse(raw.as_bytes()).unwrap();
        assert!(mail.body_text.contains("deep"));
    });
}

#[test]
fn many_headers_and_long_header_lines() {
    let mut raw = String::from("From: a@example.com\n");
    for i in 0..50_000 {
        raw.push_str(&format!("X-Junk-{i}: {}\n", "v".repeat(i % 50)));
    }
    raw.push_str(&format!("Subject: {}\n", "s ".repeat(200_000)));
    raw.push_str(&format!("To: {}\n", "x@y.z, ".repeat(20_000)));
    raw.push_str(&format!("References: {}\n", "<a@b> ".repeat(20_000)));
    raw.push_str("\nbody\n");
    timed(Duration::from_secs(10), "many headers", || {
        check(raw.as_bytes(), "many headers");
        // Over the default header budget; with the widest one it goes through mail-parser.
        assert!(parse(raw.as_bytes()).is_err_and(|e| e.is_over_budget()));
        let mail = parse_with(raw.as_bytes(), &ParseLimits::ceiling()).unwrap();
        assert_eq!(mail.to.len(), 1);
        assert_eq!(mail.references.len(), 1);
    });
}

/// Throughput on a typical 11 KB reply (text + HTML alternative, quoted history, a small
/// attachment). Run with `cargo test --release --lib parse::robustness_tests::throughput --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let quote: String = (0..60)
        .map(|i| format!("> line {i} of the quoted history, which repeats what was said before.\n"))
        .collect();
    let html: String = (0..60)
        .map(|i| format!("<p>line {i} of the quoted history, which repeats what was said.</p>"))
        .collect();
    let raw = format!(
        "From: Jane <jane@customer.example>\nTo: support@helpdesk.example\nSubject: Re: [HD-1] x\n\
         Message-ID: <a@b>\nIn-Reply-To: <t@h>\nReferences: <r@h> <t@h>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\
         Received: from a by b with ESMTPS id 1; Mon, 3 Mar 2025 10:00:00 +0000\n\
         Content-Type: multipart/mixed; boundary=m\n\n--m\n\
         Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain; charset=utf-8\n\n\
         Thanks, that helped.\n\nOn Mon, Mar 3, 2025 at 9:00 AM Support <s@h> wrote:\n{quote}\n--a\n\
         Content-Type: text/html; charset=utf-8\n\n<div>Thanks</div><blockquote>{html}</blockquote>\n--a--\n\
         --m\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n{}\n--m--\n",
        "QUJDRA==\n".repeat(100)
    );
    let n = 20_000;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(parse(std::hint::black_box(raw.as_bytes())).unwrap());
    }
    let per_sec = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(peek_message_id(std::hint::black_box(raw.as_bytes())));
    }
    let peek_per_sec = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "{} bytes: parse {per_sec:.0}/s, peek {peek_per_sec:.0}/s on one core",
        raw.len()
    );
}
