//! Small mails that used to cost minutes (issue 12): generated hostile mails, each fed through
//! the real binary (`mailgate ingest`), must get a decision (quarantined naming the budget, or
//! a ticket with what was trimmed) within a CPU and a memory budget.
//!
//! CPU: the child's own user + system time. A linear path handles the 1 to 3.5 MB mails in
//! well under a second even in this unoptimised debug build; the quadratic paths this guards
//! against took 23 s to minutes on them in release builds, so 2 s of CPU can only be broken by
//! one of them. The two mails of 12 and 18 MB (six million header lines) get 50 ms per MB on
//! top: reading, hashing, scanning and storing that many bytes unoptimised takes most of a
//! second. CPU time, not wall time: the machine running the tests may be busy.
//!
//! Memory: peak RSS may grow by at most 50 MB over the ingest of a small mail, whatever the
//! mail's size (the target of issue 12). The mail is read once into a buffer of its size; the
//! copy stored, in the quarantine or on a ticket, is compressed, and the bytes themselves move
//! into the copy kept to retry a refused batch instead of being cloned. mail-parser's header
//! list for six million header lines took 1.24 GB, its parts for 400,000 empty MIME parts
//! 327 MB: both are refused before mail-parser sees them.
//!
//! Two configurations: the built-in `[limits]` (most of these mails are over the header budget
//! and quarantined before they are parsed), and the widest header budget the config allows,
//! which lets the long lists through to the parser, the threading and the store, where they
//! are trimmed.

mod mails;

use std::time::Duration;

use crate::support::measure::{Cost, run_measured};
use mails::*;

use crate::support::{App, Run, array, items, str_of, ticket_of, u64_of};

/// Headers over this are quarantined by default; the wide config accepts up to the ceiling.
const WIDE: &str = "[limits]\nmax_header_bytes = 16777216\nmax_header_count = 100000\n";

const CPU_BUDGET: Duration = Duration::from_secs(2);
/// CPU allowed per MB of mail on top of [`CPU_BUDGET`] (see the module documentation).
const CPU_PER_MB: Duration = Duration::from_millis(50);
const RSS_GROWTH_BUDGET_KIB: u64 = 50 * 1024;

#[derive(Clone, Copy, PartialEq)]
enum Config {
    Default,
    Wide,
}

/// What the decision must be.
enum Expect {
    /// Quarantined as `over-budget`, the reason naming this config key.
    OverBudget(&'static str),
    /// Stored on a ticket with `rule`, the reason containing each of these texts.
    Stored {
        rule: &'static str,
        reason: &'static [&'static str],
    },
}

struct Case {
    name: &'static str,
    config: Config,
    mail: fn() -> Vec<u8>,
    expect: Expect,
}

const HEADER_BYTES: Expect = Expect::OverBudget("limits.max_header_bytes");

