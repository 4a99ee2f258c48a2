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
