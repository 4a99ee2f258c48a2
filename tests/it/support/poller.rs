//! Harness for the tests of `mailgate run` (the IMAP poller) against the test mail stack:
//!
//! - [`MailboxToml`]: one `[[mailboxes]]` entry for a [`TestUser`] (implicit TLS with the stack's
//!   CA by default), rendered into the config file of an [`App`] by [`PollerTest::configure`].
//!   The password is never in the file: `password_env` names [`PASSWORD_ENV`], which
//!   [`PollerTest::start`] sets for the child.
//! - [`PollerTest`]: one test's user, installation and config, plus the stderr log of every
//!   `mailgate run` it started. When the test panics, dropping it prints those logs (head and
//!   tail of each), so a failure shows what the poller did.
//! - [`RunningGate`]: a `mailgate run` child: its log so far, "handled"/"connected" counts,
//!   SIGINT/SIGTERM ([`RunningGate::stop`], [`RunningGate::signal`]) and SIGKILL
//!   ([`RunningGate::kill`], [`RunningGate::kill_when_handled`]). Dropping it kills the child,
//!   so no test leaves a poller behind.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{App, MailStack, TestUser, array, str_of, wait_for};

/// The environment variable the config's `password_env` names.
pub const PASSWORD_ENV: &str = "MAILGATE_IT_IMAP_PASSWORD";

/// Logged once per session when the folder is selected (src/imap/poller.rs).
pub const CONNECTED: &str = "mailgate::imap::poller: connected ";
/// Logged once per message after its batch committed (src/imap/poller.rs).
pub const HANDLED: &str = "mailgate::imap::poller: handled ";
/// Logged by `mailgate run` when every poller stopped after SIGINT/SIGTERM (src/cli/run.rs).
pub const STOPPED_CLEANLY: &str = "stopped cleanly";

/// One `[[mailboxes]]` entry. `None` folders are left out of the file (flags-only mode).
#[derive(Debug, Clone)]
pub struct MailboxToml {
    pub name: String,
    /// `support` or `escalation`.
    pub role: &'static str,
    pub host: String,
    pub port: u16,
    /// `implicit`, `starttls` or `none`.
    pub tls: &'static str,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub folder: String,
    pub processed_folder: Option<String>,
    pub rejected_folder: Option<String>,
    pub quarantine_folder: Option<String>,
    pub idle: bool,
    /// `idle_renew_secs` (default: mailgate's own, 25 minutes).
    pub idle_renew_secs: Option<u64>,
    pub poll_interval_secs: u64,
    pub batch_size: usize,
    pub max_message_bytes: Option<u64>,
}

impl MailboxToml {
    /// `user`'s INBOX over implicit TLS (`localhost`, the stack's IMAPS port and CA), handled mail
    /// moved to Processed / Rejected / Quarantine, IDLE on, batches of 200.
    pub fn for_user(stack: &MailStack, user: &TestUser) -> MailboxToml {
        MailboxToml {
            name: "support".into(),
            role: "support",
            host: stack.tls_server_name.clone(),
            port: stack.imaps_port,
            tls: "implicit",
            ca_file: Some(stack.ca_file.clone()),
            username: user.address.clone(),
            folder: "INBOX".into(),
            processed_folder: Some("Processed".into()),
            rejected_folder: Some("Rejected".into()),
            quarantine_folder: Some("Quarantine".into()),
            idle: true,
            idle_renew_secs: None,
            poll_interval_secs: 60,
            batch_size: 200,
            max_message_bytes: None,
        }
    }

    /// Without any destination folder: handled mail stays and gets a `$Mailgate…` keyword.
    pub fn flags_only(mut self) -> MailboxToml {
        self.processed_folder = None;
        self.rejected_folder = None;
        self.quarantine_folder = None;
        self
    }

