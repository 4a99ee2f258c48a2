//! Mail over `limits.max_message_bytes` is never read into memory (SPEC 12): a 2 GB .eml in a
//! folder, a 2 GB mbox entry between two small ones, `ingest FILE` and `ingest -` are
//! quarantined by reference (the header, with where the message is, its size and the limit),
//! the mail around them is imported, re-running adds no second entry, and the peak RSS of the
//! `mailgate` process stays small. The big .eml files are sparse (a few KB on disk, and only
//! their header is read); the 2 GB mbox comes through a named pipe.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::support::measure;
use crate::support::*;

const GIB: u64 = 1 << 30;
/// Peak RSS allowed for a run that meets a 2 GB mail (the binary alone is ~20 MB).
const MAX_RSS_KB: u64 = 100 * 1024;

fn mail(n: u32) -> String {
    format!(
        "From: Customer {n} <c{n}@acme.test>\nTo: support@example.test\nSubject: question {n}\n\
         Message-ID: <q{n}@acme.test>\n\nhello {n}\n"
    )
}

const HUGE_HEADER: &str = "From: Jane <jane@acme.test>\nTo: support@example.test\n\
Subject: the whole disk image\nMessage-ID: <huge-image@acme.test>\n\n";

/// Writes `head`, a hole of `hole` bytes (zeros, not on disk), then `tail`.
fn sparse(path: &Path, head: &[u8], hole: u64, tail: &[u8]) {
    let mut file = File::create(path).unwrap();
    file.write_all(head).unwrap();
    file.seek(SeekFrom::Current(hole as i64)).unwrap();
    file.write_all(tail).unwrap();
}

/// `mailgate ARGS` with this app's environment: exit code, stdout, stderr and the peak RSS of
/// that process alone, in KB (measured by GNU time: see `support::measure`).
fn run_measured(
    app: &App,
    args: &[&str],
    stdin: Option<&Path>,
) -> (Option<i32>, String, String, u64) {
    let (run, cost) = measure::run_measured(
        app.command(args),
        &app.dir().join("rusage.txt"),
        &format!("mailgate {}", args.join(" ")),
        DEFAULT_TIMEOUT,
        stdin,
    );
    let rss = cost.max_rss_kib.expect("GNU time reports the peak RSS");
    (run.code, run.stdout, run.stderr, rss)
}

#[track_caller]
fn measured_json(app: &App, args: &[&str], stdin: Option<&Path>) -> (Value, u64) {
    let (code, out, err, rss) = run_measured(app, args, stdin);
    assert_eq!(code, Some(0), "mailgate {}\n{out}\n{err}", args.join(" "));
    assert!(!err.contains("panicked"), "{err}");
    let json = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    (json, rss)
}

fn quarantine(app: &App) -> Vec<Value> {
    array(
        app.ok_json(&["quarantine", "list", "--json"]),
        "quarantine list",
    )
}

