//! Running the binary and reading what it cost.
//!
//! CPU: the child's own user + system time from `wait4` (per child, so tests running in
//! parallel do not blur the figures, unlike `getrusage(RUSAGE_CHILDREN)`).
//!
//! Peak RSS: `wait4`'s `ru_maxrss` cannot be used from here. Linux carries the high-water mark
//! of the memory a process replaces at `exec` into its `ru_maxrss`, and a child spawned by
//! this test process starts as a copy of it (or shares it, with `posix_spawn`), so every child
//! would report at least this process's own peak. GNU time forks the binary from its own tiny
//! process and reports the real figure, so the command runs under `/usr/bin/time -f %M`
//! (package `time`, installed by `scripts/test.sh`); without it the test fails.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::Run;

/// What one run of the binary cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, KiB; `None` without GNU time.
    pub max_rss_kib: Option<u64>,
}

const GNU_TIME: &str = "/usr/bin/time";

/// `cmd` run by GNU time writing the peak RSS (KiB) to `report`, or `cmd` itself without it.
fn under_gnu_time(cmd: Command, report: &Path) -> Command {
    assert!(
        Path::new(GNU_TIME).is_file(),
        "{GNU_TIME} is missing: install the package `time` (scripts/test.sh does)"
    );
    let mut wrapped = Command::new(GNU_TIME);
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// Runs `cmd` (stdin from the file `stdin`, else closed; output captured) to its end, failing
/// after `timeout`. `report` is a scratch file for GNU time.
pub fn run_measured(
    cmd: Command,
    report: &Path,
    shown: &str,
    timeout: Duration,
    stdin: Option<&Path>,
) -> (Run, Cost) {
    let _ = std::fs::remove_file(report);
    let mut cmd = under_gnu_time(cmd, report);
    let stdin = match stdin {
        Some(path) => Stdio::from(
            std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        ),
        None => Stdio::null(),
    };
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Reaped below by `wait4`, which std's `wait` would not let us call for the rusage.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let output = crate::support::collect_output(&mut child);
    let deadline = Instant::now() + timeout;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std never waited for it); status
        // and usage point to live locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(
            reaped >= 0,
            "wait4 failed: {}",
            std::io::Error::last_os_error()
        );
        if reaped == pid {
            break;
        }
        if Instant::now() >= deadline && !timed_out {
            timed_out = true;
            let _ = child.kill();
        }
        thread::sleep(Duration::from_millis(5));
    }
    let (stdout, stderr) = output();
    let run = Run {
        args: vec![shown.to_string()],
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout,
        stderr,
    };
    assert!(!timed_out, "timed out after {timeout:?} (hang)\n{run}");
    let seconds = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cost = Cost {
        // GNU time's own share is a millisecond or two.
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        max_rss_kib: std::fs::read_to_string(report)
            .ok()
            .and_then(|text| text.trim().lines().last()?.trim().parse().ok()),
    };
    (run, cost)
}