    pub fn to_toml(&self) -> String {
        let s = |v: &str| toml::Value::String(v.to_string()).to_string();
        let mut out = String::from("[[mailboxes]]\n");
        let mut line = |key: &str, value: String| out.push_str(&format!("{key} = {value}\n"));
        line("name", s(&self.name));
        line("role", s(self.role));
        line("host", s(&self.host));
        line("port", self.port.to_string());
        line("tls", s(self.tls));
        if let Some(ca) = &self.ca_file {
            line("ca_file", s(&ca.display().to_string()));
        }
        line("username", s(&self.username));
        line("password_env", s(PASSWORD_ENV));
        line("folder", s(&self.folder));
        for (key, folder) in [
            ("processed_folder", &self.processed_folder),
            ("rejected_folder", &self.rejected_folder),
            ("quarantine_folder", &self.quarantine_folder),
        ] {
            if let Some(folder) = folder {
                line(key, s(folder));
            }
        }
        line("idle", self.idle.to_string());
        if let Some(secs) = self.idle_renew_secs {
            line("idle_renew_secs", secs.to_string());
        }
        line("poll_interval_secs", self.poll_interval_secs.to_string());
        line("batch_size", self.batch_size.to_string());
        if let Some(max) = self.max_message_bytes {
            line("max_message_bytes", max.to_string());
        }
        out
    }
}

/// The log of one `mailgate run`, filled line by line by a reader thread.
#[derive(Debug, Default)]
struct RunLog {
    label: String,
    text: String,
    handled: usize,
    connected: usize,
    /// SIGKILL the process as soon as this many messages are handled (see
    /// [`RunningGate::kill_when_handled`]).
    kill_at: Option<usize>,
}

/// One poller test: its mail stack user, its installation (tempdir, database, config file) and
/// the logs of the runs it started (printed when the test panics).
pub struct PollerTest {
    pub stack: &'static MailStack,
    pub user: TestUser,
    pub app: App,
    runs: Mutex<Vec<Arc<Mutex<RunLog>>>>,
}

impl PollerTest {
    /// A fresh user (`tag`, see [`MailStack::new_user`]) and an installation whose config polls
    /// that user's mailbox as `mailbox` says (`MailboxToml::for_user` changed by the closure).
    pub fn new(tag: &str, mailbox: impl FnOnce(MailboxToml) -> MailboxToml) -> PollerTest {
        let stack = MailStack::get();
        let user = stack.new_user(tag);
        let app = App::with_config("# written by PollerTest::configure\n");
        let test = PollerTest {
            stack,
            app,
            runs: Mutex::new(Vec::new()),
            user: user.clone(),
        };
        test.configure(&mailbox(MailboxToml::for_user(stack, &user)));
        test
    }

    /// Rewrites the config file: the database of this installation and `mailbox`.
    pub fn configure(&self, mailbox: &MailboxToml) {
        self.configure_all(std::slice::from_ref(mailbox));
    }

    /// Rewrites the config file with several `[[mailboxes]]` (all share [`PASSWORD_ENV`]).
    pub fn configure_all(&self, mailboxes: &[MailboxToml]) {
        self.configure_with(mailboxes, "", "");
    }

    /// [`PollerTest::configure_all`] plus `tickets` (lines added to `[tickets]`, e.g.
    /// `support_address` and `secret_file`) and `extra` (whole sections such as `[smtp]` and
    /// `[notify]`, appended after the mailboxes).
    pub fn configure_with(&self, mailboxes: &[MailboxToml], tickets: &str, extra: &str) {
        let mut text = format!(
            "[database]\nurl = {}\n\n[tickets]\nprefix = \"SUP\"\n{tickets}",
            toml::Value::String(self.app.db_url())
        );
        for mailbox in mailboxes {
            text.push('\n');
            text.push_str(&mailbox.to_toml());
        }
        if !extra.is_empty() {
            text.push('\n');
            text.push_str(extra);
        }
        self.app.rewrite_config(&text);
    }

