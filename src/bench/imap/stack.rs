//! The test mail stack as the benchmark sees it (`scripts/mailstack.sh`, docs/mailstack.md):
//! ports, CA and password from `STATE_DIR/env`, a check that the daemons answer, and a fresh
//! user per run (`mailstack.sh add-user`), so repeated runs never see each other's mail.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The domain whose users `mailstack.sh add-user` creates (when the env file does not say).
const DEFAULT_IT_DOMAIN: &str = "it.example.test";
/// Longest wait for the stack's shared lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// What the benchmark needs from a running stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub state_dir: PathBuf,
    pub host: String,
    pub imaps_port: u16,
    pub imap_port: u16,
    pub smtp_port: u16,
    pub ca_file: PathBuf,
    pub password: String,
    pub it_domain: String,
}

impl Stack {
    /// Reads `STATE_DIR/env` and checks that IMAPS, IMAP and SMTP accept connections.
    pub fn load(state_dir: &Path) -> anyhow::Result<Stack> {
        let state_dir = std::path::absolute(state_dir)
            .with_context(|| format!("cannot resolve {}", state_dir.display()))?;
        let env_file = state_dir.join("env");
        let hint = "start it with `scripts/mailstack.sh start` (or point --state-dir / \
                    MAILSTACK_STATE_DIR at a running stack)";
        let text = match std::fs::read_to_string(&env_file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "the test mail stack in {} is not running (no {}): {hint}",
                state_dir.display(),
                env_file.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", env_file.display()));
            }
        };
        let env = parse_env(&text);
        let get = |key: &str| {
            env.get(key)
                .filter(|v| !v.is_empty())
                .cloned()
                .with_context(|| format!("{} has no {key}", env_file.display()))
        };
        let port = |key: &str| -> anyhow::Result<u16> {
            let value = get(key)?;
            value
                .parse()
                .with_context(|| format!("{key}={value:?} in {} is not a port", env_file.display()))
        };
        let stack = Stack {
            host: get("MAILSTACK_HOST").unwrap_or_else(|_| "127.0.0.1".into()),
            imaps_port: port("MAILSTACK_IMAPS_PORT")?,
            imap_port: port("MAILSTACK_IMAP_PORT")?,
            smtp_port: port("MAILSTACK_SMTP_PORT")?,
            ca_file: PathBuf::from(get("MAILSTACK_CA_FILE")?),
            password: get("MAILSTACK_PASSWORD")?,
            it_domain: get("MAILSTACK_IT_DOMAIN").unwrap_or_else(|_| DEFAULT_IT_DOMAIN.into()),
            state_dir,
        };
        for (name, port) in [
            ("IMAPS", stack.imaps_port),
            ("IMAP", stack.imap_port),
            ("SMTP", stack.smtp_port),
        ] {
            let addr: SocketAddr = format!("{}:{port}", stack.host)
                .parse()
                .with_context(|| format!("MAILSTACK_HOST {:?} is not an IP address", stack.host))?;
            if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
                bail!(
                    "the test mail stack in {} is not running: {name} port {addr} does not \
                     answer ({e}); {hint}",
                    stack.state_dir.display()
                );
            }
        }
        if !stack.ca_file.is_file() {
            bail!(
                "the stack's CA file {} (MAILSTACK_CA_FILE) does not exist",
                stack.ca_file.display()
            );
        }
        Ok(stack)
    }

    /// A user name no earlier run used: `bench-<pid>-<unix seconds>@it.example.test`.
    pub fn fresh_address(&self) -> String {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!("bench-{}-{secs}@{}", std::process::id(), self.it_domain)
    }

    /// Creates `address` with the stack's password: `mailstack.sh add-user ADDRESS`.
    pub fn add_user(&self, script: &Path, address: &str) -> anyhow::Result<()> {
        let output = std::process::Command::new(script)
            .arg("add-user")
            .arg(address)
            .env("MAILSTACK_STATE_DIR", &self.state_dir)
            .output()
            .with_context(|| format!("cannot run {}", script.display()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            bail!(
                "`{} add-user {address}` failed ({}): {}\n(--user ADDRESS runs the benchmark as \
                 an existing user of the stack whose INBOX is empty, e.g. oncall@example.test)",
                script.display(),
                output.status,
                [stderr.trim(), stdout.trim()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        Ok(())
    }
}

/// The stack's shared lock, the one integration tests hold (tests/it/support/mailstack.rs):
/// a test that restarts Dovecot takes it exclusively, so it waits until the benchmark is done
/// instead of cutting its sessions in the middle of a measurement. Released on drop.
#[derive(Debug)]
pub struct SharedLock {
    _lock: File,
}

impl Stack {
    /// Takes the shared lock: the gate (held by a waiting exclusive holder) first, so the
    /// benchmark queues behind a test that is about to restart Dovecot.
    pub fn shared_lock(&self) -> anyhow::Result<SharedLock> {
        let gate = self.lock_file("gate")?;
        let lock = self.lock_file("stack")?;
        drop(gate);
        Ok(SharedLock { _lock: lock })
    }

    fn lock_file(&self, name: &str) -> anyhow::Result<File> {
        let path = self.state_dir.join(format!(".test-{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the stack lock {}", path.display()))?;
        let deadline = Instant::now() + LOCK_TIMEOUT;
        let mut said = false;
        loop {
            match file.try_lock_shared() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    if !said {
                        eprintln!(
                            "bench imap: waiting for {} (a test is restarting the stack's Dovecot)",
                            path.display()
                        );
                        said = true;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    bail!(
                        "waited {LOCK_TIMEOUT:?} for the stack lock {}",
                        path.display()
                    )
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
    }
}

/// The stack's script: the one given, else `scripts/mailstack.sh` under the current
/// directory, else under the source tree this binary was built from.
pub fn find_script(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        bail!("{} does not exist", path.display());
    }
    let candidates = [
        PathBuf::from("scripts/mailstack.sh"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailstack.sh"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .context("cannot find scripts/mailstack.sh (run from the repository or pass --mailstack)")
}

/// `KEY=VALUE` lines; `#` comments and blank lines skipped; split on the first `=`.
fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines() {
        let env = parse_env("# comment\nA=1\n\nB=x=y\nMAILSTACK_PASSWORD=secret\nnot a pair\n");
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "x=y");
        assert_eq!(env["MAILSTACK_PASSWORD"], "secret");
        assert_eq!(env.len(), 3);
    }

    #[test]
    fn missing_stack_is_reported_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let err = Stack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not running"), "{err}");
        assert!(err.contains("mailstack.sh start"), "{err}");
    }

    #[test]
    fn fresh_addresses_fit_add_user() {
        let stack = Stack {
            state_dir: PathBuf::from("/x"),
            host: "127.0.0.1".into(),
            imaps_port: 1,
            imap_port: 2,
            smtp_port: 3,
            ca_file: PathBuf::from("/ca.pem"),
            password: "secret".into(),
            it_domain: DEFAULT_IT_DOMAIN.into(),
        };
        let address = stack.fresh_address();
        let (local, domain) = address.split_once('@').unwrap();
        assert_eq!(domain, "it.example.test");
        assert!(local.len() <= 64);
        assert!(
            local
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
}
