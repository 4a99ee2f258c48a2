//! `auth = "password" | "oauth2"` and the `oauth2` table of a `[[mailboxes]]` entry or of
//! `[smtp]` (issue 17) → [`OAuth2Settings`], every mistake with its line.
//!
//! ```toml
//! auth = "oauth2"
//! [mailboxes.oauth2]            # or [smtp.oauth2]
//! provider = "microsoft"        # microsoft | google | custom
//! tenant = "contoso.onmicrosoft.com"   # microsoft only: tenant ID or domain
//! client_id = "…"
//! client_secret_env = "…"       # or client_secret_file; leave out for a public client
//! refresh_token_file = "/var/lib/mailgate/support.token"
//! scopes = ["…"]                # default: the provider's IMAP and SMTP scopes
//! token_url = "https://…"       # custom only (required)
//! device_authorization_url = "https://…"  # custom only
//! ```
//!
//! Only where things are is read here: the client secret and the refresh token are read when
//! a session signs in (`oauth::token`), never by the configuration.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{SecretSource, is_loopback};

/// The scopes of Microsoft 365 mailboxes: IMAP and SMTP as the signed-in user, and a refresh
/// token.
pub const MICROSOFT_SCOPES: &[&str] = &[
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
];
/// The scope of Gmail's IMAP and SMTP.
pub const GOOGLE_SCOPES: &[&str] = &["https://mail.google.com/"];

/// How a mailbox or `[smtp]` signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// LOGIN / AUTH PLAIN with `password_env` / `password_file` (the default).
    #[default]
    Password,
    /// SASL XOAUTH2 / OAUTHBEARER with an access token from the `oauth2` table.
    Oauth2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Microsoft,
    Google,
    Custom,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Google => "google",
            ProviderKind::Custom => "custom",
        }
    }
}

/// The `oauth2` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2File {
    pub provider: Spanned<ProviderKind>,
    pub tenant: Option<Spanned<String>>,
    pub client_id: Spanned<String>,
    pub client_secret_env: Option<Spanned<String>>,
    pub client_secret_file: Option<Spanned<String>>,
    pub refresh_token_file: Spanned<String>,
    pub scopes: Option<Spanned<Vec<String>>>,
    pub token_url: Option<Spanned<String>>,
    pub device_authorization_url: Option<Spanned<String>>,
}

/// The identity provider and what locates its endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// Microsoft Entra ID; `tenant` is the directory's ID or domain (or `organizations`).
    Microsoft {
        tenant: String,
    },
    Google,
    /// Any other authorization server, by its endpoints.
    Custom {
        token_url: String,
        device_authorization_url: Option<String>,
    },
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Microsoft { .. } => "microsoft",
            Provider::Google => "google",
            Provider::Custom { .. } => "custom",
        }
    }

    /// Where access tokens are refreshed (RFC 6749 section 6).
    pub fn token_url(&self) -> String {
        match self {
            Provider::Microsoft { tenant } => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
            }
            Provider::Google => "https://oauth2.googleapis.com/token".into(),
            Provider::Custom { token_url, .. } => token_url.clone(),
        }
    }

    /// Where the device authorization grant starts (RFC 8628), when the provider has one.
    pub fn device_authorization_url(&self) -> Option<String> {
        match self {
            Provider::Microsoft { tenant } => Some(format!(
                "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode"
            )),
            Provider::Google => Some("https://oauth2.googleapis.com/device/code".into()),
            Provider::Custom {
                device_authorization_url,
                ..
            } => device_authorization_url.clone(),
        }
    }

    /// The scopes asked for when none are configured.
    pub fn default_scopes(&self) -> Vec<String> {
        let scopes: &[&str] = match self {
            Provider::Microsoft { .. } => MICROSOFT_SCOPES,
            Provider::Google => GOOGLE_SCOPES,
            Provider::Custom { .. } => &[],
        };
        scopes.iter().map(|s| s.to_string()).collect()
    }
}

