//! The escalation table (`fixtures/escalations/`, SPEC 4): every `[[case]]` of `cases.toml`
//! through the real binary, `mailgate --config fixtures/escalations/mailgate.toml escalations
//! check FILE --json`, in a world where SUP-1 … SUP-2000 exist (SUP-n's requester is
//! `customer<n>@acme.test`) and nothing else does.
//!
//! Every case is checked and every mismatch collected, so one run shows the whole table's state:
//! the verdict; for an accept the category, priority, ticket and customer; for a reject exactly
//! the set of fields with a problem (every refusal names every missing item), each named in the
//! refusal's problem list.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use crate::support::{App, manifest_dir};

/// How many tickets the table's world holds.
const TICKETS: i64 = 2000;

#[derive(Debug, Deserialize)]
struct Table {
    case: Vec<Case>,
}

/// One `[[case]]` (see `fixtures/escalations/README.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    #[allow(dead_code)]
    story: String,
    verdict: String,
    category: Option<String>,
    priority: Option<String>,
    ticket: Option<String>,
    customer: Option<String>,
    missing: Option<Vec<String>>,
}

/// One difference between the table and what the binary said.
struct Mismatch {
    file: String,
    what: &'static str,
    expected: String,
    got: String,
}

fn folder() -> PathBuf {
    manifest_dir().join("fixtures/escalations")
}

fn load_table() -> Vec<Case> {
    let path = folder().join("cases.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let table: Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is invalid: {e}", path.display()));
    table.case
}

/// Creates SUP-1 … SUP-2000 directly in the app's (migrated) database.
fn seed_tickets(app: &App) {
    let url = app.db_url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO tickets (id, subject, status, priority, requester, mailbox, created_at, \
             updated_at) SELECT i, 'Ticket ' || i, 'open', 'normal', \
             'customer' || i || '@acme.test', 'support', 1767225600, 1767225600 FROM n",
        )
        .bind(TICKETS)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("UPDATE counters SET value = ?1 WHERE name = 'ticket_number'")
            .bind(TICKETS)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
}

/// `steps_taken` → `Steps-Taken`, the way a refusal writes a field.
fn label(field: &str) -> String {
    field
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn text(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "null".to_string(),
        Some(other) => other.to_string(),
    }
}

