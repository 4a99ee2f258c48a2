//! The stack's locks: a test (or benchmark) that disturbs the stack for everybody (restarting
//! Dovecot) holds it exclusively; everything else using the stack holds it shared for its
//! whole duration. They are file locks in the state directory (`.test-gate.lock`,
//! `.test-stack.lock`), so they serialise every process sharing the stack: test binaries,
//! cargo-nextest, `mailgate-bench`. A waiting exclusive holder keeps the gate, which lets no
//! new shared holder in (no starvation). Blocking calls: from async code, run them on
//! `spawn_blocking`.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest wait for a stack lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// Held by whoever uses the stack without disturbing it. Released on drop.
#[derive(Debug)]
pub struct SharedLock {
    _lock: File,
}

/// Held by whoever disturbs the stack (e.g. restarts Dovecot). Released on drop.
#[derive(Debug)]
pub struct ExclusiveLock {
    _gate: File,
    _lock: File,
}

/// A lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Held by someone else for longer than [`LOCK_TIMEOUT`].
    TimedOut(PathBuf),
    /// The lock file cannot be opened or locked.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::TimedOut(path) => write!(
                f,
                "waited {LOCK_TIMEOUT:?} for the stack lock {} (a test holding `shared` that \
                 asks for `exclusive` waits for itself)",
                path.display()
            ),
            LockError::Io(path, e) => write!(f, "cannot lock {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for LockError {}

/// The stack's lock files, in its state directory.
#[derive(Debug, Clone)]
pub struct StackLocks {
    state_dir: PathBuf,
}

impl StackLocks {
    pub fn new(state_dir: &Path) -> StackLocks {
        StackLocks {
            state_dir: state_dir.to_path_buf(),
        }
    }

    /// Takes the stack shared: the gate first (held by a waiting or running exclusive
    /// holder), so new shared holders queue behind it instead of starving it.
    /// `on_wait` is called once with the lock's path when it has to wait.
    pub fn shared(&self, on_wait: impl FnMut(&Path)) -> Result<SharedLock, LockError> {
        let mut on_wait = on_wait;
        let gate = lock_file(&self.path("gate"), false, &mut on_wait)?;
        let lock = lock_file(&self.path("stack"), false, &mut on_wait)?;
        drop(gate);
        Ok(SharedLock { _lock: lock })
    }

    /// Takes the stack exclusively: waits until every shared holder is done.
    pub fn exclusive(&self) -> Result<ExclusiveLock, LockError> {
        Ok(ExclusiveLock {
            _gate: lock_file(&self.path("gate"), true, &mut |_: &Path| {})?,
            _lock: lock_file(&self.path("stack"), true, &mut |_: &Path| {})?,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.state_dir.join(format!(".test-{name}.lock"))
    }
}

/// Opens (creating) a lock file and locks it, polling so that a stuck holder is an error.
fn lock_file(
    path: &Path,
    exclusive: bool,
    on_wait: &mut impl FnMut(&Path),
) -> Result<File, LockError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| LockError::Io(path.to_path_buf(), e))?;
    let deadline = Instant::now() + LOCK_TIMEOUT;
    let mut waited = false;
    loop {
        let result = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match result {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                if !waited {
                    on_wait(path);
                    waited = true;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(TryLockError::WouldBlock) => return Err(LockError::TimedOut(path.to_path_buf())),
            Err(TryLockError::Error(e)) => return Err(LockError::Io(path.to_path_buf(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_holders_coexist_and_keep_the_exclusive_one_out() {
        let dir = tempfile::tempdir().unwrap();
        let locks = StackLocks::new(dir.path());
        let first = locks.shared(|_| {}).unwrap();
        let second = locks.shared(|_| {}).unwrap();
        let stack = File::open(dir.path().join(".test-stack.lock")).unwrap();
        assert!(matches!(stack.try_lock(), Err(TryLockError::WouldBlock)));
        drop((first, second));
        let exclusive = locks.exclusive().unwrap();
        let other = File::open(dir.path().join(".test-gate.lock")).unwrap();
        assert!(matches!(
            other.try_lock_shared(),
            Err(TryLockError::WouldBlock)
        ));
        drop(exclusive);
        assert!(other.try_lock_shared().is_ok());
    }
}
