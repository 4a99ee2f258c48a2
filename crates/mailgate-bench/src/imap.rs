//! `mailgate-bench imap`: the IMAP poller against the test mail stack (`scripts/mailstack.sh`),
//! in-process, exactly as `mailgate run` builds it (TLS, Settings, a SQLite store with full
//! durability).
//!
//! 1. **Drain**: a synthetic backlog (`mailgate-bench generate`'s archive, default 10,000 messages)
//!    is APPENDed to the INBOX of a fresh user (setup, reported but not the figure). A fetch-only
//!    pass over it is the ceiling: connect, SELECT, UID SEARCH, then per batch UID FETCH
//!    RFC822.SIZE and BODY.PEEK[], the bytes discarded. Then the poller drains it (fetch, parse,
//!    decide, commit, MOVE to `Processed`), timed from its start to its Idle event. Then, as a
//!    second reference, the drain's IMAP work alone: the same batches fetched on one connection
//!    while the previous one is MOVEd on a second (as the poller does), from `Processed` to a
//!    scratch folder. Checked: every message handled once, INBOX empty, all of it in `Processed`,
//!    one decision row per message, as many tickets as `created` decisions.
//! 2. **Latency**: with the poller in IDLE, mails are sent over SMTP one at a time; each one's
//!    latency runs from the SMTP server's 250 after DATA to the poller's commit of its ticket
//!    (its `Handled` event, matched by Message-ID). Dovecot's own IDLE notify delay (~0.5 s)
//!    is part of it, as in production; mail that arrives while the poller is busy is picked
//!    up by its next round without waiting for IDLE. Checked: each mail a new ticket, and the
//!    INBOX empty once the poller is back in IDLE.
//!
//! Every run creates its own user (`mailstack.sh add-user`) and holds the stack's shared
//! test lock (tests that restart Dovecot wait). Correctness failures are listed with the
//! figures and make the command fail; missed targets are only reported.

mod append;
mod cpu;
mod events;
use events::{Events, stop};
mod latency;
mod reference;
mod report;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use rustls::ClientConfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use report::{
    BacklogReport, DrainReport, FetchOnlyReport, ImapBenchReport, LatencyReport, PhaseFigures,
};

use mailgate::config::{Secret, Settings, TlsMode};
use mailgate::imap::acknowledge::{Acknowledgement, Target};
use mailgate::imap::connect::{connect, tls_config};
use mailgate::imap::session::MailboxSession;
use mailgate::imap::{Endpoint, Poller, PollerEvent, SignIn, UidBatch, batches};
use mailgate::store::Store;
use mailgate_test_support::{ArchiveSpec, memory};

use crate::stack::{self, Stack};
use cpu::CpuSample;

/// The mailbox name in the benchmark's settings (and its decisions' source).
const MAILBOX: &str = "bench";
const FOLDER: &str = "INBOX";
/// The poller reporting nothing for this long means it is stuck.
const STALL: Duration = Duration::from_secs(120);
/// Reconnects after which the figures mean nothing and the run stops.
const MAX_DISCONNECTS: usize = 3;

/// What `mailgate-bench imap` was asked to do.
#[derive(Debug, Clone)]
pub struct ImapBenchOptions {
    /// The stack's state directory (its `env` file has the ports, CA and password).
    pub state_dir: PathBuf,
    /// `scripts/mailstack.sh`; found automatically when `None`.
    pub mailstack_script: Option<PathBuf>,
    /// Run as this existing user (INBOX must be empty) instead of creating one.
    pub user: Option<String>,
    pub messages: usize,
    pub seed: u64,
    pub batch_size: usize,
    /// Fetch-only passes; the fastest is the ceiling (the first also warms the server).
    pub fetch_passes: usize,
    pub latency_mails: usize,
    pub latency_interval: Duration,
    pub skip_drain: bool,
    pub skip_latency: bool,
    /// Work directory (database, password file); a temporary one when `None`.
    pub dir: Option<PathBuf>,
    /// Keep the work directory and the benchmark's mail on the server.
    pub keep: bool,
}

