//! One `[[mailboxes]]` entry (SPEC 10) → [`MailboxSettings`], every mistake with its line.

use super::file::MailboxFile;
use super::{
    DEFAULT_IDLE_RENEW_SECS, DEFAULT_IMAP_BATCH, LOOPBACK_HOSTS, Role, SecretSource, TlsMode,
    is_loopback, limits,
};

#[derive(Debug, Clone)]
pub struct MailboxSettings {
    pub name: String,
    pub role: Role,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: TlsMode,
    pub ca_file: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretSource>,
    pub folder: String,
    pub processed_folder: Option<String>,
    pub rejected_folder: Option<String>,
    pub quarantine_folder: Option<String>,
    pub idle: bool,
    /// IDLE is re-issued at least this often (RFC 2177: servers may drop it after 30 min).
    pub idle_renew_secs: u64,
    pub poll_interval_secs: u64,
    pub batch_size: usize,
    pub max_message_bytes: usize,
}

pub(super) fn mailbox_settings(
    mb: &MailboxFile,
    issue: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
) -> MailboxSettings {
    let name = mb.name.get_ref().trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        issue(
            Some(mb.name.span()),
            format!("mailbox name {name:?} must be letters, digits, '-', '_' or '.'"),
        );
    }
    let tls = mb
        .tls
        .as_ref()
        .map(|t| *t.get_ref())
        .unwrap_or(TlsMode::Implicit);
    if let (Some(t), Some(host)) = (&mb.tls, &mb.host)
        && *t.get_ref() == TlsMode::None
        && !is_loopback(host.get_ref())
    {
        issue(
            Some(t.span()),
            format!(
                "mailbox {name}: tls = \"none\" would send the password in clear; it is allowed \
                 only for {LOOPBACK_HOSTS}, not {:?}",
                host.get_ref()
            ),
        );
    }
    let password = SecretSource::from_pair(
        mb.password_env.as_ref().map(|s| s.get_ref().as_str()),
        mb.password_file.as_ref().map(|s| s.get_ref().as_str()),
    )
    .unwrap_or_else(|e| {
        issue(
            mb.password_env.as_ref().map(|s| s.span()),
            format!("mailbox {name}: password: {e}"),
        );
        None
    });
    if let Some(host) = &mb.host {
        if mb.username.is_none() {
            issue(
                Some(host.span()),
                format!("mailbox {name}: host is set but username is missing"),
            );
        }
        if password.is_none() && mb.password_env.is_none() && mb.password_file.is_none() {
            issue(
                Some(host.span()),
                format!("mailbox {name}: host is set but neither password_env nor password_file"),
            );
        }
    }
    if let Some(ca) = &mb.ca_file
        && let Err(e) = std::fs::metadata(ca.get_ref())
    {
        issue(
            Some(ca.span()),
            format!("mailbox {name}: ca_file {:?}: {e}", ca.get_ref()),
        );
    }
    if let Some(b) = &mb.batch_size
        && !(1..=5000).contains(b.get_ref())
    {
        issue(
            Some(b.span()),
            format!("mailbox {name}: batch_size must be 1 to 5000"),
        );
    }
    if let Some(r) = &mb.idle_renew_secs
        && !(1..=1740).contains(r.get_ref())
    {
        issue(
            Some(r.span()),
            format!("mailbox {name}: idle_renew_secs must be 1 to 1740 (29 minutes)"),
        );
    }
    if let Some(p) = &mb.poll_interval_secs
        && *p.get_ref() == 0
    {
        issue(
            Some(p.span()),
            format!("mailbox {name}: poll_interval_secs must be at least 1"),
        );
    }
    let folder = mb.folder.clone().unwrap_or_else(|| "INBOX".into());
    for (key, target) in [
        ("processed_folder", &mb.processed_folder),
        ("rejected_folder", &mb.rejected_folder),
        ("quarantine_folder", &mb.quarantine_folder),
    ] {
        if target.as_deref().map(str::trim) == Some(folder.as_str()) {
            issue(
                Some(mb.name.span()),
                format!(
                    "mailbox {name}: {key} is the folder mail is read from ({folder:?}); \
                     handled mail must go elsewhere (or leave {key} out to flag it in place)"
                ),
            );
        }
    }
    let max_message_bytes = limits::message_limit(
        mb.max_message_bytes.as_ref(),
        &format!("mailbox {name}: max_message_bytes"),
        issue,
    )
    .unwrap_or(0);
    MailboxSettings {
        name,
        role: mb.role,
        host: mb.host.as_ref().map(|h| h.get_ref().clone()),
        port: mb.port,
        tls,
        ca_file: mb.ca_file.as_ref().map(|c| c.get_ref().clone()),
        username: mb.username.clone(),
        password,
        folder,
        processed_folder: mb.processed_folder.clone(),
        rejected_folder: mb.rejected_folder.clone(),
        quarantine_folder: mb.quarantine_folder.clone(),
        idle: mb.idle.unwrap_or(true),
        idle_renew_secs: mb
            .idle_renew_secs
            .as_ref()
            .map(|s| *s.get_ref())
            .unwrap_or(DEFAULT_IDLE_RENEW_SECS),
        poll_interval_secs: mb
            .poll_interval_secs
            .as_ref()
            .map(|p| *p.get_ref())
            .unwrap_or(60)
            .max(1),
        batch_size: mb
            .batch_size
            .as_ref()
            .map(|b| *b.get_ref())
            .unwrap_or(DEFAULT_IMAP_BATCH)
            .clamp(1, 5000),
        max_message_bytes,
    }
}
