//! `scripts/quickstart.sh` as a newcomer meets it (issue 18, item 12): it says what it is doing
//! and how to stop the mail stack it leaves running, and `scripts/quickstart.sh stop` stops it.
//! The quick start itself (a release build and a live run) is what the README's first command
//! does; these tests cover its command line, and the stop path on a state directory of its own
//! (never the shared stack the other tests use).

use std::process::Command;

use crate::support::{Run, manifest_dir};

fn quickstart(args: &[&str], state_dir: &std::path::Path) -> Run {
    let output = Command::new(manifest_dir().join("scripts/quickstart.sh"))
        .args(args)
        .env("MAILSTACK_STATE_DIR", state_dir)
        .output()
        .expect("cannot run scripts/quickstart.sh");
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn stop_names_the_stack_and_is_quiet_when_none_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = quickstart(&["stop"], dir.path());
    run.expect_success();
    assert!(
        run.stdout.contains(&format!(
            "stopping the test mail stack of {}",
            dir.path().display()
        )) && run.stdout.contains("not running"),
        "{run}"
    );
}

#[test]
fn help_shows_the_stop_command_and_a_wrong_argument_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let help = quickstart(&["--help"], dir.path());
    help.expect_success();
    assert!(help.stdout.contains("scripts/quickstart.sh stop"), "{help}");
    let wrong = quickstart(&["start-everything"], dir.path());
    wrong.expect_code(2);
    assert!(
        wrong.stderr.contains("usage: scripts/quickstart.sh [stop]"),
        "{wrong}"
    );
}

/// The script tells what takes long (the first build) instead of compiling in silence, shows
/// cargo's progress, and ends by printing how to stop what it left running.
#[test]
fn the_script_announces_the_build_and_the_stop_command() {
    let script = std::fs::read_to_string(manifest_dir().join("scripts/quickstart.sh")).unwrap();
    let build = script
        .lines()
        .find(|l| l.trim_start().starts_with("cargo build"))
        .expect("the quick start builds mailgate");
    assert!(
        !build.contains("--quiet"),
        "cargo's progress is shown: {build}"
    );
    assert!(
        script.contains("takes\"\necho \"   several minutes"),
        "the wait is announced"
    );
    let last_echo = script
        .lines()
        .rev()
        .find(|l| l.starts_with("echo"))
        .unwrap();
    assert!(
        last_echo.contains("scripts/quickstart.sh stop"),
        "{last_echo}"
    );
}
