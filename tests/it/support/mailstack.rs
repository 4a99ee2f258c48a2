//! Harness for integration tests against the project's test mail stack: Dovecot (IMAP, LMTP) and
//! Postfix (SMTP) on 127.0.0.1, run by `scripts/mailstack.sh` (see docs/mailstack.md).
//!
//! - [`MailStack::get`] reads the running stack's env file (`$MAILSTACK_STATE_DIR/env`, default
//!   `.state/mailstack/env` in the repository) once per process. No running stack → the test
//!   PANICS and says how to start one: tests that need the mail stack fail, they never skip.
//! - [`MailStack::new_user`] creates a fresh user `<tag>-<pid>-<n>@it.example.test` (through
//!   `scripts/mailstack.sh add-user`, which needs root like the rest of the stack, ~50 ms): one or
//!   more per test, so parallel tests never see each other's mail. Postfix routes every address of
//!   `it.example.test` to Dovecot (`user+tag@` lands in the user's INBOX); an address nobody added
//!   bounces (it does not reach the catch-all).
//! - The IMAP helpers of [`TestUser`] open their own plain IMAP connection per call (port
//!   `MAILSTACK_IMAP_PORT`; LOGIN without TLS is allowed on loopback), log out afterwards, and
//!   panic with context when something fails: they set up and check, they are not the code under
//!   test. [`TestUser::session`] gives a logged-in async-imap session for anything else. Folder
//!   names must be ASCII (no modified UTF-7 here); Dovecot's hierarchy separator is `/`.
//!   [`TestUser::append_many`] sends MULTIAPPEND commands with non-synchronising literals
//!   (LITERAL+), up to 1000 messages per command: one round trip per batch, not two per message.
//! - [`MailStack::send_smtp`] is a small SMTP client for the stack's SMTP port (no TLS, no AUTH)
//!   that returns the server's reply on failure.
//! - Locks: a test that disturbs the stack for everybody (restarting Dovecot) holds
//!   [`MailStack::exclusive`]; every other test using the stack holds [`MailStack::shared`] for its
//!   whole duration (`let _lock = stack.shared().await;`). They are file locks in the state
//!   directory, so they also serialise test processes (other test binaries, cargo-nextest) sharing
//!   the stack. A waiting exclusive lock lets no new shared lock in (no starvation). Never take
//!   `exclusive` while holding `shared` in the same test: that waits for itself (and panics after
//!   10 minutes).
//!
//! Async or not: the helpers are async (tokio) for `#[tokio::test]`; the current-thread runtime
//! of `#[tokio::test]` is enough. Synchronous tests wrap calls in [`block_on`] (a current-thread
//! runtime per call; not usable inside a runtime). [`MailStack::get`] and
//! [`MailStack::new_user`] are synchronous (they block for a few milliseconds).
//!
//! The harness's own tests are in tests/it/mailstack_harness.rs.

use std::{
    collections::BTreeMap,
    fmt,
    fs::{File, OpenOptions, TryLockError},
    future::Future,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use async_imap::{
    Client, Session,
    error::Error as ImapError,
    imap_proto::{Response, ResponseCode, Status, rfc4315::UidSetMember},
    types::Flag,
};
use futures_util::TryStreamExt;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};

use super::manifest_dir;

/// The domain whose users are created at runtime ([`MailStack::new_user`]).
pub const IT_DOMAIN: &str = "it.example.test";

/// A logged-in IMAP session over plain TCP.
pub type ImapSession = Session<TcpStream>;

/// How long the IMAP helpers keep retrying to connect (a Dovecot restart takes ~1.5 s).
const RECONNECT_WINDOW: Duration = Duration::from_secs(30);
/// Longest wait for a stack lock before the test fails.
const LOCK_TIMEOUT: Duration = Duration::from_secs(600);
/// MULTIAPPEND batch limits of [`TestUser::append_many`].
const APPEND_BATCH_MESSAGES: usize = 1000;
const APPEND_BATCH_BYTES: usize = 8 << 20;