#[test]
fn a_2_gb_eml_in_a_folder_is_quarantined_by_reference_and_the_mail_around_it_imported() {
    let app = App::new();
    let dir = app.dir().join("mail");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.eml"), mail(1)).unwrap();
    let huge = dir.join("b-huge.eml");
    let size = 2 * GIB + 17;
    sparse(
        &huge,
        HUGE_HEADER.as_bytes(),
        size - HUGE_HEADER.len() as u64 - 1,
        b"\n",
    );
    std::fs::write(dir.join("c.eml"), mail(2)).unwrap();

    let dir_arg = dir.to_str().unwrap();
    let (report, rss) = measured_json(&app, &["import", dir_arg, "--json"], None);
    eprintln!("import of a folder with a 2 GB .eml: peak RSS {rss} KB");
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KB\n{report:#}");
    assert_eq!(
        (
            u64_of(&report, "read"),
            u64_of(&report, "created"),
            u64_of(&report, "quarantined")
        ),
        (3, 2, 1),
        "{report:#}"
    );
    let held = quarantine(&app);
    assert_eq!(held.len(), 1, "{held:#?}");
    let entry = &held[0];
    assert!(bool_of(entry, "header_only"), "{entry:#}");
    assert_eq!(message_id_of(entry), "huge-image@acme.test");
    assert_eq!(str_of(entry, "source"), huge.display().to_string());
    let reason = str_of(entry, "reason");
    for part in [
        format!("message is {size} bytes"),
        "over the limit of 26214400 bytes".to_string(),
        format!("stays in the file {}", huge.display()),
    ] {
        assert!(reason.contains(&part), "{part:?} not in {reason:?}");
    }

    // Re-running: the good mail is known, the huge one gets no second entry.
    let (again, _) = measured_json(&app, &["import", dir_arg, "--json"], None);
    assert_eq!(u64_of(&again, "created"), 0, "{again:#}");
    assert_eq!(quarantine(&app).len(), 1);

    // `ingest FILE` of the same file: the same decision, the same entry.
    let (d, rss) = measured_json(&app, &["ingest", huge.to_str().unwrap(), "--json"], None);
    eprintln!("ingest of a 2 GB .eml: peak RSS {rss} KB");
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KB");
    assert_eq!(
        (str_of(&d, "decision"), str_of(&d, "rule")),
        ("quarantined", "over-size")
    );
    assert!(
        str_of(&d, "reason").contains(&format!("message is {size} bytes")),
        "{d:#}"
    );
    assert_eq!(quarantine(&app).len(), 1);
    assert_eq!(app.tickets().len(), 2);
}

#[test]
fn ingest_from_stdin_reads_one_byte_past_the_limit_then_keeps_the_header() {
    let app = App::with_config("[limits]\nmax_message_bytes = 100000\n");
    let input = app.dir().join("stdin.eml");
    sparse(&input, HUGE_HEADER.as_bytes(), 64 << 20, b"\n");
    let (d, rss) = measured_json(&app, &["ingest", "-", "--json"], Some(&input));
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KB");
    assert_eq!(str_of(&d, "decision"), "quarantined", "{d:#}");
    assert_eq!(str_of(&d, "source"), "stdin");
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains("message is more than 100000 bytes, over the limit of 100000 bytes"),
        "{reason}"
    );
    let held = quarantine(&app);
    assert!(bool_of(&held[0], "header_only"));
    assert_eq!(message_id_of(&held[0]), "huge-image@acme.test");
    let reprocess = app.run(&[
        "quarantine",
        "reprocess",
        &u64_of(&held[0], "id").to_string(),
    ]);
    reprocess.expect_code(1);
    assert!(
        reprocess.output().contains("standard input and not kept"),
        "{reprocess}"
    );
}

/// Writes an mbox of three messages whose middle one is `hole` zero bytes (no newline at
/// all) after its header. Returns the middle entry's offset and its message size (header,
/// zeros, the newline ending them; the blank separator line is not part of it).
fn write_mbox_with_a_huge_middle(out: &mut impl Write, hole: u64) -> std::io::Result<(u64, u64)> {
    let first = format!("From c1@acme.test Mon Jan  1 00:00:00 2024\n{}\n", mail(1));
    let middle = format!("From jane@acme.test Mon Jan  1 00:00:01 2024\n{HUGE_HEADER}");
    let last = format!(
        "\n\nFrom c2@acme.test Mon Jan  1 00:00:02 2024\n{}",
        mail(2)
    );
    out.write_all(first.as_bytes())?;
    out.write_all(middle.as_bytes())?;
    let zeros = vec![0u8; 1 << 20];
    let mut left = hole;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        out.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    out.write_all(last.as_bytes())?;
    Ok((first.len() as u64, HUGE_HEADER.len() as u64 + hole + 1))
}

