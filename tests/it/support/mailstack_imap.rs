//! The IMAP side of the test mail stack harness ([`super::mailstack`]): logging in (with retries
//! while Dovecot restarts) and the helpers of [`TestUser`].
//!
//! The IMAP helpers of [`TestUser`] open their own plain IMAP connection per call (port
//! `MAILSTACK_IMAP_PORT`; LOGIN without TLS is allowed on loopback), log out afterwards, and
//! panic with context when something fails: they set up and check, they are not the code under
//! test. [`TestUser::session`] gives a logged-in async-imap session for anything else. Folder
//! names must be ASCII (no modified UTF-7 here); Dovecot's hierarchy separator is `/`.
//! [`TestUser::append_many`] sends MULTIAPPEND commands with non-synchronising literals
//! (LITERAL+), up to 1000 messages per command: one round trip per batch, not two per message.

use std::{
    fmt,
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
    io::{AsyncWriteExt, BufWriter},
    net::TcpStream,
};

use super::MailStack;

/// A logged-in IMAP session over plain TCP.
pub type ImapSession = Session<TcpStream>;

/// How long the IMAP helpers keep retrying to connect (a Dovecot restart takes ~1.5 s).
const RECONNECT_WINDOW: Duration = Duration::from_secs(30);
/// MULTIAPPEND batch limits of [`TestUser::append_many`].
const APPEND_BATCH_MESSAGES: usize = 1000;
const APPEND_BATCH_BYTES: usize = 8 << 20;

impl MailStack {
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
}

enum Login {
    Refused(String),
    Unavailable(String),
}

fn is_temporary(no: &str) -> bool {
    let no = no.to_ascii_lowercase();
    no.contains("unavailable") || no.contains("temporary")
}

/// A user of the stack: address, password and IMAP helpers.
#[derive(Clone)]
pub struct TestUser {
    pub address: String,
    pub password: String,
    pub(super) stack: &'static MailStack,
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

pub(super) async fn logout(mut session: ImapSession) {
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