/// Runs the benchmark; progress goes to stderr, the report is returned for printing.
pub async fn run(opts: ImapBenchOptions) -> anyhow::Result<ImapBenchReport> {
    if opts.skip_drain && opts.skip_latency {
        bail!("--skip-drain and --skip-latency together leave nothing to measure");
    }
    let stack = Stack::load(&opts.state_dir)?;
    let _lock = {
        let stack = stack.clone();
        tokio::task::spawn_blocking(move || stack.shared_lock())
            .await
            .context("taking the stack's shared lock")??
    };
    let fresh_user = opts.user.is_none();
    let user = match &opts.user {
        Some(user) => user.clone(),
        None => {
            let script = stack::find_script(opts.mailstack_script.as_deref())?;
            let address = stack.fresh_address();
            let stack = stack.clone();
            let user = address.clone();
            tokio::task::spawn_blocking(move || stack.add_user(&script, &user))
                .await
                .context("adding the benchmark's user")??;
            address
        }
    };
    progress(&format!(
        "user {user} on the stack in {}",
        stack.state_dir.display()
    ));

    let (work, temporary) = match &opts.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mailgate-bench-imap-{}", std::process::id())),
            !opts.keep,
        ),
    };
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let result = match Bench::new(&opts, &stack, &user, fresh_user, &work) {
        Ok(bench) => bench.run().await,
        Err(e) => Err(e),
    };
    if temporary {
        let _ = std::fs::remove_dir_all(&work);
    } else if opts.keep {
        progress(&format!(
            "kept the work directory {} and the mail of {user}",
            work.display()
        ));
    }
    result
}

/// One run: the endpoints, settings and store it uses.
struct Bench<'a> {
    opts: &'a ImapBenchOptions,
    stack: &'a Stack,
    user: String,
    /// The poller's and fetch-only pass's endpoint: implicit TLS with the stack's CA.
    tls_endpoint: Endpoint,
    tls: Option<Arc<ClientConfig>>,
    /// Plain IMAP on loopback, for setup and checks only.
    plain_endpoint: Endpoint,
    processed_folder: String,
    /// Messages per batch, as the poller's settings have it (clamped to 1..=5000).
    batch_size: usize,
    settings: Settings,
    db_url: String,
    work: PathBuf,
}

impl<'a> Bench<'a> {
    fn new(
        opts: &'a ImapBenchOptions,
        stack: &'a Stack,
        user: &str,
        fresh_user: bool,
        work: &Path,
    ) -> anyhow::Result<Bench<'a>> {
        let password_file = work.join("imap-password");
        write_private(&password_file, &stack.password)?;
        let db = work.join("bench.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let db_url = format!("sqlite://{}", db.display());
        // A fresh user's own folder; beside an existing user's mail, one of our own.
        let processed_folder = if fresh_user {
            "Processed".to_string()
        } else {
            format!("Processed-mailgate-bench-{}", std::process::id())
        };
        let settings = poller_settings(
            stack,
            user,
            &password_file,
            &processed_folder,
            opts.batch_size,
            &db_url,
        )?;
        let batch_size = settings
            .mailbox(MAILBOX)
            .map_or(opts.batch_size, |m| m.batch_size);
        let tls_endpoint =
            Endpoint::from_settings(settings.mailbox(MAILBOX).map_err(anyhow::Error::msg)?)?;
        let tls = tls_config(&tls_endpoint).context("TLS configuration for the stack's CA")?;
        let plain_endpoint = Endpoint {
            host: stack.host.clone(),
            port: stack.imap_port,
            tls: TlsMode::None,
            ca_file: None,
            username: user.to_string(),
            sign_in: SignIn::Password(Secret::new(stack.password.clone())),
        };
        Ok(Bench {
            opts,
            stack,
            user: user.to_string(),
            tls_endpoint,
            tls,
            plain_endpoint,
            processed_folder,
            batch_size,
            settings,
            db_url,
            work: work.to_path_buf(),
        })
    }