fn mbox_with_a_huge_middle(path: &Path, hole: u64) -> (u64, u64) {
    let mut file = std::io::BufWriter::new(File::create(path).unwrap());
    let (offset, size) = write_mbox_with_a_huge_middle(&mut file, hole).unwrap();
    file.flush().unwrap();
    (offset, size)
}

#[test]
fn an_mbox_entry_over_the_limit_is_streamed_past_and_quarantined_by_reference() {
    let app = App::with_config("[limits]\nmax_message_bytes = 10000\n");
    let path = app.dir().join("archive.mbox");
    let (offset, size) = mbox_with_a_huge_middle(&path, 5 << 20);
    let arg = path.to_str().unwrap();
    let (report, rss) = measured_json(&app, &["import", arg, "--json"], None);
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KB");
    assert_mbox_outcome(&app, &report, &path, offset, size, 10000);

    let (again, _) = measured_json(&app, &["import", arg, "--json"], None);
    assert_eq!(u64_of(&again, "created"), 0, "{again:#}");
    assert_eq!(quarantine(&app).len(), 1, "no second entry on a re-run");

    // The reference is followed: with the limit raised, the message is read and stored.
    app.rewrite_config("[limits]\nmax_message_bytes = 8000000\n");
    let id = u64_of(&quarantine(&app)[0], "id").to_string();
    let done = app.ok_json(&["quarantine", "reprocess", &id, "--json"]);
    assert_eq!(str_of(&done, "decision"), "created", "{done:#}");
    assert!(quarantine(&app).is_empty());
}

/// The real thing: a 2 GB entry, streamed through a named pipe (a sparse file would cost the
/// kernel seconds zero-filling 2 GB of page cache; the pipe costs only the copy).
#[test]
fn a_2_gb_mbox_entry_is_streamed_past_with_little_memory() {
    let app = App::new();
    let path = app.dir().join("archive.mbox");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        // Blocks until mailgate opens the pipe; fails (EPIPE) if it stops reading early.
        let mut pipe = File::options().write(true).open(&writer_path)?;
        write_mbox_with_a_huge_middle(&mut pipe, 2 * GIB)
    });
    let started = Instant::now();
    let args = [
        "import",
        path.to_str().unwrap(),
        "--format",
        "mbox",
        "--json",
    ];
    let (report, rss) = measured_json(&app, &args, None);
    eprintln!(
        "import of an mbox with a 2 GB entry: {:.1} s, peak RSS {rss} KB",
        started.elapsed().as_secs_f64()
    );
    let (offset, size) = writer.join().unwrap().expect("the whole mbox was written");
    assert!(rss < MAX_RSS_KB, "peak RSS {rss} KB");
    assert_mbox_outcome(&app, &report, &path, offset, size, 26_214_400);
}

#[track_caller]
fn assert_mbox_outcome(app: &App, report: &Value, path: &Path, offset: u64, size: u64, limit: u64) {
    assert_eq!(
        (
            u64_of(report, "read"),
            u64_of(report, "created"),
            u64_of(report, "quarantined")
        ),
        (3, 2, 1),
        "{report:#}"
    );
    let held = quarantine(app);
    assert_eq!(held.len(), 1, "{held:#?}");
    let entry = &held[0];
    assert!(bool_of(entry, "header_only"), "{entry:#}");
    assert_eq!(
        str_of(entry, "source"),
        format!("{}@{offset}", path.display())
    );
    let reason = str_of(entry, "reason");
    for part in [
        format!("message is {size} bytes"),
        format!("over the limit of {limit} bytes"),
        format!(
            "stays in the mbox {} at byte offset {offset}",
            path.display()
        ),
    ] {
        assert!(reason.contains(&part), "{part:?} not in {reason:?}");
    }
    let subjects: Vec<String> = app
        .tickets()
        .iter()
        .map(|t| str_of(t, "subject").to_string())
        .collect();
    assert_eq!(subjects, ["question 1", "question 2"]);
}
