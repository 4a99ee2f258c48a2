//! Harness for integration tests against the project's test mail stack: Dovecot (IMAP, LMTP) and
//! Postfix (SMTP) on 127.0.0.1, run by `scripts/mailstack.sh` (see docs/mailstack.md). The
//! mechanics shared with `mailgate-bench` (env file, locks, the script, an SMTP sender) are in
//! the `mailgate-test-support` crate; this wraps them the way tests want: panics with context.
//!
//! - [`MailStack::get`] reads the running stack's env file (`$MAILSTACK_STATE_DIR/env`, default
//!   `.state/mailstack/env` in the repository) once per process. No running stack → the test
//!   PANICS and says how to start one: tests that need the mail stack fail, they never skip.
//! - [`MailStack::new_user`] creates a fresh user `<tag>-<pid>-<n>@it.example.test` (through
//!   `scripts/mailstack.sh add-user`, which needs root like the rest of the stack, ~50 ms): one or
//!   more per test, so parallel tests never see each other's mail. Postfix routes every address of
//!   `it.example.test` to Dovecot (`user+tag@` lands in the user's INBOX); an address nobody added
//!   bounces (it does not reach the catch-all).
//! - IMAP: [`MailStack::login`] and the helpers of [`TestUser`] (support/mailstack_imap.rs).
//! - [`MailStack::send_smtp`] is a small SMTP client for the stack's SMTP port (no TLS, no AUTH)
//!   that returns the server's reply on failure.
//! - Locks: a test that disturbs the stack for everybody (restarting Dovecot) holds
//!   [`MailStack::exclusive`]; every other test using the stack holds [`MailStack::shared`] for its
//!   whole duration (`let _lock = stack.shared().await;`). They are file locks in the state
//!   directory, so they also serialise test processes (other test binaries, cargo-nextest,
//!   `mailgate-bench`) sharing the stack. A waiting exclusive lock lets no new shared lock in (no
//!   starvation). Never take `exclusive` while holding `shared` in the same test: that waits for
//!   itself (and panics after 10 minutes).
//!
//! Async or not: the helpers are async (tokio) for `#[tokio::test]`; the current-thread runtime
//! of `#[tokio::test]` is enough. Synchronous tests wrap calls in [`block_on`] (a current-thread
//! runtime per call; not usable inside a runtime). [`MailStack::get`] and
//! [`MailStack::new_user`] are synchronous (they block for a few milliseconds).
//!
//! The harness's own tests are in tests/it/mailstack_harness.rs.

