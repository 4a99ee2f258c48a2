//! The test harness: one `App` per test (its own tempdir, SQLite database and optional config
//! file), a runner for the real `mailgate` binary that shows stdout/stderr when something fails,
//! and small JSON accessors that panic with context instead of returning `None`.

use std::{
    fmt,
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use tempfile::TempDir;

mod agent_relay;
mod archives;
pub use archives::*;
mod configs;
pub use configs::*;
mod mailstack;
pub use mailstack::*;
mod mailstack_imap;
pub use mailstack_imap::*;
pub mod measure;
mod poller;
pub use poller::*;

/// The binary under test (debug build of this crate).
pub const BIN: &str = env!("CARGO_BIN_EXE_mailgate");

/// Any command taking longer than this is a hang and fails the test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/cases/<name>`; fails (never skips) when the file is missing.
pub fn fixture_path(name: &str) -> PathBuf {
    let path = manifest_dir().join("fixtures/cases").join(name);
    assert!(
        path.is_file(),
        "fixture {} is missing: the scenario tests need it",
        path.display()
    );
    path
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

pub fn sample_archive() -> PathBuf {
    let path = manifest_dir().join("fixtures/sample-archive.mbox");
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

pub fn sample_expected() -> Value {
    let path = manifest_dir().join("fixtures/sample-archive.expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The outcome of one run of the binary.
pub struct Run {
    pub args: Vec<String>,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: mailgate {}", self.args.join(" "))?;
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", truncate(&self.stdout, 6000))?;
        write!(f, "--- stderr ---\n{}", truncate(&self.stderr, 6000))
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n... ({} more bytes)", &s[..end], s.len() - end)
}

impl Run {
    /// Asserts the exit code; also that nothing panicked.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "expected exit code {code}\n{self}");
        self.assert_no_panic();
        self
    }

    #[track_caller]
    pub fn expect_success(&self) -> &Self {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked at") && !self.stderr.contains("RUST_BACKTRACE"),
            "the binary panicked\n{self}"
        );
    }

    /// stdout parsed as exactly one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{self}"))
    }

    /// stdout and stderr together, for "the message says X" checks.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// One isolated installation: tempdir as working directory, its own database, its own config.
pub struct App {
    dir: TempDir,
    config: Option<PathBuf>,
}

impl App {
    /// Built-in defaults (no config file); the database is migrated.
    pub fn new() -> Self {
        Self::build(None, true)
    }

    /// With a config file written from `toml`, passed as `--config FILE` to every command.
    pub fn with_config(toml: &str) -> Self {
        Self::build(Some(toml), true)
    }

    /// With a config file but no `migrate` run: for configs that are meant to be refused.
    pub fn with_config_unmigrated(toml: &str) -> Self {
        Self::build(Some(toml), false)
    }

    fn build(config: Option<&str>, migrate: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mailgate-it-")
            .tempdir()
            .unwrap();
        let config = config.map(|text| {
            let path = dir.path().join("test-config.toml");
            std::fs::write(&path, text).unwrap();
            path
        });
        let app = App { dir, config };
        if migrate {
            app.run(&["migrate"]).expect_success();
        }
        app
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces the config file (an app made by `with_config`): later commands read the new one.
    #[track_caller]
    pub fn rewrite_config(&self, toml: &str) {
        let path = self
            .config
            .as_ref()
            .expect("rewrite_config needs an App made with a config file");
        std::fs::write(path, toml)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}/mailgate.db", self.dir.path().display())
    }

    /// A `mailgate` command with this app's environment; `--config` comes before `args`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env("MAILGATE_DATABASE_URL", self.db_url())
            .env_remove("MAILGATE_CONFIG")
            .env_remove("RUST_LOG")
            .env_remove("MAILGATE_LOG")
            .env("NO_COLOR", "1");
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.args(args);
        cmd
    }

    fn shown_args(&self, args: &[&str]) -> Vec<String> {
        let mut shown = Vec::new();
        if let Some(config) = &self.config {
            shown.push("--config".to_string());
            shown.push(config.display().to_string());
        }
        shown.extend(args.iter().map(|a| a.to_string()));
        shown
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_full(args, None, DEFAULT_TIMEOUT)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        self.run_full(args, Some(stdin), DEFAULT_TIMEOUT)
    }

    /// [`App::run`] with extra environment variables (e.g. the password a config names).
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null()).envs(env.iter().copied());
        let shown = self.shown_args(args);
        let child = spawn_piped(cmd, &shown);
        wait_with_timeout(child, shown, DEFAULT_TIMEOUT)
    }

    pub fn run_full(&self, args: &[&str], stdin: Option<&[u8]>, timeout: Duration) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let shown = self.shown_args(args);
        let mut child = spawn_piped(cmd, &shown);
        let writer = stdin.map(|bytes| {
            let mut pipe = child.stdin.take().unwrap();
            let bytes = bytes.to_vec();
            // A binary that exits early closes the pipe: a write error is not our failure.
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            })
        });
        let run = wait_with_timeout(child, shown, timeout);
        if let Some(writer) = writer {
            writer.join().unwrap();
        }
        run
    }

    /// Starts a command without waiting (stdout/stderr discarded); for the kill test.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.spawn().expect("cannot start mailgate")
    }

    /// Runs, expects exit 0, parses stdout as JSON.
    #[track_caller]
    pub fn ok_json(&self, args: &[&str]) -> Value {
        self.run(args).expect_success().json()
    }

    /// `ingest fixtures/cases/<name> --json`.
    #[track_caller]
    pub fn ingest_fixture(&self, name: &str) -> Value {
        let path = fixture_path(name);
        self.ok_json(&["ingest", path.to_str().unwrap(), "--json"])
    }

    /// `ingest fixtures/cases/<name> --mailbox <mailbox> --json`.
    #[track_caller]
    pub fn ingest_fixture_at(&self, name: &str, mailbox: &str) -> Value {
        let path = fixture_path(name);
        self.ok_json(&[
            "ingest",
            path.to_str().unwrap(),
            "--mailbox",
            mailbox,
            "--json",
        ])
    }

    /// Writes `bytes` to `<tempdir>/inbox/<name>` and ingests that file.
    #[track_caller]
    pub fn ingest_bytes(&self, name: &str, bytes: &[u8]) -> Value {
        let path = self.write_file(&format!("inbox/{name}"), bytes);
        self.ok_json(&["ingest", path.to_str().unwrap(), "--json"])
    }

    /// Writes a file under the tempdir (creating folders) and returns its path.
    pub fn write_file(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// `import PATH <extra> --json`, expecting exit 0; returns the report.
    #[track_caller]
    pub fn import(&self, path: &Path, extra: &[&str]) -> Value {
        let mut args = vec!["import", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push("--json");
        let report = self.ok_json(&args);
        assert!(
            report.is_object(),
            "import --json must print one object: {report}"
        );
        report
    }

    #[track_caller]
    pub fn tickets(&self) -> Vec<Value> {
        array(
            self.ok_json(&["tickets", "list", "--json"]),
            "tickets list --json",
        )
    }

    #[track_caller]
    pub fn tickets_with_status(&self, status: &str) -> Vec<Value> {
        array(
            self.ok_json(&["tickets", "list", "--status", status, "--json"]),
            "tickets list --status --json",
        )
    }

    #[track_caller]
    pub fn show(&self, reference: &str) -> Value {
        let shown = self.ok_json(&["tickets", "show", reference, "--json"]);
        assert_eq!(
            str_of(&shown, "ref"),
            reference,
            "tickets show {reference}: {shown:#}"
        );
        shown
    }

    #[track_caller]
    pub fn decisions(&self) -> Vec<Value> {
        array(
            self.ok_json(&["decisions", "--limit", "100000", "--json"]),
            "decisions --json",
        )
    }
}

fn spawn_piped(mut cmd: Command, shown: &[String]) -> Child {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot start {BIN} {}: {e}", shown.join(" ")))
}

/// Reads a child's piped stdout and stderr on two threads, so that neither pipe fills up
/// while the child runs; the returned closure waits for both (after the child ended).
pub fn collect_output(child: &mut Child) -> impl FnOnce() -> (String, String) + use<> {
    fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    }
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    move || (out.join().unwrap(), err.join().unwrap())
}

