//! The test mail stack as the benchmarks see it: [`StackEnv`] from `STATE_DIR/env` (ports, CA,
//! password), a check that the daemons answer, the shared lock the integration tests hold too,
//! and a fresh user per run (`mailstack.sh add-user`), so repeated runs never see each other's
//! mail. The mechanics are in `mailgate-test-support`; this adds the benchmark's wording.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mailgate_test_support::locks::{SharedLock, StackLocks};
use mailgate_test_support::{StackEnv, StackError, users};

/// A running stack.
#[derive(Debug, Clone)]
pub struct Stack {
    env: StackEnv,
}

impl Deref for Stack {
    type Target = StackEnv;

    fn deref(&self) -> &StackEnv {
        &self.env
    }
}

const HINT: &str = "start it with `scripts/mailstack.sh start` (or point --state-dir / \
                    MAILSTACK_STATE_DIR at a running stack)";

impl Stack {
    /// Reads `STATE_DIR/env` and checks that IMAPS, IMAP and SMTP accept connections.
    pub fn load(state_dir: &Path) -> anyhow::Result<Stack> {
        let env = match StackEnv::load(state_dir) {
            Ok(env) => env,
            Err(e @ StackError::NotRunning { .. }) => bail!("{e}: {HINT}"),
            Err(e) => return Err(e.into()),
        };
        if !env.ca_file.is_file() {
            bail!(
                "the stack's CA file {} (MAILSTACK_CA_FILE) does not exist",
                env.ca_file.display()
            );
        }
        Ok(Stack { env })
    }

    /// A stack described by `env` as it is (no checks: tests).
    #[cfg(test)]
    pub fn from_env(env: StackEnv) -> Stack {
        Stack { env }
    }

    /// A user name no earlier run used: `bench-<pid>-<unix seconds>@it.example.test`.
    pub fn fresh_address(&self) -> String {
        users::fresh_address("bench", &self.it_domain)
    }

    /// Creates `address` with the stack's password: `mailstack.sh add-user ADDRESS`.
    pub fn add_user(&self, script: &Path, address: &str) -> anyhow::Result<()> {
        users::add_user(script, &self.state_dir, address, None).with_context(|| {
            "--user ADDRESS runs the benchmark as an existing user of the stack whose INBOX is \
             empty, e.g. oncall@example.test"
        })
    }

    /// Takes the stack's shared lock, the one integration tests hold: a test that restarts
    /// Dovecot takes it exclusively, so it waits until the benchmark is done instead of
    /// cutting its sessions in the middle of a measurement. Released on drop. Blocking.
    pub fn shared_lock(&self) -> anyhow::Result<SharedLock> {
        let lock = StackLocks::new(&self.state_dir).shared(|path| {
            eprintln!(
                "bench: waiting for {} (a test is restarting the stack's Dovecot)",
                path.display()
            );
        })?;
        Ok(lock)
    }
}

/// The stack's script: the one given, else `scripts/mailstack.sh` under the current
/// directory, else under the source tree this binary was built from.
pub fn find_script(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    users::find_script(explicit).map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_stack_is_reported_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let err = Stack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not running"), "{err}");
        assert!(err.contains("mailstack.sh start"), "{err}");
    }

    #[test]
    fn fresh_addresses_fit_add_user() {
        let dir = tempfile::tempdir().unwrap();
        let stack = Stack::from_env(crate::imap::tests::stack_env(
            dir.path(),
            "/ca.pem".as_ref(),
        ));
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
