//! `[smtp]` → [`SmtpSettings`]: where and how the outbox sender delivers (SPEC 5, 10).

use std::ops::Range;
use std::time::Duration;

use super::file::{SmtpFile, TlsMode};
use super::oauth2::{AuthKind, OAuth2Settings, oauth2_settings};
use super::{LOOPBACK_HOSTS, SecretSource, is_loopback};

pub const DEFAULT_SMTP_POOL_SIZE: u32 = 4;
pub const DEFAULT_SMTP_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_SMTP_MAX_ATTEMPTS: u32 = 8;
pub const DEFAULT_SMTP_RETRY_BASE_SECS: u64 = 30;
pub const DEFAULT_SMTP_RETRY_MAX_SECS: u64 = 30 * 60;

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    /// Default: 465 (implicit), 587 (starttls), 25 (none).
    pub port: u16,
    pub tls: TlsMode,
    /// Trusted in addition to the system roots.
    pub ca_file: Option<String>,
    pub username: Option<String>,
    /// Set exactly when `username` is, unless `oauth2` is.
    pub password: Option<SecretSource>,
    /// `auth = "oauth2"`: AUTH with an access token instead of the password (needs
    /// `username`).
    pub oauth2: Option<OAuth2Settings>,
    pub hello_name: Option<String>,
    /// SMTP connections (and mails in flight) at once.
    pub pool_size: u32,
    pub timeout: Duration,
    /// Attempts before a temporarily failing mail fails for good.
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl SmtpSettings {
    /// `host:port (tls)`, for logs and `config check` (never the credentials).
    pub fn describe(&self) -> String {
        let tls = match self.tls {
            TlsMode::Implicit => "implicit TLS",
            TlsMode::Starttls => "STARTTLS",
            TlsMode::None => "no TLS",
        };
        let auth = match (&self.username, &self.oauth2) {
            (Some(u), Some(oauth2)) => format!(", AUTH as {u} with {}", oauth2.describe()),
            (Some(u), None) => format!(", AUTH as {u}"),
            (None, _) => String::new(),
        };
        format!("{}:{} ({tls}{auth})", self.host, self.port)
    }
}

pub(super) fn smtp_settings(
    raw: &SmtpFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> SmtpSettings {
    let host = raw.host.get_ref().trim().to_string();
    if host.is_empty() {
        issue(Some(raw.host.span()), "smtp.host must not be empty".into());
    }
    let tls = raw
        .tls
        .as_ref()
        .map(|t| *t.get_ref())
        .unwrap_or(TlsMode::Starttls);
    if let Some(t) = &raw.tls
        && *t.get_ref() == TlsMode::None
        && !is_loopback(&host)
    {
        issue(
            Some(t.span()),
            format!(
                "smtp: tls = \"none\" would send mail and password in clear; it is allowed \
                 only for {LOOPBACK_HOSTS}, not {host:?}"
            ),
        );
    }
    let password = SecretSource::from_pair(
        raw.password_env.as_ref().map(|s| s.get_ref().as_str()),
        raw.password_file.as_ref().map(|s| s.get_ref().as_str()),
    )
    .unwrap_or_else(|e| {
        issue(
            raw.password_env.as_ref().map(|s| s.span()),
            format!("smtp.password: {e}"),
        );
        None
    });
    let password_span = raw
        .password_env
        .as_ref()
        .or(raw.password_file.as_ref())
        .map(|s| s.span());
    let oauth2 = oauth2_settings(
        raw.auth.as_ref(),
        raw.oauth2.as_ref(),
        password_span,
        "smtp",
        issue,
    );
    let uses_oauth2 = raw
        .auth
        .as_ref()
        .is_some_and(|a| *a.get_ref() == AuthKind::Oauth2);
    if uses_oauth2 && raw.username.is_none() {
        issue(
            raw.auth.as_ref().map(|a| a.span()),
            "smtp: auth = \"oauth2\" needs username (the mailbox the token is for)".into(),
        );
    }
    match (&raw.username, &password) {
        (Some(_), None) if uses_oauth2 => {}
        (Some(u), None) if raw.password_env.is_none() && raw.password_file.is_none() => issue(
            Some(u.span()),
            "smtp: username is set but neither password_env nor password_file".into(),
        ),
        (None, Some(_)) => issue(
            raw.password_env
                .as_ref()
                .or(raw.password_file.as_ref())
                .map(|s| s.span()),
            "smtp: a password is set but no username".into(),
        ),
        _ => {}
    }
    if let Some(ca) = &raw.ca_file
        && let Err(e) = std::fs::metadata(ca.get_ref())
    {
        issue(
            Some(ca.span()),
            format!("smtp.ca_file {:?}: {e}", ca.get_ref()),
        );
    }
    let mut ranged =
        |value: &Option<toml::Spanned<u64>>, key: &str, range: Range<u64>, default| match value {
            Some(v) if !range.contains(v.get_ref()) => {
                issue(
                    Some(v.span()),
                    format!(
                        "smtp.{key} must be {} to {}",
                        range.start,
                        range.end.saturating_sub(1)
                    ),
                );
                default
            }
            Some(v) => *v.get_ref(),
            None => default,
        };
    let widen = |v: &Option<toml::Spanned<u32>>| {
        v.as_ref()
            .map(|v| toml::Spanned::new(v.span(), u64::from(*v.get_ref())))
    };
    let pool_size = ranged(
        &widen(&raw.pool_size),
        "pool_size",
        1..65,
        u64::from(DEFAULT_SMTP_POOL_SIZE),
    );
    let timeout = ranged(
        &raw.timeout_secs,
        "timeout_secs",
        1..3601,
        DEFAULT_SMTP_TIMEOUT_SECS,
    );
    let max_attempts = ranged(
        &widen(&raw.max_attempts),
        "max_attempts",
        1..1001,
        u64::from(DEFAULT_SMTP_MAX_ATTEMPTS),
    );
    let retry_base = ranged(
        &raw.retry_base_secs,
        "retry_base_secs",
        1..86_401,
        DEFAULT_SMTP_RETRY_BASE_SECS,
    );
    let retry_max = ranged(
        &raw.retry_max_secs,
        "retry_max_secs",
        1..7 * 86_400 + 1,
        DEFAULT_SMTP_RETRY_MAX_SECS,
    );
    if retry_max < retry_base
        && let Some(v) = &raw.retry_max_secs
    {
        issue(
            Some(v.span()),
            format!("smtp.retry_max_secs ({retry_max}) is below retry_base_secs ({retry_base})"),
        );
    }
    SmtpSettings {
        port: raw.port.unwrap_or(match tls {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        }),
        host,
        tls,
        ca_file: raw.ca_file.as_ref().map(|c| c.get_ref().clone()),
        username: raw.username.as_ref().map(|u| u.get_ref().clone()),
        password,
        oauth2,
        hello_name: raw.hello_name.as_ref().map(|h| h.get_ref().clone()),
        pool_size: u32::try_from(pool_size).unwrap_or(DEFAULT_SMTP_POOL_SIZE),
        timeout: Duration::from_secs(timeout),
        max_attempts: u32::try_from(max_attempts).unwrap_or(DEFAULT_SMTP_MAX_ATTEMPTS),
        retry_base: Duration::from_secs(retry_base),
        retry_max: Duration::from_secs(retry_max.max(retry_base)),
    }
}