fn cases() -> Vec<Case> {
    use Config::{Default, Wide};
    let case = |name, config, mail, expect| Case {
        name,
        config,
        mail,
        expect,
    };
    let new_ticket = |reason| Expect::Stored {
        rule: "new-ticket",
        reason,
    };
    vec![
        case(
            "1 MB subject of [",
            Default,
            subject_of_brackets,
            HEADER_BYTES,
        ),
        case("1 MB of [SUP-", Default, subject_of_sup, HEADER_BYTES),
        case("100,000 References", Default, references, HEADER_BYTES),
        case("200,000 Cc", Default, cc, HEADER_BYTES),
        case("200,000 To", Default, to, HEADER_BYTES),
        case("1 MB header", Default, one_megabyte_header, HEADER_BYTES),
        case("1 MB header line", Default, one_megabyte_line, HEADER_BYTES),
        case("6M empty fields", Default, empty_fields, HEADER_BYTES),
        case(
            "6M continuation lines",
            Default,
            continuation_lines,
            HEADER_BYTES,
        ),
        case(
            "10,000 MIME parts",
            Default,
            many_parts,
            Expect::OverBudget("limits.max_mime_parts"),
        ),
        case(
            "400,000 empty MIME parts",
            Default,
            empty_parts,
            Expect::OverBudget("limits.max_mime_parts"),
        ),
        case(
            "400,000 empty MIME parts, wide",
            Wide,
            empty_parts,
            Expect::OverBudget("limits.max_mime_parts"),
        ),
        case(
            "MIME nested 100 deep",
            Default,
            nested_100,
            Expect::OverBudget("limits.max_mime_depth"),
        ),
        case(
            "MIME nested 5,000 deep",
            Default,
            nested_5000,
            Expect::OverBudget("limits.max_mime_parts"),
        ),
        case(
            "6M continuation lines, wide",
            Wide,
            continuation_lines,
            new_ticket(&[]),
        ),
        case(
            "6M empty fields, wide",
            Wide,
            empty_fields,
            Expect::OverBudget("limits.max_header_bytes"),
        ),
        case(
            "1 MB subject of [, wide",
            Wide,
            subject_of_brackets,
            new_ticket(&[]),
        ),
        case(
            "1 MB of [SUP-, wide",
            Wide,
            subject_of_sup,
            Expect::Stored {
                rule: "unknown-tag",
                reason: &["[SUP-424242]"],
            },
        ),
        case(
            "100,000 References, wide",
            Wide,
            references,
            new_ticket(&[
                "References kept the first 50 and the last 50 of 100000 Message-IDs \
                 (limits.max_references)",
            ]),
        ),
        case(
            "200,000 Cc, wide",
            Wide,
            cc,
            new_ticket(&[
                "Cc kept the first 1000 of 200000 addresses (limits.max_addresses_per_header)",
            ]),
        ),
        case(
            "200,000 To, wide",
            Wide,
            to,
            new_ticket(&[
                "To kept the first 1000 of 200001 addresses (limits.max_addresses_per_header)",
            ]),
        ),
        case(
            "1 MB header, wide",
            Wide,
            one_megabyte_header,
            new_ticket(&[]),
        ),
        case(
            "1 MB header line, wide",
            Wide,
            one_megabyte_line,
            new_ticket(&[]),
        ),
    ]
}

/// `ingest FILE --json` with its cost.
fn ingest(app: &App, name: &str, bytes: &[u8]) -> (Run, Cost) {
    let path = app.write_file(&format!("inbox/{name}.eml"), bytes);
    let path = path.to_str().unwrap();
    let cmd = app.command(&["ingest", path, "--json"]);
    let report = app.dir().join("rusage.txt");
    run_measured(
        cmd,
        &report,
        &format!("ingest {name}"),
        Duration::from_secs(300),
        None,
    )
}