fn wait_with_timeout(mut child: Child, args: Vec<String>, timeout: Duration) -> Run {
    let output = collect_output(&mut child);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = output();
    let run = Run {
        args,
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    };
    assert!(
        status.is_some(),
        "timed out after {timeout:?} (hang)\n{run}"
    );
    run
}

// ---------------------------------------------------------------------------------------------
// JSON accessors

#[track_caller]
pub fn array(value: Value, what: &str) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("{what} must print a JSON array, got {other:#}"),
    }
}

#[track_caller]
pub fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .get(key)
        .unwrap_or_else(|| panic!("field {key:?} missing in {value:#}"))
}

#[track_caller]
pub fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    field(value, key)
        .as_str()
        .unwrap_or_else(|| panic!("field {key:?} is not a string in {value:#}"))
}

#[track_caller]
pub fn u64_of(value: &Value, key: &str) -> u64 {
    field(value, key)
        .as_u64()
        .unwrap_or_else(|| panic!("field {key:?} is not a count in {value:#}"))
}

#[track_caller]
pub fn bool_of(value: &Value, key: &str) -> bool {
    field(value, key)
        .as_bool()
        .unwrap_or_else(|| panic!("field {key:?} is not a bool in {value:#}"))
}

#[track_caller]
pub fn items<'a>(value: &'a Value, key: &str) -> &'a Vec<Value> {
    field(value, key)
        .as_array()
        .unwrap_or_else(|| panic!("field {key:?} is not an array in {value:#}"))
}