    /// Starts `mailgate run` with this installation's config and the user's password in
    /// [`PASSWORD_ENV`]; stderr is collected line by line.
    pub fn start(&self) -> RunningGate {
        let mut cmd = self.app.command(&["run"]);
        // The default of `run` plus the poller's debug lines (IDLE renewals).
        cmd.env("MAILGATE_LOG", "info,sqlx=warn,mailgate::imap=debug")
            .env(PASSWORD_ENV, &self.user.password)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot start mailgate run");
        let stderr = child.stderr.take().unwrap();
        let child = Arc::new(Mutex::new(child));
        let pid = child.lock().unwrap().id();
        let log = {
            let mut runs = self.runs.lock().unwrap();
            let log = Arc::new(Mutex::new(RunLog {
                label: format!("mailgate run #{} (pid {pid})", runs.len() + 1),
                ..RunLog::default()
            }));
            runs.push(log.clone());
            log
        };
        let sink = log.clone();
        let target = child.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                if line.contains(HANDLED) {
                    log.handled += 1;
                    if log.kill_at.is_some_and(|n| log.handled >= n) {
                        log.kill_at = None;
                        // A no-op when the child has already been reaped.
                        let _ = target.lock().unwrap().kill();
                    }
                }
                if line.contains(CONNECTED) {
                    log.connected += 1;
                }
                log.text.push_str(&line);
                log.text.push('\n');
            }
        });
        RunningGate {
            child,
            log,
            reader: Some(reader),
            started: Instant::now(),
        }
    }

    /// [`PollerTest::start`], then waits (30 s at most) until the poller logged `connected`.
    pub async fn start_connected(&self) -> RunningGate {
        let mut run = self.start();
        run.wait_connected(1, Duration::from_secs(30)).await;
        run
    }

    pub fn tickets(&self) -> Vec<Value> {
        self.app.tickets()
    }

    pub fn decisions(&self) -> Vec<Value> {
        self.app.decisions()
    }

    pub fn quarantine(&self) -> Vec<Value> {
        array(
            self.app.ok_json(&["quarantine", "list", "--json"]),
            "quarantine list --json",
        )
    }

    /// Waits until `decisions` lists at least `count` decisions; returns them (newest first).
    /// Panics after `timeout`.
    pub async fn wait_decisions(&self, count: usize, timeout: Duration) -> Vec<Value> {
        let mut seen = Vec::new();
        wait_for(
            &format!("{count} decision(s) in `mailgate decisions`"),
            timeout,
            async || {
                seen = self.decisions();
                if seen.len() >= count {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
                false
            },
        )
        .await;
        seen
    }

    /// Waits until `folder` of the user holds exactly `count` messages; panics after `timeout`.
    pub async fn wait_folder_len(&self, folder: &str, count: usize, timeout: Duration) {
        let started = Instant::now();
        loop {
            let held = self.user.uids(folder).await.len();
            if held == count {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {folder} of {} to hold {count} \
                 message(s): it holds {held}",
                self.user.address
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for PollerTest {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        for log in runs.iter() {
            let log = log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!(
                "===== stderr of {} ({} handled, {} connected) =====\n{}",
                log.label,
                log.handled,
                log.connected,
                head_and_tail(&log.text, 40, 120)
            );
        }
    }
}

/// The first `head` and last `tail` lines of `text`, with how many were left out.
fn head_and_tail(text: &str, head: usize, tail: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= head + tail {
        return text.to_string();
    }
    format!(
        "{}\n... ({} lines left out) ...\n{}",
        lines[..head].join("\n"),
        lines.len() - head - tail,
        lines[lines.len() - tail..].join("\n")
    )
}

/// A running `mailgate run`. Dropping it kills the process (SIGKILL) if it still runs.
pub struct RunningGate {
    child: Arc<Mutex<Child>>,
    log: Arc<Mutex<RunLog>>,
    reader: Option<JoinHandle<()>>,
    started: Instant,
}

impl RunningGate {
    /// The stderr log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().text.clone()
    }

    /// How many messages this run logged as handled (committed).
    pub fn handled(&self) -> usize {
        self.log.lock().unwrap().handled
    }

    /// How many sessions this run opened (`connected` lines).
    pub fn connected(&self) -> usize {
        self.log.lock().unwrap().connected
    }

    /// Log lines containing `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines(needle).len()
    }

    /// The log lines containing `needle`.
    pub fn lines(&self, needle: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .text
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    /// Panics (with the log) when the process has exited.
    #[track_caller]
    pub fn assert_running(&mut self) {
        if let Some(status) = self.try_wait() {
            panic!("mailgate run exited unexpectedly ({status})");
        }
    }

    /// Waits until the log holds `count` lines with `needle`; panics after `timeout` or when the
    /// process exits first.
    pub async fn wait_log(&mut self, needle: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count(needle) >= count {
                return;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {count} log line(s) with {needle:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the run logged `count` `connected` lines (sessions opened).
    pub async fn wait_connected(&mut self, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.connected() < count {
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "mailgate run did not log {count} `connected` line(s) within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until this run logged at least `count` handled messages.
    pub async fn wait_handled(&mut self, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.handled() < count {
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "mailgate run handled {} message(s) within {timeout:?}, expected {count}",
                self.handled()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `SIG<name>` (`INT`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let pid = self.child.lock().unwrap().id().to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    /// SIGKILL from the log reader the moment the `count`-th handled line is read: while the
    /// process is still logging that batch or has just begun moving it (a kill between the
    /// commit and the move). Then waits (`timeout`) for the process to die and reaps it.
    pub async fn kill_when_handled(&mut self, count: usize, timeout: Duration) {
        {
            let mut log = self.log.lock().unwrap();
            if log.handled >= count {
                drop(log);
                return self.kill();
            }
            log.kill_at = Some(count);
        }
        let (status, _) = self.wait_exit(timeout).await;
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "mailgate run ended with {status} before it handled {count} messages (it handled {})",
            self.handled()
        );
    }

    /// SIGKILL, then reaps the process.
    pub fn kill(&mut self) {
        {
            let mut child = self.child.lock().unwrap();
            child.kill().expect("SIGKILL mailgate run");
            child.wait().expect("wait for mailgate run");
        }
        self.join_reader();
    }

    /// Waits for the process to exit; panics after `timeout` (and kills it). Returns the exit
    /// status and how long the wait took.
    pub async fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, Duration) {
        match self.try_wait_exit(timeout).await {
            Some(exited) => exited,
            None => {
                self.kill();
                panic!("mailgate run did not exit within {timeout:?}");
            }
        }
    }

    /// Waits up to `timeout` for the process to exit: its status and how long the wait took, or
    /// `None` when it still runs.
    pub async fn try_wait_exit(&mut self, timeout: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.try_wait() {
                self.join_reader();
                return Some((status, started.elapsed()));
            }
            if started.elapsed() >= timeout {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGINT, then expects exit status 0 within `timeout` and `stopped cleanly` in the log.
    /// Returns how long the shutdown took.
    pub async fn stop(&mut self, timeout: Duration) -> Duration {
        self.stop_with("INT", timeout).await
    }

    /// [`RunningGate::stop`] with another signal (`TERM`).
    pub async fn stop_with(&mut self, signal: &str, timeout: Duration) -> Duration {
        self.signal(signal);
        let (status, took) = self.wait_exit(timeout).await;
        assert_eq!(
            status.code(),
            Some(0),
            "mailgate run after SIG{signal}: {status} (expected exit 0)"
        );
        assert!(
            self.log().contains(STOPPED_CLEANLY),
            "mailgate run exited 0 after SIG{signal} without logging {STOPPED_CLEANLY:?}"
        );
        assert_no_panic(&self.log());
        took
    }

    /// Time since the process was started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn try_wait(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().expect("try_wait")
    }

    fn join_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for RunningGate {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock()
            && let Ok(None) = child.try_wait()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_reader();
    }
}

#[track_caller]
pub fn assert_no_panic(log: &str) {
    assert!(
        !log.contains("panicked at"),
        "mailgate run panicked:\n{}",
        head_and_tail(log, 20, 60)
    );
}

/// The Message-ID (bare) of each decision, for counting.
pub fn decision_ids(decisions: &[Value]) -> Vec<String> {
    decisions
        .iter()
        .map(|d| super::bare_id(d.get("message_id").and_then(Value::as_str).unwrap_or("")))
        .collect()
}

/// How many decisions have decision name `name`.
pub fn count_decisions(decisions: &[Value], name: &str) -> usize {
    decisions
        .iter()
        .filter(|d| str_of(d, "decision") == name)
        .count()
}
