//! The TOML file as written by the admin (SPEC 10). Unknown keys are mistakes; spans are kept
//! on the fields whose *meaning* is checked later, so every mistake can name its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::role::Role;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub database: DatabaseFile,
    #[serde(default)]
    pub tickets: TicketsFile,
    #[serde(default)]
    pub mailboxes: Vec<MailboxFile>,
    #[serde(default)]
    pub notify: NotifyFile,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub import: ImportFile,
    /// The outbox sender (`mailgate run`); absent: notifications wait in the outbox.
    pub smtp: Option<SmtpFile>,
    /// SLA pings (SPEC 7): checked, not acted on by this version yet.
    pub sla: Option<SlaFile>,
    /// The HTTP API (SPEC 9): checked, not served by this version yet.
    pub http: Option<HttpFile>,
    /// The escalation gate's rules (`config::escalation`); absent: nobody may escalate.
    pub escalation: Option<super::escalation::EscalationFile>,
    /// Whose Authentication-Results are believed (`config::security`).
    #[serde(default)]
    pub security: super::security::SecurityFile,
    /// Monitoring systems whose alerts open tickets (`config::alerts`).
    #[serde(default)]
    pub alerts: Vec<super::alerts::AlertFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// Without a password: a URL with one is refused (use `url_env` or `url_file`).
    pub url: Option<Spanned<String>>,
    /// The environment variable holding the URL (which may carry a password).
    pub url_env: Option<Spanned<String>>,
    /// The file holding the URL (trailing newline removed).
    pub url_file: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsFile {
    pub prefix: Option<Spanned<String>>,
    pub support_address: Option<Spanned<String>>,
    /// Other addresses that deliver into the support mailboxes (aliases such as help@).
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    /// List ids (RFC 2919) of groups that are support itself: their mail is a person's.
    #[serde(default)]
    pub own_lists: Vec<Spanned<String>>,
    pub secret_file: Option<Spanned<String>>,
    pub secret_env: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    Implicit,
    Starttls,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub role: Role,
    pub host: Option<Spanned<String>>,
    pub port: Option<u16>,
    pub tls: Option<Spanned<TlsMode>>,
    pub ca_file: Option<Spanned<String>>,
    pub username: Option<String>,
    /// The address mail to this mailbox is sent to, when `username` is not it (file-fed or
    /// aliased mailboxes); one of mailgate's own addresses (`config::mailbox`).
    pub address: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    /// `"password"` (the default) or `"oauth2"` with the `oauth2` table (`config::oauth2`).
    pub auth: Option<Spanned<super::oauth2::AuthKind>>,
    pub oauth2: Option<Spanned<super::oauth2::OAuth2File>>,
    pub folder: Option<String>,
    pub processed_folder: Option<String>,
    pub rejected_folder: Option<String>,
    pub quarantine_folder: Option<String>,
    pub idle: Option<bool>,
    /// IDLE is ended and re-issued after this many seconds (default 1500, at most 1740).
    pub idle_renew_secs: Option<Spanned<u64>>,
    pub poll_interval_secs: Option<Spanned<u64>>,
    pub batch_size: Option<Spanned<usize>>,
    pub max_message_bytes: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    #[serde(default)]
    pub technicians: Vec<Spanned<String>>,
    #[serde(default)]
    pub agents: Vec<Spanned<String>>,
    #[serde(default)]
    pub primary_contacts: BTreeMap<String, Spanned<String>>,
    /// Directory of template files overriding the built-in ones (`acknowledgement.txt`, …);
    /// relative to the config file.
    pub templates_dir: Option<Spanned<String>>,
    /// Automatic mails per recipient per hour before further ones are held (default 10).
    pub max_automatic_per_hour: Option<Spanned<u32>>,
    /// An agent whose mail is relayed to an unassigned ticket becomes its assignee (default
    /// false).
    pub assign_on_first_reply: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Larger mails are quarantined (default 25 MB, at most 512 MiB).
    pub max_message_bytes: Option<Spanned<u64>>,
    /// Participants one mail may add to a new ticket (its Cc); the rest are only recorded.
    pub max_new_participants: Option<Spanned<u32>>,
    /// Addresses one received mail may make mailgate write to automatically.
    pub max_automatic_recipients: Option<Spanned<u32>>,
    /// A larger header block is quarantined before it is parsed (default 256 KiB).
    pub max_header_bytes: Option<Spanned<u64>>,
    /// A header with more fields is quarantined before it is parsed (default 1000).
    pub max_header_count: Option<Spanned<u64>>,
    /// Addresses kept of each of To, Cc, Reply-To, Delivered-To; the rest is dropped (1000).
    pub max_addresses_per_header: Option<Spanned<u64>>,
    /// Message-IDs kept of References: the first and the last half (default 100).
    pub max_references: Option<Spanned<u64>>,
    /// A mail with more MIME parts is quarantined (default 1000).
    pub max_mime_parts: Option<Spanned<u64>>,
    /// A mail whose multiparts nest deeper is quarantined (default 32).
    pub max_mime_depth: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// Messages applied per database transaction during import (default 250).
    pub batch_size: Option<usize>,
}