use std::{
    future::Future,
    ops::Deref,
    path::{Path, PathBuf},
    process::Output,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

pub use mailgate_test_support::locks::{ExclusiveLock, SharedLock};
pub use mailgate_test_support::smtp::SmtpError;
use mailgate_test_support::{StackEnv, StackError, locks::StackLocks, smtp, users};

use super::mailstack_imap::{TestUser, logout};
use super::manifest_dir;

/// The domain whose users are created at runtime ([`MailStack::new_user`]).
pub const IT_DOMAIN: &str = "it.example.test";

/// The running test mail stack, as described by its env file: its fields are those of
/// [`StackEnv`] (`host`, `imap_port`, `smtp_port`, `ca_file`, `password`, ...).
#[derive(Debug)]
pub struct MailStack {
    env: StackEnv,
}

impl Deref for MailStack {
    type Target = StackEnv;

    fn deref(&self) -> &StackEnv {
        &self.env
    }
}

static STACK: OnceLock<MailStack> = OnceLock::new();
static NEXT_USER: AtomicU32 = AtomicU32::new(1);

impl MailStack {
    /// The running stack; panics (with how to start it) when there is none.
    pub fn get() -> &'static MailStack {
        STACK.get_or_init(MailStack::load)
    }

    fn load() -> MailStack {
        let state_dir = match std::env::var_os("MAILSTACK_STATE_DIR") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if dir.is_relative() {
                    manifest_dir().join(dir)
                } else {
                    dir
                }
            }
            _ => manifest_dir().join(".state/mailstack"),
        };
        let env = StackEnv::read(&state_dir)
            .and_then(|env| {
                env.check_listening(&[("IMAP", env.imap_port), ("SMTP", env.smtp_port)])?;
                Ok(env)
            })
            .unwrap_or_else(|e| match e {
                StackError::NotRunning { state_dir, why } => {
                    panic!("{}", not_running(&state_dir, &why))
                }
                StackError::Invalid(why) => panic!("{why}"),
            });
        MailStack { env }
    }

    /// A fresh user `<tag>-<pid>-<n>@it.example.test` with its own password, known to Dovecot
    /// when this returns. `tag`: lowercase letters, digits, `-`, `.`, `_` (name it after the test).
    /// Never an address used before, not even by an earlier test run.
    pub fn new_user(&'static self, tag: &str) -> TestUser {
        assert!(
            tag.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && tag.chars().all(|c| c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, '-' | '.' | '_')),
            "new_user tag {tag:?}: use lowercase letters, digits, '-', '.', '_'"
        );
        let pid = std::process::id();
        let (address, n) = loop {
            let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
            let local = format!("{tag}-{pid}-{n}");
            assert!(local.len() <= 64, "new_user tag {tag:?} is too long");
            let address = format!("{local}@{IT_DOMAIN}");
            // pids repeat across test runs: skip addresses that already have a users file or mail.
            if !self.users_dir.join(&address).exists()
                && !self.mail_dir.join(IT_DOMAIN).join(&local).exists()
            {
                break (address, n);
            }
        };
        self.add_user(&address, &format!("pw-{pid}-{n}"))
    }

    /// Adds (or updates) `address` of `it.example.test` with `password`: `scripts/mailstack.sh
    /// add-user`. Prefer [`MailStack::new_user`], which picks an unused address.
    pub fn add_user(&'static self, address: &str, password: &str) -> TestUser {
        users::add_user(&script_path(), &self.state_dir, address, Some(password))
            .unwrap_or_else(|e| panic!("{e}"));
        TestUser {
            address: address.to_ascii_lowercase(),
            password: password.to_string(),
            stack: self,
        }
    }

    /// One of the fixed users of the stack (`support@example.test`, `catchall@example.test`, ...),
    /// with the stack's common password. Shared by every test: do not expect it to be empty.
    pub fn fixed_user(&'static self, address: &str) -> TestUser {
        TestUser {
            address: address.to_string(),
            password: self.password.clone(),
            stack: self,
        }
    }

    /// Runs `scripts/mailstack.sh ARGS` for this stack; panics with its output when it fails.
    fn script(&self, args: &[&str]) -> Output {
        users::run_script(&script_path(), &self.state_dir, args, &args.join(" "))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Takes the stack shared: hold it for the whole test (`let _lock = stack.shared().await;`)
    /// in every test that uses the stack without disturbing it.
    pub async fn shared(&self) -> SharedLock {
        let locks = StackLocks::new(&self.state_dir);
        tokio::task::spawn_blocking(move || locks.shared(|_| {}))
            .await
            .expect("shared stack lock")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Takes the stack exclusively (waits until every shared holder is done): for tests that
    /// disturb it for everybody, like [`MailStack::restart_dovecot`].
    pub async fn exclusive(&self) -> ExclusiveLock {
        let locks = StackLocks::new(&self.state_dir);
        tokio::task::spawn_blocking(move || locks.exclusive())
            .await
            .expect("exclusive stack lock")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Restarts Dovecot only (`scripts/mailstack.sh restart-dovecot`: stop by pid, start, wait for
    /// the ports, flush Postfix's deferred mail). Users and mail stay; every IMAP connection is
    /// cut, hence the exclusive lock. Returns once a login works again.
    pub async fn restart_dovecot(&'static self, _exclusive: &ExclusiveLock) {
        tokio::task::spawn_blocking(move || self.script(&["restart-dovecot"]))
            .await
            .expect("restart-dovecot");
        logout(self.fixed_user(&self.catchall).session().await).await;
    }

    /// The pid of Dovecot's master process (changes with every restart).
    pub fn dovecot_pid(&self) -> u32 {
        let path = self.state_dir.join("pids/dovecot.pid");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{} holds no pid: {text:?}", path.display()))
    }

    /// Submits `raw` over SMTP (127.0.0.1:`smtp_port`, no TLS, no AUTH) from `from` to `to`.
    /// Dot-stuffing is done here and bare LF line ends go out as CRLF. Ok: the server's reply to
    /// the end of data (`250 2.0.0 Ok: queued as ...`). Err: the step and the server's reply.
    pub async fn send_smtp(
        &self,
        from: &str,
        to: &[&str],
        raw: &[u8],
    ) -> Result<String, SmtpError> {
        assert!(!to.is_empty(), "send_smtp needs at least one recipient");
        smtp::send_one(
            &self.smtp_addr(),
            "harness.mailgate.test",
            from,
            to,
            raw,
            Duration::from_secs(60),
        )
        .await
    }
}

/// The stack's script in this repository.
fn script_path() -> PathBuf {
    manifest_dir().join("scripts/mailstack.sh")
}

fn not_running(state_dir: &Path, why: &str) -> String {
    format!(
        "the test mail stack is not running ({why}).\n\
         Start it as root on Debian 12:  scripts/mailstack.sh install && scripts/mailstack.sh start\n\
         (scripts/test.sh does both). The stack used is the one in $MAILSTACK_STATE_DIR, else \
         .state/mailstack; now: {}.\n\
         Tests that need the mail stack fail without it, they never skip.",
        state_dir.display()
    )
}

/// Polls `condition` every 50 ms until it is true; panics after `timeout` naming `what`.
/// `condition` is an async closure (`async || user.uids("INBOX").await.len() == 3`), which may
/// keep what it saw in a variable of the caller.
pub async fn wait_for(what: &str, timeout: Duration, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a future to completion on a new current-thread runtime: the harness from synchronous
/// tests. Panics when called inside a runtime (use `.await` there).
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}
