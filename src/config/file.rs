//! The TOML file as written by the admin (SPEC 10). Unknown keys are mistakes; spans are kept
//! on the fields whose *meaning* is checked later, so every mistake can name its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

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
    /// Sections read by later parts of mailgate (outbox, SLA, HTTP API, escalation gate).
    pub smtp: Option<toml::Table>,
    pub sla: Option<toml::Table>,
    pub http: Option<toml::Table>,
    pub escalation: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    pub url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsFile {
    pub prefix: Option<Spanned<String>>,
    pub support_address: Option<Spanned<String>>,
    pub secret_file: Option<Spanned<String>>,
    pub secret_env: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Support,
    Escalation,
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
    #[serde(default = "default_role")]
    pub role: Role,
    pub host: Option<Spanned<String>>,
    pub port: Option<u16>,
    pub tls: Option<Spanned<TlsMode>>,
    pub ca_file: Option<Spanned<String>>,
    pub username: Option<String>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub folder: Option<String>,
    pub processed_folder: Option<String>,
    pub rejected_folder: Option<String>,
    pub quarantine_folder: Option<String>,
    pub idle: Option<bool>,
    pub poll_interval_secs: Option<Spanned<u64>>,
    pub batch_size: Option<Spanned<usize>>,
    pub max_message_bytes: Option<u64>,
}

fn default_role() -> Role {
    Role::Support
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Larger mails are quarantined (default 25 MB).
    pub max_message_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// Messages applied per database transaction during import (default 250).
    pub batch_size: Option<usize>,
}
