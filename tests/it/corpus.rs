//! Robustness sweep over other projects' real-world mail in ../shared/corpus (outside this
//! repository; see its README.md and each folder's SOURCE.txt). Every file that looks like a
//! mail goes through `import --dry-run --json`: no panic, no hang, a decision for each.
//! When the corpus folder is absent the sweep says so and passes.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::support::*;

const SWEEP_TIMEOUT: Duration = Duration::from_secs(300);

/// Expectation and serialisation files beside the mails, never mails themselves.
const NOT_MAIL_EXTENSIONS: [&str; 6] = ["json", "xml", "out", "bin", "html", "md"];

/// Header names whose presence at the top of a file makes it a mail.
const KNOWN_HEADERS: [&str; 13] = [
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "content-type",
    "delivered-to",
    "sender",
    "reply-to",
];

fn corpus_dir() -> PathBuf {
    manifest_dir().join("../shared/corpus")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// An mbox: named like one and starting with a From_ line.
fn is_mbox(path: &Path, bytes: &[u8]) -> bool {
    let name = path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_ascii_lowercase();
    name.contains("mbox") && bytes.starts_with(b"From ")
}

/// Inside a Maildir's cur/ or new/.
fn in_maildir(path: &Path) -> bool {
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .unwrap_or_default();
    (parent == "cur" || parent == "new")
        && path.ancestors().any(|a| {
            a.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("maildir"))
        })
}

/// The first lines are a header block (an optional From_ line first) naming a known header.
fn has_mail_headers(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(16 * 1024)]);
    let mut lines = head.lines().peekable();
    if lines.peek().is_some_and(|l| l.starts_with("From ")) {
        lines.next();
    }
    let mut known = 0;
    let mut fields = 0;
    for line in lines {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if fields == 0 {
                return false;
            }
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return false;
        }
        fields += 1;
        if KNOWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            known += 1;
        }
    }
    fields >= 2 && known >= 1
}

fn looks_like_mail(path: &Path, bytes: &[u8]) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if NOT_MAIL_EXTENSIONS.contains(&ext.as_str()) {
        return false;
    }
    if ["eml", "msg", "raw"].contains(&ext.as_str()) || in_maildir(path) {
        return !bytes.is_empty();
    }
    has_mail_headers(bytes)
}

#[test]
fn corpus_sweep_every_mail_gets_a_decision() {
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        println!(
            "corpus sweep: {} does not exist (it lives outside the repository); nothing swept",
            corpus.display()
        );
        return;
    }
    let mut files = Vec::new();
    walk(&corpus, &mut files);

    let app = App::new();
    let folder = app.dir().join("corpus-eml");
    std::fs::create_dir_all(&folder).unwrap();
    let mut mails: Vec<PathBuf> = Vec::new();
    let mut mboxes: Vec<PathBuf> = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        if is_mbox(&path, &bytes) {
            mboxes.push(path);
        } else if looks_like_mail(&path, &bytes) {
            mails.push(path);
            std::fs::write(folder.join(format!("{:05}.eml", mails.len())), &bytes).unwrap();
        }
    }
    assert!(
        mails.len() > 500,
        "the corpus should hold many mails, found {}",
        mails.len()
    );
    println!(
        "corpus sweep: {} mail files, {} mbox files",
        mails.len(),
        mboxes.len()
    );

    let folder_arg = folder.to_str().unwrap().to_string();
    let run = app.run_full(
        &[
            "import",
            &folder_arg,
            "--format",
            "eml",
            "--dry-run",
            "--json",
        ],
        None,
        SWEEP_TIMEOUT,
    );
    run.expect_success();
    let report = run.json();
    let failures: Vec<String> = items(&report, "failures")
        .iter()
        .map(|f| {
            let where_ = f["position"].to_string();
            format!(
                "{where_} ({}): {}",
                original_of(&where_, &mails),
                f["error"]
            )
        })
        .collect();
    assert_eq!(
        u64_of(&report, "errors"),
        0,
        "errors in the sweep:\n{}",
        failures.join("\n")
    );
    assert_report_balanced(&report);
    assert_eq!(
        u64_of(&report, "read"),
        mails.len() as u64,
        "every file is one message: {report:#}"
    );
    let counts: Vec<String> = std::iter::once("read")
        .chain(OUTCOMES)
        .map(|k| format!("{k} {}", report[k]))
        .collect();
    println!("corpus sweep (eml folder): {}", counts.join(", "));

    let mut problems = Vec::new();
    for mbox in &mboxes {
        let run = app.run_full(
            &[
                "import",
                mbox.to_str().unwrap(),
                "--format",
                "mbox",
                "--dry-run",
                "--json",
            ],
            None,
            SWEEP_TIMEOUT,
        );
        let ok = run.code == Some(0)
            && !run.stderr.contains("panicked at")
            && serde_json::from_str::<serde_json::Value>(run.stdout.trim()).is_ok_and(|r| {
                let sum = outcome_sum(&r);
                r["errors"] == 0
                    && r["read"].as_u64().is_some_and(|n| n >= 1)
                    && sum == r["read"].as_u64()
            });
        if !ok {
            problems.push(format!("{}\n{run}", mbox.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "mbox sweep failures:\n{}",
        problems.join("\n\n")
    );

    // The corpus Maildir, as a Maildir.
    for maildir in mboxes_maildirs(&corpus) {
        let run = app.run_full(
            &[
                "import",
                maildir.to_str().unwrap(),
                "--format",
                "maildir",
                "--dry-run",
                "--json",
            ],
            None,
            SWEEP_TIMEOUT,
        );
        let report = run.expect_success().json();
        assert_report_balanced(&report);
        assert_eq!(u64_of(&report, "errors"), 0, "{report:#}");
        assert!(u64_of(&report, "read") >= 1, "{report:#}");
    }
    assert!(app.tickets().is_empty(), "a dry run stored tickets");
}

/// Folders named like a Maildir that hold cur/ and new/.
fn mboxes_maildirs(corpus: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut stack = vec![corpus.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_ascii_lowercase();
                if name == "maildir" && path.join("cur").is_dir() && path.join("new").is_dir() {
                    dirs.push(path.clone());
                }
                stack.push(path);
            }
        }
    }
    dirs
}