/// How a mailbox or `[smtp]` signs in with OAuth2. Holds where the secrets are, never them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Settings {
    pub provider: Provider,
    pub client_id: String,
    /// `None`: a public client (no secret sent).
    pub client_secret: Option<SecretSource>,
    /// Holds the refresh token; rewritten (mode 0600) when the provider rotates it.
    pub refresh_token_file: String,
    /// Space-joined into the refresh request's `scope`; empty (a custom provider without
    /// `scopes`): none sent, the server grants what the refresh token was granted.
    pub scopes: Vec<String>,
}

impl OAuth2Settings {
    /// `OAuth2 (provider, client …, token file …)`, for `config check` (never a secret).
    pub fn describe(&self) -> String {
        let provider = match &self.provider {
            Provider::Microsoft { tenant } => format!("microsoft, tenant {tenant}"),
            Provider::Google => "google".into(),
            Provider::Custom { token_url, .. } => format!("custom, token endpoint {token_url}"),
        };
        let secret = match &self.client_secret {
            Some(_) => "with a client secret",
            None => "public client",
        };
        format!(
            "OAuth2 ({provider}, client {}, {secret}, refresh token in {})",
            self.client_id, self.refresh_token_file
        )
    }
}

impl OAuth2Settings {
    /// For `config check`: a warning when the refresh token file cannot be read (no sign-in
    /// yet, or a wrong path); `account` is "mailbox NAME" or "smtp". Never its content.
    pub fn token_file_warning(&self, account: &str) -> Option<String> {
        let path = std::path::Path::new(&self.refresh_token_file);
        let why = match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() > 0 => return None,
            Ok(m) if m.is_file() => "is empty".to_string(),
            Ok(_) => "is not a file".to_string(),
            Err(e) => format!("cannot be read: {e}"),
        };
        Some(format!(
            "{account}: the refresh token file {} {why}: the account cannot sign in until a \
             refresh token is put there",
            self.refresh_token_file
        ))
    }
}

