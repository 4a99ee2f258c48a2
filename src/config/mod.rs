//! Configuration: one TOML file (SPEC 10) plus environment → typed [`Settings`].
//!
//! Lookup order: `--config FILE`, `$MAILGATE_CONFIG`, `./mailgate.toml`, built-in defaults.
//! `$MAILGATE_DATABASE_URL` overrides `database.url`. Every mistake is reported with its line.

mod escalation;
mod file;
mod limits;
mod secret;
mod smtp;

use std::{collections::HashMap, path::Path};

pub use file::{Role, TlsMode};
pub use limits::Limits;
pub use secret::{Secret, SecretError, SecretSource};
pub use smtp::{DEFAULT_SMTP_POOL_SIZE, SmtpSettings};

use crate::domain::{AddressPatterns, EmailAddress, Mailbox};
use file::{FileConfig, MailboxFile};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://mailgate.db";
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
pub const DEFAULT_IMPORT_BATCH: usize = 500;
/// IDLE is re-issued every 25 minutes unless configured otherwise.
pub const DEFAULT_IDLE_RENEW_SECS: u64 = 25 * 60;
/// Messages an IMAP poller fetches and commits together (memory is bounded by bytes too).
pub const DEFAULT_IMAP_BATCH: usize = 500;
pub const DEFAULT_SUPPORT_ADDRESS: &str = "Support <support@localhost>";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Where these settings came from: a path, or "built-in defaults".
    pub origin: String,
    pub database_url: String,
    pub tickets: TicketSettings,
    pub mailboxes: Vec<MailboxSettings>,
    pub notify: NotifySettings,
    /// `[smtp]`: the outbox sender of `mailgate run`; `None`: nothing is sent.
    pub smtp: Option<SmtpSettings>,
    /// `[escalation]`: who may escalate and the evidence required (SPEC 4).
    pub escalation: crate::escalation::rules::EscalationRules,
    pub max_message_bytes: usize,
    /// `[limits]`: the header, address, References and MIME budgets of one mail.
    pub parse_limits: crate::parse::ParseLimits,
    pub import_batch_size: usize,
}

#[derive(Debug, Clone)]
pub struct TicketSettings {
    pub prefix: String,
    pub support_address: Mailbox,
    /// Other addresses that deliver into the support mailboxes (`help@`, old addresses): mail
    /// to them counts as addressed to support, and they are never sent to.
    pub aliases: Vec<EmailAddress>,
    /// Signs Message-IDs and reply tokens; `None` disables plus-address threading.
    pub secret: Option<Secret>,
}

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

#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub technicians: Vec<EmailAddress>,
    pub agents: AddressPatterns,
    /// Customer domain → primary contact copied on status mail.
    pub primary_contacts: HashMap<String, EmailAddress>,
    /// Notification bodies: built-in templates plus `templates_dir` overrides, all checked.
    pub templates: crate::outbox::templates::Templates,
    /// The per-recipient cap on automatic mail (`max_automatic_per_hour`, default 10).
    pub rate_cap: crate::outbox::RateCap,
}

/// One mistake in the config file, with the line it is on when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{}", render_issues(.origin, .issues))]
    Invalid {
        origin: String,
        issues: Vec<ConfigIssue>,
    },
}

fn render_issues(origin: &str, issues: &[ConfigIssue]) -> String {
    let mut out = format!("{} mistake(s) in {origin}:", issues.len());
    for i in issues {
        match i.line {
            Some(line) => out.push_str(&format!("\n  {origin}:{line}: {}", i.message)),
            None => out.push_str(&format!("\n  {origin}: {}", i.message)),
        }
    }
    out
}