/// The corpus file behind a failure position such as `"00042.eml"` or `42`.
fn original_of(position: &str, mails: &[PathBuf]) -> String {
    let digits: String = position
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| mails.get(n.wrapping_sub(1)))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "?".to_string())
}

#[test]
fn mail_detection_heuristic() {
    assert!(has_mail_headers(b"From: a@b.test\nSubject: x\n\nbody"));
    assert!(has_mail_headers(
        b"From a@b Mon Jan 1 00:00:00 2024\nReceived: x\n\tmore\nTo: c@d\n\nbody"
    ));
    assert!(!has_mail_headers(b"Hello,\n\nthis is a body only.\n"));
    assert!(!has_mail_headers(b"source repo : x/y\npaths : a\n"));
    assert!(!has_mail_headers(b"X-Only: one\n\nbody"));
}

/// Issue 4 target: not one automatic mail in answer to any message of the bounce corpora
/// (perl-bounceparser, ruby-bounce_email/bounces). Each mail is ingested live (notifications
/// on), as the poller would; the outbox may hold rows with a reason but none may go out.
#[test]
fn bounce_corpora_get_no_automatic_mail() {
    let corpus = corpus_dir();
    let folders = [
        corpus.join("perl-bounceparser"),
        corpus.join("ruby-bounce_email/test/bounces"),
    ];
    if !folders.iter().all(|f| f.is_dir()) {
        println!(
            "bounce corpora not found under {}: nothing swept",
            corpus.display()
        );
        return;
    }
    let app = App::with_config_unmigrated(
        r#"
[tickets]
support_address = "Support <support@example.test>"
secret_file = "hmac.key"
"#,
    );
    app.write_file("hmac.key", b"bounce-corpus-secret");
    app.run(&["migrate"]).expect_success();

    // A control mail first: a customer's mail to support is acknowledged, so an empty outbox
    // below means the corpus was held back, not that nothing is ever sent.
    app.ingest_fixture("new-ticket.eml");
    let control = outbox_rows(&app);
    // Two mails: the requester's with the quote, the Cc's without.
    assert_eq!(control.len(), 2, "{control:#?}");
    for row in &control {
        assert_eq!(str_of(row, "status"), "pending", "{control:#?}");
    }

    let mut mails = Vec::new();
    for folder in &folders {
        walk(folder, &mut mails);
    }
    mails.retain(|p| std::fs::read(p).is_ok_and(|b| looks_like_mail(p, &b)));
    assert!(
        mails.len() >= 150,
        "only {} bounce corpus mails",
        mails.len()
    );
    let mut decisions = std::collections::BTreeMap::<String, usize>::new();
    for mail in &mails {
        let run = app.run(&["ingest", mail.to_str().unwrap(), "--json"]);
        run.assert_no_panic();
        let decision = if run.code == Some(0) {
            str_of(&run.json(), "decision").to_string()
        } else {
            format!("exit {:?}", run.code)
        };
        *decisions.entry(decision).or_default() += 1;
    }
    println!("bounce corpora: {} mails: {decisions:?}", mails.len());

    let rows = outbox_rows(&app);
    let answered: Vec<String> = rows
        .iter()
        .skip(control.len())
        .filter(|r| str_of(r, "status") != "held")
        .map(|r| {
            format!(
                "{} to {}: {}",
                str_of(r, "kind"),
                r["recipients"],
                r["subject"]
            )
        })
        .collect();
    assert!(
        answered.is_empty(),
        "{} automatic mails would answer the bounce corpora:\n{}",
        answered.len(),
        answered.join("\n")
    );
}

fn outbox_rows(app: &App) -> Vec<serde_json::Value> {
    array(app.ok_json(&["outbox", "list", "--json"]), "outbox list")
}