/// `auth` and `oauth2` of one section (`what`: "mailbox NAME" or "smtp") → `Some` settings
/// exactly when `auth = "oauth2"` and the table is right. `password_set`: whether the section
/// also names a password, which OAuth2 does not use (and which is then a mistake).
pub(super) fn oauth2_settings(
    auth: Option<&Spanned<AuthKind>>,
    table: Option<&Spanned<OAuth2File>>,
    password_set: Option<Range<usize>>,
    what: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<OAuth2Settings> {
    let kind = auth.map(|a| *a.get_ref()).unwrap_or_default();
    match (kind, table) {
        (AuthKind::Password, None) => None,
        (AuthKind::Password, Some(t)) => {
            issue(
                Some(t.span()),
                format!(
                    "{what}: an oauth2 table is set but auth is not \"oauth2\"; add auth = \"oauth2\" or remove the table"
                ),
            );
            None
        }
        (AuthKind::Oauth2, None) => {
            issue(
                auth.map(|a| a.span()),
                format!(
                    "{what}: auth = \"oauth2\" needs an oauth2 table (provider, client_id, refresh_token_file)"
                ),
            );
            None
        }
        (AuthKind::Oauth2, Some(t)) => {
            if let Some(span) = password_set {
                issue(
                    Some(span),
                    format!(
                        "{what}: auth = \"oauth2\" signs in with a token; remove password_env / password_file"
                    ),
                );
            }
            settings_of(t.get_ref(), what, issue)
        }
    }
}

fn settings_of(
    t: &OAuth2File,
    what: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<OAuth2Settings> {
    let mut ok = true;
    let mut mistake = |span: Range<usize>, message: String| {
        ok = false;
        issue(Some(span), format!("{what}: oauth2.{message}"));
    };
    let kind = *t.provider.get_ref();
    let only_for = |key: &str, value: &Option<Spanned<String>>, allowed: bool| {
        value.as_ref().filter(|_| !allowed).map(|v| {
            (
                v.span(),
                format!("{key} is not used with provider = \"{}\"", kind.as_str()),
            )
        })
    };
    for found in [
        only_for("tenant", &t.tenant, kind == ProviderKind::Microsoft),
        only_for("token_url", &t.token_url, kind == ProviderKind::Custom),
        only_for(
            "device_authorization_url",
            &t.device_authorization_url,
            kind == ProviderKind::Custom,
        ),
    ]
    .into_iter()
    .flatten()
    {
        mistake(found.0, found.1);
    }
    let provider = match kind {
        ProviderKind::Microsoft => match &t.tenant {
            Some(tenant) if valid_tenant(tenant.get_ref()) => Some(Provider::Microsoft {
                tenant: tenant.get_ref().trim().to_string(),
            }),
            Some(tenant) => {
                mistake(
                    tenant.span(),
                    format!(
                        "tenant {:?} must be the directory's ID or domain (letters, digits, '.', '-')",
                        tenant.get_ref()
                    ),
                );
                None
            }
            None => {
                mistake(
                    t.provider.span(),
                    "tenant is required with provider = \"microsoft\" (the directory (tenant) \
                     ID or its domain, e.g. contoso.onmicrosoft.com)"
                        .into(),
                );
                None
            }
        },
        ProviderKind::Google => Some(Provider::Google),
        ProviderKind::Custom => {
            let token_url = match &t.token_url {
                Some(url) => checked_url(url, "token_url", &mut mistake),
                None => {
                    mistake(
                        t.provider.span(),
                        "token_url is required with provider = \"custom\"".into(),
                    );
                    None
                }
            };
            let device_authorization_url = t
                .device_authorization_url
                .as_ref()
                .and_then(|url| checked_url(url, "device_authorization_url", &mut mistake));
            token_url.map(|token_url| Provider::Custom {
                token_url,
                device_authorization_url,
            })
        }
    };
    let client_id = t.client_id.get_ref().trim().to_string();
    if client_id.is_empty()
        || client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        mistake(
            t.client_id.span(),
            "client_id must be the application (client) ID, without spaces".into(),
        );
    }
    let client_secret = SecretSource::from_pair(
        t.client_secret_env.as_ref().map(|s| s.get_ref().as_str()),
        t.client_secret_file.as_ref().map(|s| s.get_ref().as_str()),
    )
    .unwrap_or_else(|e| {
        if let Some(s) = &t.client_secret_env {
            mistake(s.span(), format!("client_secret: {e}"));
        }
        None
    });
    let refresh_token_file = t.refresh_token_file.get_ref().trim().to_string();
    if refresh_token_file.is_empty() {
        mistake(
            t.refresh_token_file.span(),
            "refresh_token_file must name a file".into(),
        );
    }
    let scopes = match &t.scopes {
        None => provider
            .as_ref()
            .map(Provider::default_scopes)
            .unwrap_or_default(),
        Some(s) => {
            let scopes: Vec<String> = s.get_ref().iter().map(|x| x.trim().to_string()).collect();
            if scopes.is_empty()
                || scopes
                    .iter()
                    .any(|x| x.is_empty() || x.contains(char::is_whitespace))
            {
                mistake(
                    s.span(),
                    "scopes must be a non-empty list of scopes without spaces (leave it out \
                     for the provider's IMAP and SMTP scopes)"
                        .into(),
                );
            }
            scopes
        }
    };
    let provider = provider?;
    ok.then_some(OAuth2Settings {
        provider,
        client_id,
        client_secret,
        refresh_token_file,
        scopes,
    })
}

/// `https://…`, or `http://` to a loopback host (a local test server): a token endpoint
/// is sent the refresh token and the client secret.
fn checked_url(
    url: &Spanned<String>,
    key: &str,
    mistake: &mut impl FnMut(Range<usize>, String),
) -> Option<String> {
    let text = url.get_ref().trim();
    let host_of = |rest: &str| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        host.to_string()
    };
    let acceptable = match (text.strip_prefix("https://"), text.strip_prefix("http://")) {
        (Some(rest), _) => !host_of(rest).is_empty(),
        (None, Some(rest)) => is_loopback(&host_of(rest)),
        _ => false,
    };
    if acceptable && !text.contains(char::is_whitespace) {
        Some(text.to_string())
    } else {
        mistake(
            url.span(),
            format!(
                "{key} {text:?} must be an https:// URL (http:// only to a loopback address): \
                 it is sent the refresh token"
            ),
        );
        None
    }
}

fn valid_tenant(tenant: &str) -> bool {
    let tenant = tenant.trim();
    !tenant.is_empty()
        && tenant.len() <= 255
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

#[cfg(test)]
#[path = "oauth2_tests.rs"]
mod tests;
