//! Running a command whose reader went away (`mailgate tickets list | head -2`): its stdout is
//! a pipe whose reading end is already closed, so every write to it fails. Both binaries must
//! then end quietly with exit 0 (issue 18, item 4); the tests of each use this runner.

use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a command run with a closed stdout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedStdoutRun {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs `cmd` (stdin closed) with a stdout nobody reads, to its end. A command still running
/// after `timeout` is killed and reported as an error (`TimedOut`).
pub fn run_with_closed_stdout(mut cmd: Command, timeout: Duration) -> io::Result<ClosedStdoutRun> {
    let (reader, writer) = io::pipe()?;
    drop(reader);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr_pipe = child.stderr.take();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = stderr_pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("still running after {timeout:?} (hang)"),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(ClosedStdoutRun {
        code: status.code(),
        stderr: stderr.join().unwrap_or_default(),
    })
}
