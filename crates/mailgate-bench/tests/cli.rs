//! The `mailgate-bench` binary's command line: its help, `generate` (the archive the tests'
//! generator writes, byte for byte), and a reader that goes away (moved here from
//! tests/it/closed_stdout.rs and tests/it/help_texts.rs when the benchmarks left `mailgate`).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use mailgate_test_support::closed_stdout;

const BIN: &str = env!("CARGO_BIN_EXE_mailgate-bench");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_help_lists_every_benchmark() {
    let out = run(&["--help"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let help = text(&out.stdout);
    for command in ["generate", "import", "imap", "outbox"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "{command} is listed\n{help}"
        );
    }
    for command in ["generate", "import", "imap", "outbox"] {
        let out = run(&[command, "--help"]);
        assert!(
            out.status.success(),
            "{command} --help\n{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn generate_writes_the_archive_of_the_generator_library() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("archive.mbox");
    let out = run(&[
        "generate",
        file.to_str().unwrap(),
        "--messages",
        "50",
        "--seed",
        "7",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("50 messages"), "{stdout}");
    let written = std::fs::read(&file).unwrap();
    let mut expected = Vec::new();
    mailgate_test_support::write_mbox(
        &mailgate_test_support::ArchiveSpec::new(50, 7),
        &mut expected,
    )
    .unwrap();
    assert_eq!(
        written, expected,
        "the binary and the library write the same archive"
    );
}

#[test]
fn generate_ends_quietly_when_its_reader_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated.mbox");
    let (code, stderr) =
        run_with_closed_stdout(&["generate", generated.to_str().unwrap(), "--messages", "5"]);
    assert_eq!(
        code,
        Some(0),
        "generate with a closed stdout must exit 0\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "generate with a closed stdout must end quietly\n{stderr}"
    );
    assert!(generated.is_file(), "generate wrote its archive");
    assert_archive(&generated, 5);
}

/// Runs `args` with a stdout whose reading end is already closed: every write to it fails.
fn run_with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    let run = closed_stdout::run_with_closed_stdout(cmd, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("mailgate-bench {args:?}: {e}"));
    (run.code, run.stderr)
}

fn assert_archive(path: &Path, messages: usize) {
    let bytes = std::fs::read(path).unwrap();
    let from_lines = bytes
        .split(|&b| b == b'\n')
        .filter(|line| line.starts_with(b"From "))
        .count();
    assert_eq!(from_lines, messages, "{}", path.display());
}

#[test]
fn generate_writes_messages_of_the_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.mbox");
    let out = run(&[
        "generate",
        file.to_str().unwrap(),
        "--archive-size",
        "2M",
        "--message-size",
        "40K",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::metadata(&file).unwrap().len();
    assert!((1_600_000..=2_400_000).contains(&bytes), "{bytes}");
    let messages = std::fs::read(&file)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|line| line.starts_with(b"From "))
        .count() as u64;
    let average = bytes / messages;
    assert!((32_000..=46_000).contains(&average), "average {average}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{messages} messages")), "{stdout}");
}

/// `import` runs the real `mailgate` binary: the one the workspace build put next to this one.
#[test]
fn import_measures_the_ceiling_and_the_cli_import() {
    let mailgate = Path::new(BIN).with_file_name("mailgate");
    assert!(
        mailgate.is_file(),
        "{} is missing: build the workspace (cargo build --workspace)",
        mailgate.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let out = run(&[
        "import",
        "--messages",
        "60",
        "--message-size",
        "12K",
        "--dir",
        work.to_str().unwrap(),
        "--mailgate",
        mailgate.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for phase in [
        "mail-parser, 1 thread ".to_string(),
        format!("mail-parser, {cores} threads "),
        "import (CLI) ".to_string(),
        "re-import (CLI) ".to_string(),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&phase) && l.contains(" 60 msgs ")),
            "{phase:?} of 60 messages in\n{stdout}"
        );
    }
    for line in [
        "re-import: 0 new tickets, 60 duplicates of 60 read",
        "of the 1-thread mail-parser ceiling",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }
    let rss = stdout
        .lines()
        .find(|l| l.starts_with("import (CLI)"))
        .and_then(|l| l.split("peak RSS ").nth(1))
        .and_then(|v| v.trim_end_matches(" MB").parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no peak RSS in\n{stdout}"));
    assert!(rss > 1.0 && rss < 500.0, "{rss}");
    assert!(work.join("bench.db").is_file(), "the database of the runs");
    assert!(
        work.join("archive.mbox").is_file(),
        "a work directory given is kept"
    );
}