impl Settings {
    /// Finds and loads the configuration (see module docs for the lookup order).
    pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("MAILGATE_CONFIG").map(Into::into))
            .or_else(|| {
                let local = Path::new("mailgate.toml");
                local.exists().then(|| local.to_path_buf())
            });
        let mut settings = match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::Read {
                    path: path.display().to_string(),
                    error,
                })?;
                Settings::from_toml(&text, &path.display().to_string())?
            }
            None => Settings::from_toml("", "built-in defaults")?,
        };
        if let Ok(url) = std::env::var("MAILGATE_DATABASE_URL")
            && !url.trim().is_empty()
        {
            settings.database_url = url;
        }
        Ok(settings)
    }

    /// Parses and validates a config text. Collects every mistake rather than stopping at
    /// the first, so `mailgate config check` can list them all.
    pub fn from_toml(text: &str, origin: &str) -> Result<Settings, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            origin: origin.to_string(),
            issues,
        };
        let raw: FileConfig = toml::from_str(text).map_err(|e| {
            invalid(vec![ConfigIssue {
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_string(),
            }])
        })?;
        let mut issues = Vec::new();
        let mut issue = |span: Option<std::ops::Range<usize>>, message: String| {
            issues.push(ConfigIssue {
                line: span.map(|s| line_of(text, s.start)),
                message,
            })
        };

        let prefix = match &raw.tickets.prefix {
            Some(p) if !valid_prefix(p.get_ref()) => {
                issue(
                    Some(p.span()),
                    format!(
                        "tickets.prefix {:?} must be 1 to 10 capital letters (A-Z), e.g. SUP",
                        p.get_ref()
                    ),
                );
                "SUP".to_string()
            }
            Some(p) => p.get_ref().clone(),
            None => "SUP".to_string(),
        };
        let support_text = raw.tickets.support_address.as_ref();
        let support_address = Mailbox::parse(
            support_text
                .map(|s| s.get_ref().as_str())
                .unwrap_or(DEFAULT_SUPPORT_ADDRESS),
        )
        .map_err(|e| {
            issue(
                support_text.map(|s| s.span()),
                format!("tickets.support_address: {e}"),
            )
        })
        .ok();
        let mut aliases = Vec::new();
        for a in &raw.tickets.aliases {
            match EmailAddress::parse(a.get_ref()) {
                Ok(a) => aliases.push(a),
                Err(e) => issue(Some(a.span()), format!("tickets.aliases: {e}")),
            }
        }
        let secret = read_secret(
            &raw.tickets.secret_env,
            &raw.tickets.secret_file,
            "tickets.secret",
            &mut issue,
        );

        let mut mailboxes = Vec::new();
        for mb in &raw.mailboxes {
            if mailboxes
                .iter()
                .any(|m: &MailboxSettings| &m.name == mb.name.get_ref())
            {
                issue(
                    Some(mb.name.span()),
                    format!("mailbox name {:?} is used twice", mb.name.get_ref()),
                );
            }
            mailboxes.push(mailbox_settings(mb, &mut issue));
        }

        let mut technicians = Vec::new();
        for t in &raw.notify.technicians {
            match EmailAddress::parse(t.get_ref()) {
                Ok(a) => technicians.push(a),
                Err(e) => issue(Some(t.span()), format!("notify.technicians: {e}")),
            }
        }
        let agent_patterns: Vec<&str> = raw
            .notify
            .agents
            .iter()
            .map(|a| a.get_ref().as_str())
            .collect();
        let agents = AddressPatterns::new(&agent_patterns).unwrap_or_else(|e| {
            let span = raw
                .notify
                .agents
                .iter()
                .find(|a| a.get_ref().trim() == e.pattern)
                .map(|a| a.span());
            issue(span, format!("notify.agents: {e}"));
            AddressPatterns::empty()
        });
        let mut primary_contacts = HashMap::new();
        for (domain, contact) in &raw.notify.primary_contacts {
            match EmailAddress::parse(contact.get_ref()) {
                Ok(a) => {
                    primary_contacts.insert(domain.to_lowercase(), a);
                }
                Err(e) => issue(
                    Some(contact.span()),
                    format!("notify.primary_contacts.{domain}: {e}"),
                ),
            }
        }

        let database_url = match &raw.database.url {
            Some(u)
                if !(u.get_ref().starts_with("sqlite:") || u.get_ref().starts_with("postgres")) =>
            {
                issue(
                    Some(u.span()),
                    format!(
                        "database.url {:?} must start with sqlite: or postgres://",
                        u.get_ref()
                    ),
                );
                DEFAULT_DATABASE_URL.to_string()
            }
            Some(u) => u.get_ref().clone(),
            None => DEFAULT_DATABASE_URL.to_string(),
        };
        let max_message_bytes = raw
            .limits
            .max_message_bytes
            .map(|b| b as usize)
            .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
        let parse_limits = limits::parse_limits(&raw.limits, &mut issue);
        let import_batch_size = raw
            .import
            .batch_size
            .unwrap_or(DEFAULT_IMPORT_BATCH)
            .clamp(1, 10_000);

        let templates = notify_templates(&raw.notify.templates_dir, origin, &mut issue);
        let rate_cap = crate::outbox::RateCap {
            max: raw
                .notify
                .max_automatic_per_hour
                .as_ref()
                .map(|m| *m.get_ref())
                .unwrap_or(crate::outbox::RateCap::default().max),
            window_secs: 3600,
        };
        let smtp = raw
            .smtp
            .as_ref()
            .map(|s| smtp::smtp_settings(s, &mut issue));
        let escalation =
            escalation::escalation_rules(raw.escalation.as_ref(), &raw.mailboxes, &mut issue);

        let (true, Some(support_address)) = (issues.is_empty(), support_address) else {
            return Err(invalid(issues));
        };
        Ok(Settings {
            origin: origin.to_string(),
            database_url,
            tickets: TicketSettings {
                prefix,
                support_address,
                aliases,
                secret,
            },
            mailboxes: mailboxes
                .into_iter()
                .map(|mut m| {
                    if m.max_message_bytes == 0 {
                        m.max_message_bytes = max_message_bytes;
                    }
                    m
                })
                .collect(),
            notify: NotifySettings {
                technicians,
                agents,
                primary_contacts,
                templates,
                rate_cap,
            },
            smtp,
            escalation,
            max_message_bytes,
            parse_limits,
            import_batch_size,
        })
    }

    /// The mailbox called `name`, or an error listing the configured ones.
    pub fn mailbox(&self, name: &str) -> Result<&MailboxSettings, String> {
        self.mailboxes
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.mailboxes.iter().map(|m| m.name.as_str()).collect();
                if known.is_empty() {
                    format!("no mailbox named {name:?}: the configuration defines no [[mailboxes]]")
                } else {
                    format!(
                        "no mailbox named {name:?}; configured: {}",
                        known.join(", ")
                    )
                }
            })
    }

    /// Sections present in the file that this version does not act on yet.
    pub fn unused_sections(text: &str) -> Vec<&'static str> {
        let Ok(raw) = toml::from_str::<FileConfig>(text) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, present) in [("sla", raw.sla.is_some()), ("http", raw.http.is_some())] {
            if present {
                out.push(name);
            }
        }
        out
    }
}