    async fn run(self) -> anyhow::Result<ImapBenchReport> {
        let mut report = ImapBenchReport {
            user: self.user.clone(),
            imap_server: format!(
                "{}:{} (implicit TLS)",
                self.tls_endpoint.host, self.tls_endpoint.port
            ),
            smtp_server: format!("{}:{}", self.stack.host, self.stack.smtp_port),
            batch_size: self.batch_size,
            threads: rayon::current_num_threads(),
            backlog: None,
            fetch_only: None,
            drain: None,
            fetch_and_move: None,
            latency: None,
            targets: Vec::new(),
            problems: Vec::new(),
        };
        let [inbox] = self.counts([FOLDER]).await?;
        if inbox != 0 {
            bail!(
                "the INBOX of {} holds {inbox} messages; the benchmark needs an empty one (run \
                 without --user for a fresh user, or empty it: doveadm -c STATE_DIR/dovecot/dovecot.conf \
                 expunge -u {} mailbox INBOX all)",
                self.user,
                self.user
            );
        }

        let store = Store::open(&self.db_url).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let poller = Poller::new(&self.settings, store.clone(), MAILBOX)
            .context("building the poller")?
            .with_events(tx);
        let mut events = Events::new(rx);
        let cancel = CancellationToken::new();
        // As `mailgate run` does: WAL pages are copied to the database file in the background.
        let checkpointer = store.start_checkpointer(cancel.clone());

        let poller_task;
        if self.opts.skip_drain {
            poller_task = tokio::spawn(poller.run(cancel.clone()));
            if let Err(e) = events.until_idle().await {
                return Err(stop(cancel, poller_task, store, e).await);
            }
        } else {
            let backlog = self.fill_backlog().await?;
            let messages = backlog.messages;
            report.backlog = Some(backlog);
            report.fetch_only = Some(self.fetch_only(messages).await?);
            progress(&format!("draining {messages} messages with the poller …"));
            memory::reset_peak_rss();
            let cpu = CpuSample::now();
            let started = Instant::now();
            poller_task = tokio::spawn(poller.run(cancel.clone()));
            let drain = self
                .drain(
                    &mut events,
                    (started, cpu),
                    messages,
                    report.fetch_only.as_ref(),
                )
                .await;
            let drain = match drain {
                Ok(d) => d,
                Err(e) => return Err(stop(cancel, poller_task, store, e).await),
            };
            report.drain = Some(drain);
            // With the poller idle: the IMAP work of the drain alone, as a second reference.
            let in_processed = report.drain.as_ref().map_or(0, |d| u64::from(d.processed));
            let moved = match self.fetch_and_move(in_processed).await {
                Ok(m) => m,
                Err(e) => return Err(stop(cancel, poller_task, store, e).await),
            };
            if let Some(drain) = &mut report.drain {
                drain.ratio_to_fetch_and_move =
                    Some(drain.figures.messages_per_sec / moved.messages_per_sec);
            }
            report.fetch_and_move = Some(moved);
        }

        if !self.opts.skip_latency {
            match self.latency(&mut events).await {
                Ok(l) => report.latency = Some(l),
                Err(e) => return Err(stop(cancel, poller_task, store, e).await),
            }
        }

        cancel.cancel();
        if tokio::time::timeout(Duration::from_secs(30), poller_task)
            .await
            .is_err()
        {
            tracing::warn!("the poller did not stop within 30 s");
        }
        let _ = checkpointer.await;
        let handled = report.drain.as_ref().map_or(0, |d| d.figures.messages)
            + report.latency.as_ref().map_or(0, |l| l.mails as u64);
        let rows = count(&store, "decisions").await?;
        let tickets = count(&store, "tickets").await?;
        store.close().await;
        let mut problems = Vec::new();
        if rows != handled as i64 {
            problems.push(format!(
                "the store holds {rows} decisions for {handled} handled messages"
            ));
        }
        let created = report
            .drain
            .as_ref()
            .map_or(0, |d| d.decisions.get("created").copied().unwrap_or(0))
            + report.latency.as_ref().map_or(0, |l| l.mails as u64);
        if tickets != created as i64 {
            problems.push(format!(
                "the store holds {tickets} tickets, {created} were reported created"
            ));
        }
        if let Some(drain) = &report.drain {
            if drain.inbox_left != 0 {
                problems.push(format!(
                    "drain: the INBOX still holds {} messages after the poller went idle",
                    drain.inbox_left
                ));
            }
            if u64::from(drain.processed) != drain.figures.messages {
                problems.push(format!(
                    "drain: {:?} holds {} messages, {} were handled",
                    drain.processed_folder, drain.processed, drain.figures.messages
                ));
            }
        }
        if let Some(latency) = &report.latency
            && latency.inbox_left != 0
        {
            problems.push(format!(
                "latency: {} of the {} mails are still in the INBOX after the poller committed \
                 them all and went back to IDLE (committed but never moved)",
                latency.inbox_left, latency.mails
            ));
        }
        for problem in &problems {
            progress(&format!("CHECK FAILED: {problem}"));
        }
        report.problems = problems;
        progress(&format!("store: {rows} decisions, {tickets} tickets"));
        if !self.opts.keep {
            self.clean_up().await;
        }
        report.check_targets();
        Ok(report)
    }