/// `[smtp]`: where the outbox sender delivers (SPEC 10).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub host: Spanned<String>,
    pub port: Option<u16>,
    pub tls: Option<Spanned<TlsMode>>,
    pub ca_file: Option<Spanned<String>>,
    pub username: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    /// `"password"` (the default) or `"oauth2"` with `[smtp.oauth2]` (`config::oauth2`).
    pub auth: Option<Spanned<super::oauth2::AuthKind>>,
    pub oauth2: Option<Spanned<super::oauth2::OAuth2File>>,
    /// Name sent with EHLO (default: this machine's host name).
    pub hello_name: Option<Spanned<String>>,
    /// SMTP connections used at once (default 4).
    pub pool_size: Option<Spanned<u32>>,
    /// Seconds per SMTP command before the attempt counts as failed (default 30).
    pub timeout_secs: Option<Spanned<u64>>,
    /// Attempts before a temporarily failing mail fails for good (default 8).
    pub max_attempts: Option<Spanned<u32>>,
    /// First retry delay; doubles per attempt up to `retry_max_secs` (defaults 30 s, 30 min).
    pub retry_base_secs: Option<Spanned<u64>>,
    pub retry_max_secs: Option<Spanned<u64>>,
}

/// `[sla]` (SPEC 7): durations such as `"24h"` or `"3d"`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaFile {
    pub open_update_every: Option<Spanned<String>>,
    /// The open-ticket interval for critical tickets (default: `open_update_every`).
    pub critical_update_every: Option<Spanned<String>>,
    pub pending_reminder_after: Option<Spanned<String>>,
    pub auto_close_pending_after: Option<Spanned<String>>,
    /// How often `mailgate run` makes an SLA pass (default 1m).
    pub pass_every: Option<Spanned<String>>,
    /// Working time: when given, every SLA duration counts only these hours.
    pub calendar: Option<Spanned<CalendarFile>>,
}

/// `[sla.calendar]`: `timezone = "Europe/Berlin"`, `days = ["mon", …]` (default Monday to
/// Friday), `hours = "09:00-17:00"` (an end before the start runs overnight), `holidays =
/// ["2026-12-25", …]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    pub timezone: Option<Spanned<String>>,
    pub days: Option<Spanned<Vec<String>>>,
    pub hours: Option<Spanned<String>>,
    #[serde(default)]
    pub holidays: Vec<Spanned<String>>,
}

/// `[http]` (SPEC 10): the API's address and where its bearer token comes from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    pub listen: Option<Spanned<String>>,
    pub token_env: Option<Spanned<String>>,
    pub token_file: Option<Spanned<String>>,
}