/// The running test mail stack, as described by its env file.
#[derive(Debug)]
pub struct MailStack {
    pub state_dir: PathBuf,
    /// Always `127.0.0.1`.
    pub host: String,
    /// Plain IMAP (STARTTLS offered, LOGIN without TLS allowed).
    pub imap_port: u16,
    /// IMAP with implicit TLS.
    pub imaps_port: u16,
    /// SMTP: no AUTH, accepts mail for `*.test` only.
    pub smtp_port: u16,
    /// Submission: STARTTLS and AUTH required.
    #[allow(dead_code)] // for the SMTP outbox tests to come
    pub submission_port: u16,
    /// The CA that signed the servers' certificate (valid for `127.0.0.1` and `localhost`).
    pub ca_file: PathBuf,
    /// An unrelated CA: a client trusting only this one must refuse the servers.
    pub other_ca_file: PathBuf,
    /// `localhost`.
    pub tls_server_name: String,
    /// Password of the fixed users (`support@example.test`, ...).
    pub password: String,
    /// Receives mail for every unknown `*.test` address outside `it.example.test`.
    pub catchall: String,
    /// One passwd-file per runtime user (written by `scripts/mailstack.sh add-user`).
    pub users_dir: PathBuf,
    /// `<mail_dir>/<domain>/<local part>/Maildir`.
    pub mail_dir: PathBuf,
    /// Every `KEY=VALUE` of the env file.
    #[allow(dead_code)] // for whatever the fields above do not cover
    pub env: BTreeMap<String, String>,
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
        let env_file = state_dir.join("env");
        let text = std::fs::read_to_string(&env_file).unwrap_or_else(|e| {
            panic!(
                "{}",
                not_running(
                    &state_dir,
                    &format!("cannot read {}: {e}", env_file.display())
                )
            )
        });
        let env: BTreeMap<String, String> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.to_string()))
            .collect();
        if !env.contains_key("MAILSTACK_USERS_DIR") {
            panic!(
                "the mail stack in {} was started by an older scripts/mailstack.sh without \
                 add-user support: restart it (scripts/mailstack.sh stop && scripts/mailstack.sh \
                 start, as root)",
                state_dir.display()
            );
        }
        let get = |key: &str| -> String {
            env.get(key)
                .cloned()
                .unwrap_or_else(|| panic!("{} has no {key}", env_file.display()))
        };
        let port = |key: &str| -> u16 {
            let value = get(key);
            value
                .parse()
                .unwrap_or_else(|_| panic!("{key}={value} in {} is no port", env_file.display()))
        };
        let stack = MailStack {
            host: get("MAILSTACK_HOST"),
            imap_port: port("MAILSTACK_IMAP_PORT"),
            imaps_port: port("MAILSTACK_IMAPS_PORT"),
            smtp_port: port("MAILSTACK_SMTP_PORT"),
            submission_port: port("MAILSTACK_SUBMISSION_PORT"),
            ca_file: get("MAILSTACK_CA_FILE").into(),
            other_ca_file: get("MAILSTACK_OTHER_CA_FILE").into(),
            tls_server_name: get("MAILSTACK_TLS_SERVER_NAME"),
            password: get("MAILSTACK_PASSWORD"),
            catchall: get("MAILSTACK_CATCHALL"),
            users_dir: get("MAILSTACK_USERS_DIR").into(),
            mail_dir: get("MAILSTACK_MAIL_DIR").into(),
            state_dir,
            env,
        };
        for (name, port) in [("IMAP", stack.imap_port), ("SMTP", stack.smtp_port)] {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            if let Err(e) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                panic!(
                    "{}",
                    not_running(
                        &stack.state_dir,
                        &format!(
                            "{} exists but {name} {addr} refuses connections: {e}",
                            env_file.display()
                        )
                    )
                );
            }
        }
        stack
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
        self.script(&["add-user", address, password]);
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
        let script = manifest_dir().join("scripts/mailstack.sh");
        let output = Command::new(&script)
            .args(args)
            .env("MAILSTACK_STATE_DIR", &self.state_dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            output.status.success(),
            "scripts/mailstack.sh {} failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Logs in over plain IMAP. Retries for 30 s while the server is unavailable (restarting);
    /// panics when it refuses the login.
    pub async fn login(&self, user: &str, password: &str) -> ImapSession {
        let deadline = Instant::now() + RECONNECT_WINDOW;
        loop {
            match self.try_login(user, password).await {
                Ok(session) => return session,
                Err(Login::Refused(e)) => panic!(
                    "IMAP LOGIN {user} refused by {}:{}: {e}",
                    self.host, self.imap_port
                ),
                Err(Login::Unavailable(e)) => {
                    assert!(
                        Instant::now() < deadline,
                        "IMAP {}:{} unavailable for {RECONNECT_WINDOW:?}: {e}",
                        self.host,
                        self.imap_port
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn try_login(&self, user: &str, password: &str) -> Result<ImapSession, Login> {
        let tcp = TcpStream::connect((self.host.as_str(), self.imap_port))
            .await
            .map_err(|e| Login::Unavailable(format!("connect: {e}")))?;
        tcp.set_nodelay(true)
            .map_err(|e| Login::Unavailable(format!("TCP_NODELAY: {e}")))?;
        let mut client = Client::new(tcp);
        // async-imap does not read the server greeting itself.
        match client.read_response().await {
            Ok(Some(greeting)) => match greeting.parsed() {
                Response::Data {
                    status: Status::Ok, ..
                } => {}
                other => return Err(Login::Unavailable(format!("greeting {other:?}"))),
            },
            Ok(None) => return Err(Login::Unavailable("closed before the greeting".into())),
            Err(e) => return Err(Login::Unavailable(format!("reading the greeting: {e}"))),
        }
        match client.login(user, password).await {
            Ok(session) => Ok(session),
            // "NO [UNAVAILABLE] Temporary authentication failure" while Dovecot starts up
            Err((ImapError::No(e), _)) if !is_temporary(&e) => Err(Login::Refused(e)),
            Err((ImapError::Bad(e), _)) => Err(Login::Refused(e)),
            Err((e, _)) => Err(Login::Unavailable(e.to_string())),
        }
    }

    /// Takes the stack shared: hold it for the whole test (`let _lock = stack.shared().await;`)
    /// in every test that uses the stack without disturbing it.
    pub async fn shared(&self) -> SharedLock {
        let (gate, lock) = (self.lock_path("gate"), self.lock_path("stack"));
        tokio::task::spawn_blocking(move || {
            // The gate is held exclusively by a waiting or running exclusive lock: new shared
            // holders queue behind it instead of starving it.
            let gate = lock_file(&gate, false);
            let lock = lock_file(&lock, false);
            drop(gate);
            SharedLock { _lock: lock }
        })
        .await
        .expect("shared stack lock")
    }

    /// Takes the stack exclusively (waits until every shared holder is done): for tests that
    /// disturb it for everybody, like [`MailStack::restart_dovecot`].
    pub async fn exclusive(&self) -> ExclusiveLock {
        let (gate, lock) = (self.lock_path("gate"), self.lock_path("stack"));
        tokio::task::spawn_blocking(move || ExclusiveLock {
            _gate: lock_file(&gate, true),
            _lock: lock_file(&lock, true),
        })
        .await
        .expect("exclusive stack lock")
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.state_dir.join(format!(".test-{name}.lock"))
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
        let timeout = Duration::from_secs(60);
        match tokio::time::timeout(timeout, self.smtp_transaction(from, to, raw)).await {
            Ok(result) => result,
            Err(_) => Err(SmtpError {
                step: "transaction".into(),
                code: None,
                reply: format!("no answer within {timeout:?}"),
            }),
        }
    }

    async fn smtp_transaction(
        &self,
        from: &str,
        to: &[&str],
        raw: &[u8],
    ) -> Result<String, SmtpError> {
        assert!(!to.is_empty(), "send_smtp needs at least one recipient");
        let tcp = TcpStream::connect((self.host.as_str(), self.smtp_port))
            .await
            .map_err(|e| SmtpError::io("connect", e))?;
        let (read, write) = tcp.into_split();
        let mut smtp = Smtp {
            read: BufReader::new(read),
            write,
        };
        smtp.expect("greeting", None, 220).await?;
        smtp.expect("EHLO", Some("EHLO harness.mailgate.test"), 250)
            .await?;
        let body = if raw.is_ascii() { "" } else { " BODY=8BITMIME" };
        smtp.expect("MAIL FROM", Some(&format!("MAIL FROM:<{from}>{body}")), 250)
            .await?;
        for rcpt in to {
            let command = format!("RCPT TO:<{rcpt}>");
            if let Err(e) = smtp.expect(&command, Some(&command), 250).await {
                smtp.quit().await;
                return Err(e);
            }
        }
        smtp.expect("DATA", Some("DATA"), 354).await?;
        smtp.write
            .write_all(&dot_stuff(raw))
            .await
            .map_err(|e| SmtpError::io("sending the message", e))?;
        let (_, queued) = smtp.expect("end of data", None, 250).await?;
        smtp.quit().await;
        Ok(queued)
    }
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

enum Login {
    Refused(String),
    Unavailable(String),
}

fn is_temporary(no: &str) -> bool {
    let no = no.to_ascii_lowercase();
    no.contains("unavailable") || no.contains("temporary")
}

/// Opens (creating) a lock file and locks it, polling so that a stuck holder fails the test.
fn lock_file(path: &Path, exclusive: bool) -> File {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot open the stack lock {}: {e}", path.display()));
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        let result = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match result {
            Ok(()) => return file,
            Err(TryLockError::WouldBlock) => {
                assert!(
                    Instant::now() < deadline,
                    "waited {LOCK_TIMEOUT:?} for the stack lock {} (a test holding `shared` that \
                     asks for `exclusive` waits for itself)",
                    path.display()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(TryLockError::Error(e)) => panic!("cannot lock {}: {e}", path.display()),
        }
    }
}

/// Held by a test that uses the stack without disturbing it. Released on drop.
#[derive(Debug)]
pub struct SharedLock {
    _lock: File,
}

/// Held by a test that disturbs the stack (e.g. restarts Dovecot). Released on drop.
#[derive(Debug)]
pub struct ExclusiveLock {
    _gate: File,
    _lock: File,
}

/// A user of the stack: address, password and IMAP helpers.
#[derive(Clone)]
pub struct TestUser {
    pub address: String,
    pub password: String,
    stack: &'static MailStack,
}

impl fmt::Debug for TestUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestUser({})", self.address)
    }
}

impl TestUser {
    /// `local+detail@domain`: delivered to this user's INBOX, Delivered-To keeps the detail.
    pub fn plus_address(&self, detail: &str) -> String {
        let (local, domain) = self
            .address
            .split_once('@')
            .unwrap_or_else(|| panic!("{} is no address", self.address));
        format!("{local}+{detail}@{domain}")
    }

    /// A new logged-in IMAP session (plain IMAP); log out when done.
    pub async fn session(&self) -> ImapSession {
        self.stack.login(&self.address, &self.password).await
    }

    /// Creates `folder` unless it exists (parents too, `/` separated).
    pub async fn create_folder(&self, folder: &str) {
        let mut session = self.session().await;
        ensure_folder(&mut session, folder).await;
        logout(session).await;
    }

    /// Appends one message to `folder` (created if missing); returns its UID.
    pub async fn append(&self, folder: &str, message: &[u8]) -> u32 {
        self.append_flagged(folder, &[], message).await
    }

    /// Appends one message with flags (`\Seen`, `\Flagged`, keywords) to `folder`; its UID.
    pub async fn append_flagged(&self, folder: &str, flags: &[&str], message: &[u8]) -> u32 {
        let uids = self.append_batches(folder, flags, &[message]).await;
        uids[0]
    }

    /// Appends all `messages` to `folder` (created if missing), in order; returns their UIDs.
    /// MULTIAPPEND + LITERAL+ over one connection, up to 1000 messages (8 MiB) per command.
    pub async fn append_many<M: AsRef<[u8]>>(&self, folder: &str, messages: &[M]) -> Vec<u32> {
        self.append_batches(folder, &[], messages).await
    }

    async fn append_batches<M: AsRef<[u8]>>(
        &self,
        folder: &str,
        flags: &[&str],
        messages: &[M],
    ) -> Vec<u32> {
        if messages.is_empty() {
            return Vec::new();
        }
        let mailbox = quote(folder);
        let flags = if flags.is_empty() {
            String::new()
        } else {
            assert!(
                flags.iter().all(|f| !f.is_empty()
                    && f.chars()
                        .all(|c| c.is_ascii_graphic() && !"(){%*\"]".contains(c))),
                "bad IMAP flags {flags:?}"
            );
            format!(" ({})", flags.join(" "))
        };
        let mut session = self.session().await;
        ensure_folder(&mut session, folder).await;
        let capabilities = session.capabilities().await.expect("IMAP CAPABILITY");
        assert!(
            capabilities.has_str("MULTIAPPEND") && capabilities.has_str("LITERAL+"),
            "the IMAP server lacks MULTIAPPEND or LITERAL+"
        );
        let mut uids = Vec::with_capacity(messages.len());
        let mut start = 0;
        let mut batch = 0;
        while start < messages.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < messages.len()
                && end - start < APPEND_BATCH_MESSAGES
                && (end == start || bytes + messages[end].as_ref().len() <= APPEND_BATCH_BYTES)
            {
                bytes += messages[end].as_ref().len();
                end += 1;
            }
            batch += 1;
            let tag = format!("HA{batch}");
            {
                // Written beneath async-imap (it has no MULTIAPPEND); its parser reads the answer.
                let mut out = BufWriter::with_capacity(256 << 10, session.get_mut());
                let mut write = async |bytes: &[u8]| {
                    out.write_all(bytes)
                        .await
                        .unwrap_or_else(|e| panic!("IMAP APPEND to {folder:?}: writing: {e}"));
                };
                write(format!("{tag} APPEND {mailbox}").as_bytes()).await;
                for (i, message) in messages[start..end].iter().enumerate() {
                    let message = message.as_ref();
                    assert!(
                        !message.is_empty(),
                        "message {} is empty: IMAP cannot append that",
                        start + i
                    );
                    write(format!("{flags} {{{}+}}\r\n", message.len()).as_bytes()).await;
                    write(message).await;
                }
                write(b"\r\n").await;
                out.flush()
                    .await
                    .unwrap_or_else(|e| panic!("IMAP APPEND to {folder:?}: writing: {e}"));
            }
            let appended = read_appenduid(&mut session, &tag, folder).await;
            assert_eq!(
                appended.len(),
                end - start,
                "APPENDUID of {folder:?} names {} UIDs for {} messages",
                appended.len(),
                end - start
            );
            uids.extend(appended);
            start = end;
        }
        logout(session).await;
        uids
    }

    /// UIDs of all messages in `folder`, ascending; empty when the folder does not exist.
    pub async fn uids(&self, folder: &str) -> Vec<u32> {
        let mut session = self.session().await;
        let mut uids = Vec::new();
        if examine(&mut session, folder).await > 0 {
            uids = session
                .uid_search("ALL")
                .await
                .unwrap_or_else(|e| panic!("IMAP UID SEARCH ALL in {folder:?}: {e}"))
                .into_iter()
                .collect();
            uids.sort_unstable();
        }
        logout(session).await;
        uids
    }

    /// `(uid, raw message)` of every message in `folder` by UID (BODY.PEEK[]: sets no `\Seen`);
    /// empty when the folder does not exist.
    pub async fn fetch_all(&self, folder: &str) -> Vec<(u32, Vec<u8>)> {
        let mut session = self.session().await;
        let mut messages = Vec::new();
        if examine(&mut session, folder).await > 0 {
            let fetches: Vec<_> = session
                .uid_fetch("1:*", "(UID BODY.PEEK[])")
                .await
                .unwrap_or_else(|e| panic!("IMAP UID FETCH in {folder:?}: {e}"))
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("IMAP UID FETCH in {folder:?}: {e}"));
            messages = fetches
                .iter()
                .map(|f| {
                    let uid = f.uid.expect("FETCH without UID");
                    let body = f.body().unwrap_or_else(|| panic!("UID {uid}: no BODY[]"));
                    (uid, body.to_vec())
                })
                .collect();
            messages.sort_by_key(|(uid, _)| *uid);
        }
        logout(session).await;
        messages
    }

    /// `(uid, flags)` of every message in `folder` by UID; flags as IMAP spells them (`\Seen`,
    /// keywords as they are), sorted, without the session flag `\Recent`.
    pub async fn flags(&self, folder: &str) -> Vec<(u32, Vec<String>)> {
        let mut session = self.session().await;
        let mut all = Vec::new();
        if examine(&mut session, folder).await > 0 {
            let fetches: Vec<_> = session
                .uid_fetch("1:*", "(UID FLAGS)")
                .await
                .unwrap_or_else(|e| panic!("IMAP UID FETCH FLAGS in {folder:?}: {e}"))
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("IMAP UID FETCH FLAGS in {folder:?}: {e}"));
            all = fetches
                .iter()
                .map(|f| {
                    let mut flags: Vec<String> = f.flags().filter_map(flag_name).collect();
                    flags.sort();
                    (f.uid.expect("FETCH without UID"), flags)
                })
                .collect();
            all.sort_by_key(|(uid, _)| *uid);
        }
        logout(session).await;
        all
    }

    /// Every folder name (LIST "" "*"), sorted; a new user has only `INBOX`.
    pub async fn folders(&self) -> Vec<String> {
        let mut session = self.session().await;
        let mut names: Vec<String> = session
            .list(Some(""), Some("*"))
            .await
            .expect("IMAP LIST")
            .map_ok(|name| name.name().to_string())
            .try_collect()
            .await
            .expect("IMAP LIST");
        names.sort();
        logout(session).await;
        names
    }

    /// Waits until `folder` holds at least `count` messages; returns the UIDs then. Panics after
    /// `timeout`, naming what was there.
    pub async fn wait_for_messages(
        &self,
        folder: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            let uids = self.uids(folder).await;
            if uids.len() >= count {
                return uids;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {folder:?} holds {} message(s) after {timeout:?}, expected {count}",
                self.address,
                uids.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
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

/// Folder names must be ASCII here (no modified UTF-7 encoding).
fn check_folder_name(name: &str) {
    assert!(
        !name.is_empty() && name.is_ascii() && !name.contains(['\r', '\n', '\0']),
        "folder names must be ASCII here: {name:?}"
    );
}

/// An IMAP quoted string.
fn quote(name: &str) -> String {
    check_folder_name(name);
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn logout(mut session: ImapSession) {
    // The helpers' work is done; a failing LOGOUT changes nothing.
    let _ = session.logout().await;
}

/// EXAMINE (read-only); the number of messages, 0 for a folder that does not exist.
async fn examine(session: &mut ImapSession, folder: &str) -> u32 {
    check_folder_name(folder);
    match session.examine(folder).await {
        Ok(mailbox) => mailbox.exists,
        Err(e) => {
            assert!(
                !folder_exists(session, folder).await,
                "IMAP EXAMINE {folder:?}: {e}"
            );
            0
        }
    }
}

async fn folder_exists(session: &mut ImapSession, folder: &str) -> bool {
    // STATUS works only on selectable folders, which is what counts here.
    session.status(folder, "(MESSAGES)").await.is_ok()
}

async fn ensure_folder(session: &mut ImapSession, folder: &str) {
    check_folder_name(folder);
    if folder.eq_ignore_ascii_case("INBOX") || folder_exists(session, folder).await {
        return;
    }
    if let Err(e) = session.create(folder).await {
        // A parallel helper may have created it meanwhile.
        assert!(
            folder_exists(session, folder).await,
            "IMAP CREATE {folder:?}: {e}"
        );
    }
}

/// Reads responses up to the tagged one of `tag`; the UIDs of its APPENDUID code, in order.
async fn read_appenduid(session: &mut ImapSession, tag: &str, folder: &str) -> Vec<u32> {
    loop {
        let response = session
            .read_response()
            .await
            .unwrap_or_else(|e| panic!("IMAP APPEND to {folder:?}: reading: {e}"))
            .unwrap_or_else(|| panic!("IMAP APPEND to {folder:?}: connection closed"));
        let Response::Done {
            tag: done,
            status,
            outcome,
        } = response.parsed()
        else {
            continue; // untagged data (none expected: no mailbox is selected)
        };
        if done.0 != tag {
            continue;
        }
        assert!(
            *status == Status::Ok,
            "IMAP APPEND to {folder:?}: {status:?} {outcome:?}"
        );
        let Some(ResponseCode::AppendUid(_, set)) = &outcome.code else {
            panic!("IMAP APPEND to {folder:?}: no APPENDUID in {outcome:?}");
        };
        let mut uids = Vec::new();
        for member in set {
            match member {
                UidSetMember::Uid(uid) => uids.push(*uid),
                UidSetMember::UidRange(range) => uids.extend(range.clone()),
            }
        }
        return uids;
    }
}

fn flag_name(flag: Flag<'_>) -> Option<String> {
    Some(
        match flag {
            Flag::Seen => "\\Seen",
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Deleted => "\\Deleted",
            Flag::Draft => "\\Draft",
            Flag::Recent => return None,
            Flag::MayCreate => "\\*",
            Flag::Custom(name) => return Some(name.into_owned()),
        }
        .to_string(),
    )
}

/// SMTP data: dot-stuffed, bare LF sent as CRLF, ending in CRLF.CRLF.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 8);
    let mut line_start = true;
    let mut prev = 0u8;
    for &b in raw {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        line_start = b == b'\n';
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// An SMTP transaction failed: at which step, with the server's reply code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpError {
    pub step: String,
    /// `None` for connection errors.
    pub code: Option<u16>,
    /// The server's reply (lines joined by `\n`) or the I/O error.
    pub reply: String,
}

impl SmtpError {
    fn io(step: &str, e: std::io::Error) -> Self {
        SmtpError {
            step: step.to_string(),
            code: None,
            reply: e.to_string(),
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SMTP {}: {}", self.step, self.reply)
    }
}

impl std::error::Error for SmtpError {}

struct Smtp {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Smtp {
    /// Sends `command` (if any), reads the reply; Err unless its code is `want`.
    async fn expect(
        &mut self,
        step: &str,
        command: Option<&str>,
        want: u16,
    ) -> Result<(u16, String), SmtpError> {
        if let Some(command) = command {
            self.write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .map_err(|e| SmtpError::io(step, e))?;
        }
        let (code, reply) = self.reply(step).await?;
        if code != want {
            return Err(SmtpError {
                step: step.to_string(),
                code: Some(code),
                reply,
            });
        }
        Ok((code, reply))
    }

    /// One reply: lines `NNN-text` up to the last `NNN text`.
    async fn reply(&mut self, step: &str) -> Result<(u16, String), SmtpError> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self
                .read
                .read_line(&mut line)
                .await
                .map_err(|e| SmtpError::io(step, e))?;
            if n == 0 {
                return Err(SmtpError {
                    step: step.to_string(),
                    code: None,
                    reply: format!("connection closed after {lines:?}"),
                });
            }
            let line = line.trim_end().to_string();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
            let last = line.len() == 3 || line.as_bytes().get(3) == Some(&b' ');
            lines.push(line);
            match code {
                Some(code) if last => return Ok((code, lines.join("\n"))),
                Some(_) => {}
                None => {
                    return Err(SmtpError {
                        step: step.to_string(),
                        code: None,
                        reply: format!("not an SMTP reply: {lines:?}"),
                    });
                }
            }
        }
    }

    async fn quit(&mut self) {
        // Best effort: the transaction's outcome is known already.
        let _ = self.write.write_all(b"QUIT\r\n").await;
        let _ = self.reply("QUIT").await;
    }
}
