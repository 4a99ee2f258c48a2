//! Process memory figures for the benchmark, read from `/proc/self/status` (Linux only;
//! `None` elsewhere or when the file cannot be read), and the wall time and peak RSS of a
//! child process ([`run_measured`]).

use std::io;
use std::process::Command;
use std::time::{Duration, Instant};

/// How a child process run by [`run_measured`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// From spawning it to reaping it.
    pub wall: Duration,
    /// Its own peak resident set size, in bytes: its `VmHWM`, sampled until it exits.
    pub peak_rss: u64,
}

/// Runs `cmd` to its end (its stdio as set on `cmd`) and measures it: wall time, process
/// start included, and the peak RSS of that process alone. Past `timeout` it is killed and an
/// error returned.
///
/// The peak is the child's `VmHWM` (`/proc/<pid>/status`), read every millisecond or so while
/// it runs, not `wait4`'s `ru_maxrss`: Linux keeps the high-water mark of the memory a process
/// had before `exec` in that figure, and a child spawned with `vfork` (as `Command` does) had
/// its parent's, so a benchmark that held a big archive would see its own peak.
#[cfg(unix)]
pub fn run_measured(cmd: &mut Command, timeout: Duration) -> io::Result<Measured> {
    let started = Instant::now();
    // Reaped by wait4 below, which also reports its peak RSS (Child::wait cannot).
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut pause = Duration::from_micros(200);
    let status_file = format!("/proc/{pid}/status");
    let mut sampled = None;
    loop {
        if let Some(peak) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| parse_field(&status, "VmHWM:"))
        {
            sampled = Some(peak);
        }
        // SAFETY: wait4 on our own child with valid pointers to locals; WNOHANG returns 0
        // while it runs.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done < 0 {
            return Err(io::Error::last_os_error());
        }
        if done == pid {
            break;
        }
        if started.elapsed() > timeout {
            // SAFETY: the child has not been reaped, so the pid is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above; reaps the killed child.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("killed after {timeout:?}"),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
    let wall = started.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(Measured {
        code,
        wall,
        // A child too quick to be sampled: its ru_maxrss (kilobytes), an upper bound.
        peak_rss: sampled.unwrap_or_else(|| {
            u64::try_from(usage.ru_maxrss)
                .unwrap_or(0)
                .saturating_mul(1024)
        }),
    })
}

/// Peak resident set size so far (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_field("VmHWM:")
}

/// Current resident set size (`VmRSS`), in bytes.
pub fn current_rss_bytes() -> Option<u64> {
    status_field("VmRSS:")
}

/// Resets the peak (`VmHWM`) to the current RSS by writing `5` to `/proc/self/clear_refs`, so
/// a phase (an import after generating its archive) can be measured on its own. Returns
/// whether the kernel accepted it.
pub fn reset_peak_rss() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::write("/proc/self/clear_refs", b"5").is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(target_os = "linux")]
fn status_field(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_field(&status, key)
}

#[cfg(not(target_os = "linux"))]
fn status_field(_key: &str) -> Option<u64> {
    None
}

/// Finds `key` (e.g. `VmHWM:`) in a `/proc/<pid>/status` text; values are in kB.
fn parse_field(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    let mut parts = line[key.len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next() {
        Some(unit) if unit.eq_ignore_ascii_case("kb") => 1024,
        Some(unit) if unit.eq_ignore_ascii_case("mb") => 1024 * 1024,
        Some(_) => return None,
        None => 1,
    };
    value.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let status = "Name:\tx\nVmPeak:\t  200 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_field(status, "VmHWM:"), Some(1234 * 1024));
        assert_eq!(parse_field(status, "VmRSS:"), Some(1000 * 1024));
        assert_eq!(parse_field(status, "VmSwap:"), None);
        assert_eq!(parse_field("VmHWM: x kB\n", "VmHWM:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn measures_a_child_alone() {
        // A child that touches 64 MB: its peak is at least that, and exit codes come back.
        let mut touch = Command::new("sh");
        touch.args([
            "-c",
            "head -c 67108864 /dev/zero | tail -c 1 >/dev/null; exit 3",
        ]);
        let measured = run_measured(&mut touch, Duration::from_secs(30)).unwrap();
        assert_eq!(measured.code, Some(3));
        assert!(measured.wall > Duration::ZERO);
        assert!(measured.peak_rss < 32 << 20, "pipes stream: {measured:?}");
        let mut grow = Command::new("sh");
        grow.args([
            "-c",
            "x=$(head -c 50000000 /dev/zero | tr '\\0' a); sleep 0.05",
        ]);
        let grown = run_measured(&mut grow, Duration::from_secs(30)).unwrap();
        assert_eq!(grown.code, Some(0));
        assert!(grown.peak_rss > 50_000_000, "{grown:?}");
        // This process's memory is not the child's.
        let held = vec![1u8; 200 << 20];
        let mut small = Command::new("sleep");
        small.arg("0.05");
        let small = run_measured(&mut small, Duration::from_secs(30)).unwrap();
        assert_eq!(small.code, Some(0));
        assert!(small.peak_rss > 0 && small.peak_rss < 32 << 20, "{small:?}");
        drop(std::hint::black_box(held));
        let mut slow = Command::new("sleep");
        slow.arg("10");
        let err = run_measured(&mut slow, Duration::from_millis(100)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_process() {
        let peak = peak_rss_bytes().unwrap();
        let current = current_rss_bytes().unwrap();
        assert!(current > 0 && peak >= current / 2, "{peak} {current}");
    }
}