    async fn fill_backlog(&self) -> anyhow::Result<BacklogReport> {
        progress(&format!(
            "appending {} messages to {FOLDER} (setup) …",
            self.opts.messages
        ));
        let spec = ArchiveSpec::new(self.opts.messages, self.opts.seed);
        let backlog = append::fill(&self.plain_endpoint, FOLDER, spec, &self.work).await?;
        let [inbox] = self.counts([FOLDER]).await?;
        if u64::from(inbox) != backlog.messages {
            bail!(
                "{} messages appended but the INBOX holds {inbox}",
                backlog.messages
            );
        }
        Ok(BacklogReport {
            messages: backlog.messages,
            bytes: backlog.bytes,
            conversations: backlog.archive.threads,
            replies: backlog.archive.replies,
            attachments: backlog.archive.attachments,
            generate_secs: backlog.generate_secs,
            append_secs: backlog.append_secs,
            append_messages_per_sec: backlog.messages as f64 / backlog.append_secs.max(1e-9),
            append_method: backlog.method.to_string(),
        })
    }

    /// Waits until the poller has handled `expected` messages and gone idle.
    async fn drain(
        &self,
        events: &mut Events,
        (started, cpu): (Instant, Option<CpuSample>),
        expected: u64,
        ceiling: Option<&FetchOnlyReport>,
    ) -> anyhow::Result<DrainReport> {
        let mut handled: HashSet<u32> = HashSet::with_capacity(expected as usize);
        let mut decisions: BTreeMap<String, u64> = BTreeMap::new();
        let mut first_commit: Option<Instant> = None;
        let finished = loop {
            match events.next().await? {
                PollerEvent::Handled {
                    uid, decision, at, ..
                } => {
                    if !handled.insert(uid) {
                        bail!("UID {uid} was handled twice");
                    }
                    *decisions.entry(decision.to_string()).or_default() += 1;
                    first_commit.get_or_insert(at);
                }
                PollerEvent::Idle if handled.len() as u64 >= expected => break Instant::now(),
                PollerEvent::Idle => bail!(
                    "the poller went idle after handling {} of {expected} messages",
                    handled.len()
                ),
                PollerEvent::Connected | PollerEvent::Disconnected { .. } => {}
            }
        };
        let secs = finished.duration_since(started).as_secs_f64();
        let peak = memory::peak_rss_bytes();
        let cpu = cpu_since(cpu);
        let [inbox_left, processed] = self.counts([FOLDER, &self.processed_folder]).await?;
        let bytes = ceiling.map_or(0, |c| c.figures.bytes);
        let figures = PhaseFigures::new(handled.len() as u64, bytes, secs, peak).with_cpu(cpu);
        let ratio = ceiling.map(|c| figures.messages_per_sec / c.figures.messages_per_sec);
        Ok(DrainReport {
            figures,
            ratio_to_fetch_only: ratio,
            ratio_to_fetch_and_move: None,
            first_commit_secs: first_commit
                .map_or(0.0, |t| t.duration_since(started).as_secs_f64()),
            decisions,
            inbox_left,
            processed_folder: self.processed_folder.clone(),
            processed,
            disconnects: events.disconnects.len(),
        })
    }

