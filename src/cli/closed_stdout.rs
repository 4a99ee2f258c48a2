//! A reader that goes away (`mailgate tickets list | head -2`) ends the command quietly with
//! exit 0, as other Unix tools end: scripts read the exit code, and a panic's 101 and its
//! "Broken pipe" on stderr would say the command failed.
//!
//! The Rust runtime ignores SIGPIPE, so a write to a closed pipe fails with `EPIPE`, and
//! `println!` panics on that failure. Every command prints with `println!`, so one panic hook
//! covers them all: a print to stdout that failed while stdout's reader is gone exits 0.
//! Any other panic, and a print that failed for another reason (a full disk), is reported as
//! before.

use std::io::ErrorKind;
use std::panic::PanicHookInfo;

/// Installs the hook; call once at start, before any thread is spawned.
pub fn exit_quietly_when_stdout_closes() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_stdout_print_failure(info) && stdout_reader_gone() {
            std::process::exit(0);
        }
        report(info);
    }));
}

/// Whether `error` is (or was caused by) a write to a pipe nobody reads: for commands that
/// write with `?` rather than `println!`.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
    }) && stdout_reader_gone()
}

/// `println!`'s panic message: "failed printing to stdout: Broken pipe (os error 32)".
fn is_stdout_print_failure(info: &PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    message.starts_with("failed printing to stdout")
}

/// Whether standard output is a pipe (or socket) whose reading end is closed: `poll` then
/// reports an error condition on it without blocking.
fn stdout_reader_gone() -> bool {
    #[cfg(unix)]
    {
        let mut fd = libc::pollfd {
            fd: libc::STDOUT_FILENO,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a zero timeout; poll only writes `revents`.
        let ready = unsafe { libc::poll(&mut fd, 1, 0) };
        ready > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_broken_pipes_count() {
        let other = anyhow::Error::new(std::io::Error::from(ErrorKind::StorageFull));
        assert!(!is_broken_pipe(&other));
        let plain = anyhow::anyhow!("no ticket SUP-9");
        assert!(!is_broken_pipe(&plain));
    }
}
