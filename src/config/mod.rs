//! Configuration: one TOML file (SPEC 10) plus environment → typed [`Settings`].
//!
//! Lookup order: `--config FILE`, `$MAILGATE_CONFIG`, `./mailgate.toml`, built-in defaults.
//! `$MAILGATE_DATABASE_URL` overrides `database.url` (and `url_env` / `url_file`). Every
//! mistake is reported with its line, all of them in one run (see [`file_parse`]).

mod alerts;
mod database;
mod escalation;
mod file;
mod file_parse;
mod http;
mod limits;
mod loopback;
mod mailbox;
mod oauth2;
mod rate_cap;
mod role;
mod secret;
mod security;
mod sla;
mod smtp;

use std::{collections::HashMap, path::Path};

pub use database::{DatabaseLocation, database_location, redact_url};
pub use file::TlsMode;
pub use http::HttpSettings;
pub use limits::{Limits, MAX_MESSAGE_BYTES_CEILING};
pub use loopback::{LOOPBACK_HOSTS, is_loopback};
pub use mailbox::MailboxSettings;
use mailbox::mailbox_settings;
pub use oauth2::{
    AuthKind, GOOGLE_SCOPES, MICROSOFT_SCOPES, OAuth2Settings, Provider, ProviderKind,
};
pub use rate_cap::RateCap;
pub use role::Role;
pub use secret::{Secret, SecretSource};
pub use security::SecuritySettings;
pub use sla::{SlaSettings, show_duration};
pub use smtp::{DEFAULT_SMTP_POOL_SIZE, SmtpSettings};

use crate::domain::{AddressPatterns, EmailAddress, Mailbox};
use crate::templates::Templates;
use file::FileConfig;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://mailgate.db";
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
pub const DEFAULT_IMPORT_BATCH: usize = 500;
/// IDLE is re-issued every 25 minutes unless configured otherwise.
pub const DEFAULT_IDLE_RENEW_SECS: u64 = 25 * 60;
/// Messages an IMAP poller fetches and commits together (memory is bounded by bytes too).
pub const DEFAULT_IMAP_BATCH: usize = 500;
pub const DEFAULT_SUPPORT_ADDRESS: &str = "Support <support@localhost>";
/// Cc addresses of one mail that become participants of the ticket it opens.
pub const DEFAULT_MAX_NEW_PARTICIPANTS: usize = 10;
/// Addresses one received mail may make mailgate write to automatically.
pub const DEFAULT_MAX_AUTOMATIC_RECIPIENTS: usize = 10;

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
    /// `[security]`: whose Authentication-Results are believed.
    pub security: SecuritySettings,
    pub max_message_bytes: usize,
    /// `limits.max_new_participants`: Cc addresses one mail may make participants.
    pub max_new_participants: usize,
    /// `limits.max_automatic_recipients`: addresses one received mail may make us write to.
    pub max_automatic_recipients: usize,
    /// `[limits]`: the header, address, References and MIME budgets of one mail.
    pub parse_limits: crate::parse::ParseLimits,
    pub import_batch_size: usize,
    /// `[sla]`, checked (all off when absent): the pings `mailgate run` and `sla tick` send.
    pub sla: SlaSettings,
    /// `[http]`, checked; not served by this version yet.
    pub http: Option<HttpSettings>,
    /// `[[alerts]]`: the monitoring systems whose alerts open tickets (SPEC 7).
    pub alerts: crate::alerts::AlertSources,
}