/// A Message-ID without its angle brackets, so `<a@b>` and `a@b` compare equal.
pub fn bare_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

#[track_caller]
pub fn message_id_of(value: &Value) -> String {
    bare_id(str_of(value, "message_id"))
}

/// The ticket of a decision object: `Some("SUP-1")` or `None` for null.
#[track_caller]
pub fn ticket_of(decision: &Value) -> Option<String> {
    match field(decision, "ticket") {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => panic!("\"ticket\" must be a string or null, got {other} in {decision:#}"),
    }
}

/// Checks decision, rule and ticket of a decision object (from `ingest --json` or `decisions`).
#[track_caller]
pub fn assert_decision(decision: &Value, expected: &str, rule: &str, ticket: Option<&str>) {
    assert_eq!(
        (
            str_of(decision, "decision"),
            str_of(decision, "rule"),
            ticket_of(decision).as_deref()
        ),
        (expected, rule, ticket),
        "(decision, rule, ticket) differ; full decision: {decision:#}"
    );
    let reason = str_of(decision, "reason");
    assert!(!reason.trim().is_empty(), "empty reason: {decision:#}");
}

/// Whether an address field (`"Alice <alice@acme.test>"` or `"alice@acme.test"`) names `address`.
pub fn names_address(value: &str, address: &str) -> bool {
    value
        .to_ascii_lowercase()
        .contains(&address.to_ascii_lowercase())
}

/// Parses an RFC 3339 time, failing with the field name.
#[track_caller]
pub fn rfc3339(value: &Value, key: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let text = str_of(value, key);
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{key} = {text:?} is not RFC 3339 ({e}) in {value:#}"))
}

/// The ticket with `reference` in a `tickets list` array.
#[track_caller]
pub fn ticket_in<'a>(tickets: &'a [Value], reference: &str) -> &'a Value {
    tickets
        .iter()
        .find(|t| str_of(t, "ref") == reference)
        .unwrap_or_else(|| panic!("no ticket {reference} in {tickets:#?}"))
}

/// Whitespace (including no-break spaces) collapsed to single spaces.
pub fn squash(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The addresses of an address header (From, To, Reply-To …) as parsed by mail-parser.
pub fn addresses(value: Option<&mail_parser::HeaderValue<'_>>) -> Vec<String> {
    value
        .and_then(|v| v.as_address())
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address.as_deref().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every row of the `outbox` table, oldest first, as JSON objects (read from the test's
/// SQLite file: the bodies and Reply-To that `outbox list` does not show).
pub fn outbox_table(app: &App) -> Vec<Value> {
    let url = app.db_url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(
            "SELECT id, ticket_id, kind, recipients, subject, message_id, in_reply_to, \
             references_ids, auto_submitted, body_text, body_html, status, attempts, \
             next_attempt_at, last_error, created_at, reply_to FROM outbox ORDER BY id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.iter()
            .map(|r| {
                let recipients: Value =
                    serde_json::from_str(&r.get::<String, _>("recipients")).unwrap();
                serde_json::json!({
                    "id": r.get::<i64, _>("id"),
                    "ticket_id": r.get::<Option<i64>, _>("ticket_id"),
                    "kind": r.get::<String, _>("kind"),
                    "recipients": recipients,
                    "subject": r.get::<String, _>("subject"),
                    "message_id": r.get::<String, _>("message_id"),
                    "in_reply_to": r.get::<Option<String>, _>("in_reply_to"),
                    "references_ids": r.get::<String, _>("references_ids"),
                    "auto_submitted": r.get::<String, _>("auto_submitted"),
                    "body_text": r.get::<String, _>("body_text"),
                    "body_html": r.get::<Option<String>, _>("body_html"),
                    "status": r.get::<String, _>("status"),
                    "attempts": r.get::<i64, _>("attempts"),
                    "next_attempt_at": r.get::<i64, _>("next_attempt_at"),
                    "last_error": r.get::<Option<String>, _>("last_error"),
                    "created_at": r.get::<i64, _>("created_at"),
                    "reply_to": r.get::<Option<String>, _>("reply_to"),
                })
            })
            .collect()
    })
}

/// A header's raw value in a received mail, unfolded (`""` when missing).
pub fn mail_header(raw: &[u8], name: &str) -> String {
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    let value = m.header_raw(name).unwrap_or_default();
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first text body of a received mail.
pub fn mail_body(raw: &[u8]) -> String {
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    m.body_text(0).unwrap_or_default().to_string()
}
