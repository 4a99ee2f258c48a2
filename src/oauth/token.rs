//! The refresh grant (RFC 6749 section 6), pure: the request's form, the token endpoint's
//! answer (a token or an error, section 5), and when an access token is due for a refresh.
//! The HTTP request itself is `oauth::client`.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config::{OAuth2Settings, Secret};

/// A token is refreshed this long before it expires (or half its lifetime, when that is
/// shorter: a 60 s token is refreshed after 30 s, not at once).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The lifetime assumed when the endpoint does not say (`expires_in` is only RECOMMENDED).
pub const ASSUMED_LIFETIME: Duration = Duration::from_secs(3600);
/// Error texts from the endpoint are cut to this many characters in messages.
const MAX_DESCRIPTION: usize = 300;

/// The body of a refresh request (`application/x-www-form-urlencoded`). Holds the refresh
/// token and the client secret: `Debug` shows the field names only.
pub struct RefreshForm {
    fields: Vec<(&'static str, Secret)>,
}

impl RefreshForm {
    /// `grant_type=refresh_token`, the refresh token, `client_id`, the client secret when the
    /// client has one (`client_secret_post`, which Microsoft and Google both take) and the
    /// space-joined scopes when there are any.
    pub fn new(
        settings: &OAuth2Settings,
        client_secret: Option<&Secret>,
        refresh_token: &Secret,
    ) -> RefreshForm {
        let mut fields = vec![
            ("grant_type", Secret::new("refresh_token")),
            ("refresh_token", refresh_token.clone()),
            ("client_id", Secret::new(settings.client_id.clone())),
        ];
        if let Some(secret) = client_secret {
            fields.push(("client_secret", secret.clone()));
        }
        if !settings.scopes.is_empty() {
            fields.push(("scope", Secret::new(settings.scopes.join(" "))));
        }
        RefreshForm { fields }
    }

    /// The pairs to encode, for the one place that sends them.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        self.fields.iter().map(|(k, v)| (*k, v.expose())).collect()
    }
}

impl fmt::Debug for RefreshForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| *k).collect();
        write!(f, "RefreshForm({} = [redacted])", names.join(", "))
    }
}

/// What a successful refresh grants.
#[derive(Debug, Clone)]
pub struct Granted {
    pub access_token: Secret,
    /// Seconds the access token lives, when the endpoint says.
    pub expires_in: Option<u64>,
    /// A new refresh token when the endpoint rotates it (to be written back), else `None`.
    pub refresh_token: Option<Secret>,
}

/// Why no access token was had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The endpoint refused the grant (RFC 6749 5.2): `invalid_grant` (the refresh token is
    /// revoked or expired), `invalid_client`, … The description is the endpoint's.
    #[error("the token endpoint refused the refresh: {code}{}", .description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        code: String,
        description: Option<String>,
    },
    /// A reply that is neither a token nor an RFC 6749 error (the body is not repeated: it
    /// may hold a token).
    #[error("the token endpoint answered HTTP {status} without a token or an OAuth2 error")]
    Unexpected { status: u16 },
    /// No answer: the network, TLS, a timeout.
    #[error("cannot reach the token endpoint {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The refresh token file or the client secret cannot be read.
    #[error("{0}")]
    Local(String),
    /// The new refresh token could not be written back (the old one may no longer work).
    #[error("cannot write the new refresh token to {path}: {reason}")]
    WriteBack { path: String, reason: String },
}

impl TokenError {
    /// Whether retrying cannot help until an admin acts (signs in again, fixes the client's
    /// registration or the files): the mailbox says so and retries slowly.
    pub fn needs_admin(&self) -> bool {
        match self {
            TokenError::Refused { code, .. } => matches!(
                code.as_str(),
                "invalid_grant"
                    | "invalid_client"
                    | "unauthorized_client"
                    | "unsupported_grant_type"
                    | "invalid_scope"
            ),
            TokenError::Local(_) | TokenError::WriteBack { .. } => true,
            TokenError::Unexpected { .. } | TokenError::Unreachable { .. } => false,
        }
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Reads the token endpoint's answer: HTTP `status` and its body.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<Granted, TokenError> {
    let unexpected = TokenError::Unexpected { status };
    let Ok(parsed) = serde_json::from_slice::<TokenBody>(body) else {
        return Err(unexpected);
    };
    if let Some(code) = parsed.error {
        return Err(TokenError::Refused {
            code: printable(&code, 64),
            description: parsed
                .error_description
                .map(|d| printable(&d, MAX_DESCRIPTION)),
        });
    }
    let bearer = parsed
        .token_type
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
    match parsed.access_token {
        Some(token) if (200..300).contains(&status) && bearer && !token.is_empty() => {
            Ok(Granted {
                access_token: Secret::new(token),
                // A number, or a string of digits (some servers send that).
                expires_in: parsed.expires_in.and_then(|e| match e {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }),
                refresh_token: parsed
                    .refresh_token
                    .filter(|r| !r.is_empty())
                    .map(Secret::new),
            })
        }
        _ => Err(unexpected),
    }
}

/// The endpoint's words for a message: control characters dropped, cut to `max` characters.
fn printable(text: &str, max: usize) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// An access token and when it stops being used.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    /// From here on it is refreshed first: [`REFRESH_MARGIN`] (or half its lifetime) before
    /// it expires.
    pub refresh_at: Instant,
}