#[derive(Debug, Clone)]
pub struct TicketSettings {
    pub prefix: String,
    pub support_address: Mailbox,
    /// Other addresses that deliver into the support mailboxes (`help@`, old addresses): mail
    /// to them counts as addressed to support, and they are never sent to.
    pub aliases: Vec<EmailAddress>,
    /// `own_lists`: list ids (lower case, without angle brackets) of groups that are support
    /// itself, besides those of its own addresses (`support.example.test`): mail through them
    /// is a person's mail, not list mail.
    pub own_lists: Vec<String>,
    /// Signs Message-IDs and reply tokens; `None` disables plus-address threading.
    pub secret: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub technicians: Vec<EmailAddress>,
    pub agents: AddressPatterns,
    /// Customer domain → primary contact copied on status mail.
    pub primary_contacts: HashMap<String, EmailAddress>,
    /// Notification bodies: built-in templates plus `templates_dir` overrides, all checked.
    pub templates: Templates,
    /// The per-recipient cap on automatic mail (`max_automatic_per_hour`, default 10).
    pub rate_cap: RateCap,
    /// An agent whose mail is relayed to an unassigned ticket becomes its assignee.
    pub assign_on_first_reply: bool,
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

/// The origin of settings read from no file.
const BUILT_IN_DEFAULTS: &str = "built-in defaults";

fn render_issues(origin: &str, issues: &[ConfigIssue]) -> String {
    if origin == BUILT_IN_DEFAULTS {
        // Without a file, the mistakes are in the environment (MAILGATE_DATABASE_URL).
        let mut out = format!("{} mistake(s) in the configuration:", issues.len());
        for i in issues {
            out.push_str(&format!("\n  {}", i.message));
        }
        return out;
    }
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
        let database_override = std::env::var("MAILGATE_DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty());
        let database_override = database_override.as_deref();
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::Read {
                    path: path.display().to_string(),
                    error,
                })?;
                Settings::parse(&text, &path.display().to_string(), database_override)
            }
            None => Settings::parse("", BUILT_IN_DEFAULTS, database_override),
        }
    }

    /// Parses and validates a config text. Collects every mistake rather than stopping at
    /// the first, so `mailgate config check` can list them all.
    pub fn from_toml(text: &str, origin: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, origin, None)
    }

    /// [`Settings::from_toml`], with `$MAILGATE_DATABASE_URL` (when set) in force over the
    /// file's database URL and checked the same way.
    fn parse(
        text: &str,
        origin: &str,
        database_override: Option<&str>,
    ) -> Result<Settings, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            origin: origin.to_string(),
            issues,
        };
        let (raw, shape_mistakes) = file_parse::parse_file_config(text);
        let mut issues: Vec<ConfigIssue> = shape_mistakes
            .into_iter()
            .map(|m| ConfigIssue {
                line: m.span.map(|s| line_of(text, s.start)),
                message: m.message,
            })
            .collect();
        let Some(raw) = raw else {
            issues.sort_by_key(|i| i.line.unwrap_or(usize::MAX));
            return Err(invalid(issues));
        };
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
        let mut own_lists = Vec::new();
        for l in &raw.tickets.own_lists {
            match crate::domain::list_id_of(l.get_ref()) {
                Some(id) => own_lists.push(id),
                None => issue(
                    Some(l.span()),
                    format!(
                        "tickets.own_lists: {:?} is not a list id (RFC 2919: the text of \
                         List-Id between < and >, e.g. \"support.example.test\")",
                        l.get_ref()
                    ),
                ),
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

        let database_url = database::database_url(&raw.database, database_override, &mut issue);
        let max_message_bytes = limits::message_limit(
            raw.limits.max_message_bytes.as_ref(),
            "limits.max_message_bytes",
            &mut issue,
        )
        .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
        let parse_limits = limits::parse_limits(&raw.limits, &mut issue);
        let import_batch_size = raw
            .import
            .batch_size
            .unwrap_or(DEFAULT_IMPORT_BATCH)
            .clamp(1, 10_000);

        let templates = notify_templates(&raw.notify.templates_dir, origin, &mut issue);
        let rate_cap = RateCap {
            max: raw
                .notify
                .max_automatic_per_hour
                .as_ref()
                .map(|m| *m.get_ref())
                .unwrap_or(RateCap::default().max),
            window_secs: 3600,
        };
        let smtp = raw
            .smtp
            .as_ref()
            .map(|s| smtp::smtp_settings(s, &mut issue));
        let escalation_mailboxes = raw
            .mailboxes
            .iter()
            .filter(|m| m.role == Role::Escalation)
            .map(|m| &m.name);
        let escalation =
            escalation::escalation_rules(raw.escalation.as_ref(), escalation_mailboxes, &mut issue);
        let security = security::security_settings(&raw.security, &mut issue);
        let sla = raw
            .sla
            .as_ref()
            .map(|s| sla::sla_settings(s, &mut issue))
            .unwrap_or_default();
        let http = raw
            .http
            .as_ref()
            .map(|h| http::http_settings(h, &mut issue));
        if let Some(dmarc) = raw
            .escalation
            .as_ref()
            .and_then(|e| e.require_dmarc_pass.as_ref())
            && *dmarc.get_ref()
            && security.trusted_authserv_ids.is_empty()
        {
            issue(
                Some(dmarc.span()),
                "escalation.require_dmarc_pass needs [security] trusted_authserv_ids: the \
                 authserv-id of the receiving server whose Authentication-Results are believed \
                 (any other header saying dmarc=pass may be written by the sender)"
                    .into(),
            );
        }
        let alerts = alerts::alert_sources(
            &raw.alerts,
            !security.trusted_authserv_ids.is_empty(),
            &mut issue,
        );
        let max_new_participants = limits::count_limit(
            &raw.limits.max_new_participants,
            DEFAULT_MAX_NEW_PARTICIPANTS,
            "limits.max_new_participants",
            &mut issue,
        );
        let max_automatic_recipients = limits::count_limit(
            &raw.limits.max_automatic_recipients,
            DEFAULT_MAX_AUTOMATIC_RECIPIENTS,
            "limits.max_automatic_recipients",
            &mut issue,
        );

        let (true, Some(support_address)) = (issues.is_empty(), support_address) else {
            // Top to bottom, as the file is read; those of no line (the environment) last.
            issues.sort_by_key(|i| i.line.unwrap_or(usize::MAX));
            return Err(invalid(issues));
        };
        Ok(Settings {
            origin: origin.to_string(),
            database_url,
            tickets: TicketSettings {
                prefix,
                support_address,
                aliases,
                own_lists,
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
                assign_on_first_reply: raw.notify.assign_on_first_reply.unwrap_or(false),
            },
            smtp,
            escalation,
            security,
            max_message_bytes,
            max_new_participants,
            max_automatic_recipients,
            parse_limits,
            import_batch_size,
            sla,
            http,
            alerts,
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
        for (name, present) in [("http", raw.http.is_some())] {
            if present {
                out.push(name);
            }
        }
        out
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
) -> Templates {
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
