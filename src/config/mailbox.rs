//! One `[[mailboxes]]` entry (SPEC 10) → [`MailboxSettings`], every mistake with its line.
//!
//! Each mailbox has a known address where it can: `address = "..."`, else its IMAP `username`
//! when that is an address. The known addresses are mailgate's own (`OwnAddresses::of`): mail to
//! them counts as addressed to mailgate, so the answers to it (an escalation's refusal or
//! confirmation) are sent, not held. [`MailboxSettings::address_warnings`] names the escalation mailboxes
//! without one, for `mailgate config check`.

use super::file::MailboxFile;
use super::oauth2::{OAuth2Settings, oauth2_settings};
use super::role::Role;
use crate::domain::EmailAddress;

use super::{
    DEFAULT_IDLE_RENEW_SECS, DEFAULT_IMAP_BATCH, LOOPBACK_HOSTS, SecretSource, TlsMode,
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
    /// The address mail to this mailbox is sent to: `address`, else `username` when it is an
    /// address; `None`: unknown (see [`MailboxSettings::address_warnings`]).
    pub address: Option<EmailAddress>,
    pub password: Option<SecretSource>,
    /// `auth = "oauth2"`: how the mailbox signs in instead of a password (`None`: with the
    /// password, as always).
    pub oauth2: Option<OAuth2Settings>,
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
    let oauth2 = oauth2_settings(
        mb.auth.as_ref(),
        mb.oauth2.as_ref(),
        mb.password_env
            .as_ref()
            .or(mb.password_file.as_ref())
            .map(|s| s.span()),
        &format!("mailbox {name}"),
        issue,
    );
    let uses_oauth2 = mb
        .auth
        .as_ref()
        .is_some_and(|a| *a.get_ref() == super::oauth2::AuthKind::Oauth2);
    if let Some(host) = &mb.host {
        if mb.username.is_none() {
            issue(
                Some(host.span()),
                format!("mailbox {name}: host is set but username is missing"),
            );
        }
        if !uses_oauth2
            && password.is_none()
            && mb.password_env.is_none()
            && mb.password_file.is_none()
        {
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
    let address = known_address(mb, &name, issue);
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
        address,
        password,
        oauth2,
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

/// The mailbox's own address: `address` (checked), else the `username` when it is an address.
fn known_address(
    mb: &MailboxFile,
    name: &str,
    issue: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
) -> Option<EmailAddress> {
    if let Some(address) = &mb.address {
        return EmailAddress::parse(address.get_ref().trim())
            .map_err(|e| {
                issue(
                    Some(address.span()),
                    format!("mailbox {name}: address {:?}: {e}", address.get_ref()),
                )
            })
            .ok();
    }
    mb.username
        .as_deref()
        .filter(|u| u.contains('@'))
        .and_then(|u| EmailAddress::parse(u.trim()).ok())
}

impl MailboxSettings {
    /// One warning per escalation mailbox without a known address: mail to it is not
    /// recognised as addressed to mailgate, so its refusals and confirmations to tier 1 would
    /// be held.
    pub fn address_warnings(mailboxes: &[MailboxSettings]) -> Vec<String> {
        address_warnings(mailboxes)
    }
}

fn address_warnings(mailboxes: &[MailboxSettings]) -> Vec<String> {
    mailboxes
        .iter()
        .filter(|m| m.role == Role::Escalation && m.address.is_none())
        .map(|m| {
            let why = match &m.username {
                Some(user) => format!("its username {user:?} is not an email address"),
                None => "no username: it is fed by ingest or import".to_string(),
            };
            format!(
                "mailbox {}: escalation mailbox without a known address ({why}): refusals and \
                 confirmations to tier 1 would be held as not addressed to mailgate; set \
                 address = \"escalations@your.domain\" in its [[mailboxes]] entry",
                m.name
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn mailboxes(entries: &str) -> Vec<MailboxSettings> {
        let text =
            format!("[escalation]\nallowed_senders = [\"*@tier1.example.test\"]\n\n{entries}");
        match Settings::from_toml(&text, "t") {
            Ok(s) => s.mailboxes,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_known_address_is_the_explicit_one_else_an_address_username() {
        let found = mailboxes(
            "[[mailboxes]]\nname = \"a\"\nrole = \"escalation\"\n\
             address = \"Escalations@Example.Test\"\n\n\
             [[mailboxes]]\nname = \"b\"\nhost = \"127.0.0.1\"\nusername = \"b@example.test\"\n\
             password_env = \"X\"\n\n\
             [[mailboxes]]\nname = \"c\"\nhost = \"127.0.0.1\"\nusername = \"imap-c\"\n\
             password_env = \"X\"\naddress = \"help@example.test\"\n\n\
             [[mailboxes]]\nname = \"d\"\nrole = \"escalation\"\nhost = \"127.0.0.1\"\n\
             username = \"imap-d\"\npassword_env = \"X\"\n\n\
             [[mailboxes]]\nname = \"e\"\nrole = \"escalation\"\n",
        );
        let known: Vec<Option<&str>> = found
            .iter()
            .map(|m| m.address.as_ref().map(EmailAddress::as_str))
            .collect();
        assert_eq!(
            known,
            [
                Some("escalations@example.test"),
                Some("b@example.test"),
                Some("help@example.test"),
                None,
                None
            ]
        );
        let warnings = address_warnings(&found);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("mailbox d: escalation mailbox without a known address (its username \"imap-d\" is not an email address)"), "{}", warnings[0]);
        assert!(warnings[1].starts_with("mailbox e: escalation mailbox without a known address (no username: it is fed by ingest or import)"), "{}", warnings[1]);
        assert!(warnings[1].contains("set address = "), "{}", warnings[1]);
    }

    #[test]
    fn an_invalid_address_is_a_mistake_on_its_line() {
        let text = "[[mailboxes]]\nname = \"a\"\naddress = \"not an address\"\n";
        let Err(crate::config::ConfigError::Invalid { issues, .. }) =
            Settings::from_toml(text, "t")
        else {
            panic!("accepted")
        };
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].line, Some(3));
        assert!(
            issues[0]
                .message
                .starts_with("mailbox a: address \"not an address\"")
        );
    }
}