fn mailbox_settings(
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
                "mailbox {name}: tls = \"none\" is allowed only for a loopback host, not {:?}",
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
        max_message_bytes: mb.max_message_bytes.map(|b| b as usize).unwrap_or(0),
    }
}

fn read_secret(
    env: &Option<toml::Spanned<String>>,
    file: &Option<toml::Spanned<String>>,
    what: &str,
    issue: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
) -> Option<Secret> {
    let span = env.as_ref().or(file.as_ref()).map(|s| s.span());
    let source = SecretSource::from_pair(
        env.as_ref().map(|s| s.get_ref().as_str()),
        file.as_ref().map(|s| s.get_ref().as_str()),
    );
    match source {
        Err(e) => {
            issue(span, format!("{what}: {e}"));
            None
        }
        Ok(None) => None,
        Ok(Some(src)) => match src.read() {
            Ok(secret) => Some(secret),
            Err(e) => {
                issue(span, format!("{what}: {e}"));
                None
            }
        },
    }
}

/// The notification templates: the built-in ones, overridden by the files of `templates_dir`
/// (relative to the config file's directory). Each problem (unreadable directory, syntax error,
/// undefined variable) is an issue on the line of `templates_dir`.
fn notify_templates(
    dir: &Option<toml::Spanned<String>>,
    origin: &str,
    issue: &mut impl FnMut(Option<std::ops::Range<usize>>, String),
) -> crate::outbox::templates::Templates {
    use crate::outbox::templates::Templates;
    let Some(dir) = dir else {
        return Templates::default();
    };
    let mut path = std::path::PathBuf::from(dir.get_ref());
    if path.is_relative()
        && let Some(base) = Path::new(origin).parent().filter(|p| p.is_dir())
    {
        path = base.join(path);
    }
    match Templates::load(Some(&path)) {
        Ok(t) => t,
        Err(errors) => {
            for e in errors {
                issue(Some(dir.span()), format!("notify.templates_dir: {e}"));
            }
            Templates::default()
        }
    }
}

fn valid_prefix(p: &str) -> bool {
    (1..=10).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests;