    /// Messages in each folder (SELECT over plain IMAP on loopback).
    async fn counts<const N: usize>(&self, folders: [&str; N]) -> anyhow::Result<[u32; N]> {
        let mut session = MailboxSession::open(&self.plain_endpoint, None)
            .await
            .with_context(|| format!("logging in as {}", self.user))?;
        let mut out = [0u32; N];
        for (slot, folder) in out.iter_mut().zip(folders) {
            *slot = session.select(folder).await?.exists;
        }
        session.logout().await;
        Ok(out)
    }

    /// Removes the benchmark's handled mail from the server (best effort).
    async fn clean_up(&self) {
        let result = async {
            let mut session = connect(&self.plain_endpoint, None).await?;
            let folders: Vec<String> = session
                .list(None, Some("*"))
                .await?
                .try_collect::<Vec<_>>()
                .await?
                .iter()
                .map(|n| n.name().to_string())
                .collect();
            for folder in [
                self.processed_folder.clone(),
                format!("{}-moved", self.processed_folder),
            ] {
                if folders.contains(&folder) {
                    session
                        .delete(&folder)
                        .await
                        .with_context(|| format!("DELETE {folder:?}"))?;
                }
            }
            let _ = session.logout().await;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %format!("{e:#}"), "could not remove the benchmark's mail");
        }
    }
}

/// The settings `mailgate run` would read from a config with this one mailbox.
fn poller_settings(
    stack: &Stack,
    user: &str,
    password_file: &Path,
    processed_folder: &str,
    batch_size: usize,
    db_url: &str,
) -> anyhow::Result<Settings> {
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let text = format!(
        "[database]\nurl = {url}\n\n\
         [[mailboxes]]\nname = {name}\nhost = {host}\nport = {port}\ntls = \"implicit\"\n\
         ca_file = {ca}\nusername = {user}\npassword_file = {password}\nfolder = {folder}\n\
         processed_folder = {processed}\nidle = true\nbatch_size = {batch_size}\n",
        url = s(db_url),
        name = s(MAILBOX),
        host = s(&stack.host),
        port = stack.imaps_port,
        ca = s(&stack.ca_file.display().to_string()),
        user = s(user),
        password = s(&password_file.display().to_string()),
        folder = s(FOLDER),
        processed = s(processed_folder),
    );
    Settings::from_toml(&text, "bench imap settings").context("the benchmark's poller settings")
}

/// CPU use since `start` (when both samples could be read).
fn cpu_since(start: Option<CpuSample>) -> Option<cpu::CpuUse> {
    start?.until(&CpuSample::now()?)
}

fn move_to(folder: &str, uids: UidBatch) -> Acknowledgement {
    Acknowledgement {
        target: Target::Folder(folder.to_string()),
        uids,
    }
}

/// Rows of a table the benchmark checks (literal queries only).
async fn count(store: &Store, table: &str) -> anyhow::Result<i64> {
    let query = match table {
        "decisions" => "SELECT COUNT(*) FROM decisions",
        "tickets" => "SELECT COUNT(*) FROM tickets",
        other => bail!("no count query for table {other:?}"),
    };
    let (n,): (i64,) = sqlx::query_as(query)
        .fetch_one(store.pool())
        .await
        .with_context(|| format!("counting {table}"))?;
    Ok(n)
}

fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok(())
}

fn progress(line: &str) {
    eprintln!("bench imap: {line}");
}

#[cfg(test)]
pub(crate) mod tests;