impl AccessToken {
    /// A token granted at `now` living `expires_in` seconds ([`ASSUMED_LIFETIME`] if unsaid).
    pub fn granted(token: Secret, expires_in: Option<u64>, now: Instant) -> AccessToken {
        let lifetime = expires_in.map_or(ASSUMED_LIFETIME, Duration::from_secs);
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        AccessToken {
            token,
            refresh_at: now + (lifetime - margin),
        }
    }

    /// Whether it may still be sent at `now`.
    pub fn fresh_at(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Provider, SecretSource};

    fn settings(scopes: &[&str]) -> OAuth2Settings {
        OAuth2Settings {
            provider: Provider::Google,
            client_id: "client-1".into(),
            client_secret: Some(SecretSource::Env("S".into())),
            refresh_token_file: "t".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_refresh_form_and_its_debug() {
        let refresh = Secret::new("1//refresh-secret");
        let client = Secret::new("client-secret");
        let form = RefreshForm::new(
            &settings(&[
                "https://outlook.office.com/IMAP.AccessAsUser.All",
                "offline_access",
            ]),
            Some(&client),
            &refresh,
        );
        assert_eq!(
            form.pairs(),
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", "1//refresh-secret"),
                ("client_id", "client-1"),
                ("client_secret", "client-secret"),
                (
                    "scope",
                    "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
                ),
            ]
        );
        let shown = format!("{form:?}");
        assert!(
            !shown.contains("secret\"") && !shown.contains("1//"),
            "{shown}"
        );
        assert!(shown.contains("refresh_token"), "{shown}");
        let public = RefreshForm::new(&settings(&[]), None, &refresh);
        let keys: Vec<&str> = public.pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["grant_type", "refresh_token", "client_id"]);
    }

    #[test]
    fn a_granted_token_with_and_without_rotation() {
        let body = br#"{"access_token":"eyJ0","token_type":"Bearer","expires_in":3599,"scope":"x","refresh_token":"new-refresh"}"#;
        let granted = parse_token_response(200, body).unwrap();
        assert_eq!(granted.access_token.expose(), "eyJ0");
        assert_eq!(granted.expires_in, Some(3599));
        assert_eq!(granted.refresh_token.unwrap().expose(), "new-refresh");
        let google = br#"{"access_token":"ya29","expires_in":"3600","token_type":"bearer"}"#;
        let granted = parse_token_response(200, google).unwrap();
        assert_eq!(granted.expires_in, Some(3600));
        assert!(granted.refresh_token.is_none());
        assert!(!format!("{granted:?}").contains("ya29"));
    }

    #[test]
    fn an_oauth2_error_is_refused_and_says_whether_an_admin_must_act() {
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired.\r\n"}"#;
        let err = parse_token_response(400, body).unwrap_err();
        assert!(err.needs_admin());
        assert_eq!(
            err.to_string(),
            "the token endpoint refused the refresh: invalid_grant (AADSTS70008: The refresh token has expired.)"
        );
        let err = parse_token_response(400, br#"{"error":"temporarily_unavailable"}"#).unwrap_err();
        assert!(!err.needs_admin(), "{err}");
    }

    #[test]
    fn anything_else_is_unexpected_and_the_body_is_never_repeated() {
        for (status, body) in [
            (500, &b"<html>oops</html>"[..]),
            (200, br#"{"token_type":"Bearer"}"#),
            (200, br#"{"access_token":"secret-mac","token_type":"mac"}"#),
            (302, br#"{"access_token":"secret-302"}"#),
        ] {
            let err = parse_token_response(status, body).unwrap_err();
            assert!(matches!(err, TokenError::Unexpected { .. }), "{err}");
            assert!(!err.to_string().contains("secret"), "{err}");
            assert!(!err.needs_admin());
        }
    }

    #[test]
    fn a_token_is_refreshed_a_minute_early_or_at_half_its_life() {
        let now = Instant::now();
        let hour = AccessToken::granted(Secret::new("a"), Some(3600), now);
        assert!(hour.fresh_at(now + Duration::from_secs(3539)));
        assert!(!hour.fresh_at(now + Duration::from_secs(3540)));
        let short = AccessToken::granted(Secret::new("b"), Some(60), now);
        assert!(short.fresh_at(now + Duration::from_secs(29)));
        assert!(!short.fresh_at(now + Duration::from_secs(30)));
        let unsaid = AccessToken::granted(Secret::new("c"), None, now);
        assert_eq!(unsaid.refresh_at, now + Duration::from_secs(3540));
        let instant = AccessToken::granted(Secret::new("d"), Some(0), now);
        assert!(!instant.fresh_at(now));
    }
}