fn shown(set: &BTreeSet<String>) -> String {
    format!("[{}]", set.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// Checks one case's JSON report; pushes every difference.
fn judge_case(case: &Case, report: &Value, out: &mut Vec<Mismatch>) {
    let mut differ = |what: &'static str, expected: String, got: String| {
        if expected != got {
            out.push(Mismatch {
                file: case.file.clone(),
                what,
                expected,
                got,
            });
        }
    };
    differ("verdict", case.verdict.clone(), text(report, "/verdict"));
    match case.verdict.as_str() {
        "accept" => {
            let expect = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
            if let Some(category) = &case.category {
                differ(
                    "category",
                    category.clone(),
                    text(report, "/accepted/category"),
                );
            }
            if let Some(priority) = &case.priority {
                differ(
                    "priority",
                    priority.clone(),
                    text(report, "/accepted/priority"),
                );
            }
            // Exactly one of ticket / customer: a customer case creates a new ticket.
            differ(
                "ticket",
                expect(&case.ticket),
                text(report, "/accepted/ticket"),
            );
            if let Some(customer) = &case.customer {
                differ(
                    "customer",
                    customer.clone(),
                    text(report, "/accepted/customer"),
                );
            }
        }
        "reject" => {
            let expected: BTreeSet<String> = case.missing.iter().flatten().cloned().collect();
            let problems = report.get("problems").and_then(Value::as_array);
            let got: BTreeSet<String> = problems
                .into_iter()
                .flatten()
                .map(|p| text(p, "/field"))
                .collect();
            differ("missing", shown(&expected), shown(&got));
            let list = text(report, "/refusal/problem_list");
            let unnamed: BTreeSet<String> = got
                .iter()
                .filter(|f| !list.contains(&format!("Add: {}:", label(f))))
                .cloned()
                .collect();
            differ("refusal names", "[]".into(), shown(&unnamed));
        }
        _ => differ("accepted", "null".into(), text(report, "/accepted")),
    }
}

/// The table's own consistency: fields that go with the verdict, every .eml covered once.
fn check_table(cases: &[Case], out: &mut Vec<Mismatch>) {
    let mut bad = |file: &str, what: &'static str, expected: &str, got: String| {
        out.push(Mismatch {
            file: file.to_string(),
            what,
            expected: expected.to_string(),
            got,
        })
    };
    for c in cases {
        let accept_fields = c.category.is_some() || c.priority.is_some();
        let target = (c.ticket.is_some(), c.customer.is_some());
        match c.verdict.as_str() {
            "accept" if target.0 == target.1 => bad(
                &c.file,
                "table",
                "ticket xor customer",
                format!("{target:?}"),
            ),
            "accept" if c.missing.is_some() => {
                bad(&c.file, "table", "no missing", "missing".into())
            }
            "reject" if c.missing.as_ref().is_none_or(Vec::is_empty) => {
                bad(&c.file, "table", "missing = [...]", "none".into())
            }
            "reject" | "unauthorised" | "automatic"
                if accept_fields || target != (false, false) =>
            {
                bad(
                    &c.file,
                    "table",
                    "accept-only fields absent",
                    "present".into(),
                )
            }
            "accept" | "reject" | "unauthorised" | "automatic" => {}
            other => bad(&c.file, "table", "a known verdict", other.to_string()),
        }
    }
    let listed: BTreeSet<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    if listed.len() != cases.len() {
        bad(
            "cases.toml",
            "table",
            "each file once",
            "a file listed twice".into(),
        );
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(folder())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    for name in &on_disk {
        if !listed.contains(name.as_str()) {
            bad(name, "table", "a [[case]]", "none".into());
        }
    }
    for name in listed {
        if !on_disk.contains(name) {
            bad(name, "table", "the .eml file", "missing".into());
        }
    }
}

fn table_of(mismatches: &[Mismatch]) -> String {
    let w = |f: fn(&Mismatch) -> usize, min: usize| {
        mismatches.iter().map(f).max().unwrap_or(0).max(min)
    };
    let (wf, ww, we) = (
        w(|m| m.file.len(), 4),
        w(|m| m.what.len(), 4),
        w(|m| m.expected.len(), 8),
    );
    let mut out = format!("{:wf$}  {:ww$}  {:we$}  got\n", "file", "what", "expected");
    for m in mismatches {
        out.push_str(&format!(
            "{:wf$}  {:ww$}  {:we$}  {}\n",
            m.file, m.what, m.expected, m.got
        ));
    }
    out
}

#[test]
fn every_escalation_case_gets_its_expected_verdict() {
    let cases = load_table();
    let config = folder().join("mailgate.toml");
    let config = config.to_str().unwrap();
    let app = App::new();
    seed_tickets(&app);

    let mut mismatches = Vec::new();
    check_table(&cases, &mut mismatches);
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut false_refusals = 0;
    for case in &cases {
        let path = folder().join(&case.file);
        let args = [
            "--config",
            config,
            "escalations",
            "check",
            path.to_str().unwrap(),
            "--json",
        ];
        let run = app.run(&args);
        run.assert_no_panic();
        if run.code != Some(0) {
            let got = format!("exit {:?}: {}", run.code, run.stderr.trim());
            mismatches.push(Mismatch {
                file: case.file.clone(),
                what: "exit code",
                expected: "0".into(),
                got,
            });
            continue;
        }
        let report = run.json();
        let verdict = text(&report, "/verdict");
        if case.verdict == "accept" && verdict == "reject" {
            false_refusals += 1;
        }
        *counts.entry(verdict).or_default() += 1;
        judge_case(case, &report, &mut mismatches);
    }
    let count = |v: &str| counts.get(v).copied().unwrap_or(0);
    let summary = format!(
        "{} cases: {} accepted, {} refused, {} unauthorised, {} automatic; {false_refusals} false \
         refusals, {} mismatches",
        cases.len(),
        count("accept"),
        count("reject"),
        count("unauthorised"),
        count("automatic"),
        mismatches.len()
    );
    println!("{summary}");
    assert!(
        mismatches.is_empty(),
        "{summary}\n\n{}",
        table_of(&mismatches)
    );
}