#[test]
fn hostile_mails_get_a_decision_within_their_budget() {
    let mut failures = Vec::new();
    for config in [Config::Default, Config::Wide] {
        let app = match config {
            Config::Default => App::new(),
            Config::Wide => App::with_config(WIDE),
        };
        let (run, baseline) = ingest(&app, "small", &small());
        run.expect_success();
        for (i, case) in cases().iter().filter(|c| c.config == config).enumerate() {
            let bytes = (case.mail)();
            let (run, cost) = ingest(&app, &format!("case{i}"), &bytes);
            run.expect_success();
            let decision = run.json();
            let reason = str_of(&decision, "reason");
            let growth = cost
                .max_rss_kib
                .zip(baseline.max_rss_kib)
                .map(|(peak, base)| peak.saturating_sub(base));
            eprintln!(
                "{:<28} {:>9} bytes  cpu {:>6.3} s  peak rss {:>7} KiB (+{:>6})  {} {}",
                case.name,
                bytes.len(),
                cost.cpu.as_secs_f64(),
                cost.max_rss_kib.unwrap_or_default(),
                growth.unwrap_or_default(),
                str_of(&decision, "rule"),
                ticket_of(&decision).unwrap_or_default(),
            );
            if let Some(wrong) = check(&case.expect, &decision, reason) {
                failures.push(format!("{}: {wrong}; decision {decision:#}", case.name));
            }
            let cpu_allowed = CPU_BUDGET + CPU_PER_MB * (bytes.len() >> 20) as u32;
            if cost.cpu > cpu_allowed {
                failures.push(format!(
                    "{}: {:?} of CPU, more than {cpu_allowed:?}",
                    case.name, cost.cpu
                ));
            }
            let allowed = RSS_GROWTH_BUDGET_KIB;
            if let Some(growth) = growth.filter(|g| *g > allowed) {
                failures.push(format!(
                    "{}: peak RSS {growth} KiB over a small mail's {:?} KiB, more than {allowed}",
                    case.name, baseline.max_rss_kib
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with `decision`, if anything.
fn check(expect: &Expect, decision: &serde_json::Value, reason: &str) -> Option<String> {
    let (action, rule) = (str_of(decision, "decision"), str_of(decision, "rule"));
    match expect {
        Expect::OverBudget(key) => {
            let ok = action == "quarantined"
                && rule == "over-budget"
                && reason.contains("over the limit of")
                && reason.contains(key);
            (!ok).then(|| format!("expected quarantined, over-budget, naming {key}"))
        }
        Expect::Stored {
            rule: expected,
            reason: texts,
        } => {
            let ok = action == "created"
                && rule == *expected
                && ticket_of(decision).is_some()
                && texts.iter().all(|t| reason.contains(t));
            (!ok).then(|| format!("expected a ticket by {expected}, reason with {texts:?}"))
        }
    }
}

/// A mail stored under a raised budget is still shown once the budget is lowered again: the
/// budgets decide what is accepted, never what was.
#[test]
fn a_stored_mail_shows_after_its_budget_is_lowered() {
    let app = App::with_config(WIDE);
    let decision = app.ingest_bytes("mb-line.eml", &one_megabyte_line());
    assert_eq!(str_of(&decision, "decision"), "created", "{decision:#}");
    let reference = ticket_of(&decision).unwrap();
    app.rewrite_config("");
    let shown = app.show(&reference);
    let body = str_of(&items(&shown, "messages")[0], "body_text");
    assert_eq!(body.trim(), "x", "{shown:#}");
}

/// Over a budget: quarantined with the budget named (also in `quarantine list`); once the
/// admin raises it, `quarantine reprocess` turns the same bytes into a ticket.
#[test]
fn over_budget_mail_is_reprocessed_after_the_budget_is_raised() {
    let app = App::with_config("[limits]\nmax_header_count = 50\n");
    let headers: String = (0..60).map(|i| format!("X-Hop-{i}: relay\r\n")).collect();
    let raw = mail(
        "hops",
        &format!("Subject: many hops\r\n{headers}"),
        "hello\r\n",
    );
    let d = app.ingest_bytes("hops.eml", &raw);
    assert_eq!(str_of(&d, "rule"), "over-budget", "{d:#}");
    assert_eq!(
        str_of(&d, "reason"),
        "header of 65 fields is over the limit of 50 fields (limits.max_header_count)"
    );
    let held = array(app.ok_json(&["quarantine", "list", "--json"]), "list");
    assert_eq!(str_of(&held[0], "message_id"), "hops@acme.test");
    assert!(str_of(&held[0], "reason").starts_with("over-budget: header of 65 fields"));
    let id = u64_of(&held[0], "id").to_string();

    app.rewrite_config("[limits]\nmax_header_count = 100\n");
    let done = app.ok_json(&["quarantine", "reprocess", &id, "--json"]);
    assert_eq!(str_of(&done, "decision"), "created", "{done:#}");
}

/// A quarantined mail is stored compressed: six million empty header lines (18 MB) take a
/// fraction of that in the database, and `quarantine list` still gives the mail's own size.
#[test]
fn a_quarantined_mail_is_stored_compressed_with_its_size() {
    let app = App::new();
    let raw = empty_fields();
    let decision = app.ingest_bytes("empty.eml", &raw);
    assert_eq!(str_of(&decision, "rule"), "over-budget", "{decision:#}");
    let held = array(app.ok_json(&["quarantine", "list", "--json"]), "list");
    assert_eq!(u64_of(&held[0], "size"), raw.len() as u64, "{held:#?}");
    let stored: u64 = std::fs::read_dir(app.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".db"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(
        stored < raw.len() as u64 / 8,
        "{stored} bytes of database for an {} byte mail",
        raw.len()
    );
}
