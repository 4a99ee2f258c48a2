//! The SASL mechanisms that carry an OAuth2 access token (pure): `OAUTHBEARER` (RFC 7628) and
//! the older `XOAUTH2` (Google, Microsoft), their initial client responses, which one to use
//! by what the server offers, and the server's error challenge (a JSON status).
//!
//! Both are one round trip: the client sends the initial response; the server answers OK, or
//! with a challenge holding a JSON error, to which the client sends a dummy response (RFC 7628
//! 3.2.3: `%x01`; XOAUTH2: empty) and the server then answers NO.

use crate::config::Secret;

/// A SASL mechanism that carries a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 7628.
    OAuthBearer,
    /// Google's and Microsoft's pre-standard mechanism.
    XOAuth2,
}

impl Mechanism {
    /// The name as IMAP `AUTH=` capabilities and SMTP `AUTH` keywords write it.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::XOAuth2 => "XOAUTH2",
        }
    }

    /// The mechanism to use among those a server `offers` (asked by name, as written in
    /// [`Mechanism::name`]): OAUTHBEARER when offered, else XOAUTH2, else none.
    pub fn choose(offers: impl Fn(&str) -> bool) -> Option<Mechanism> {
        [Mechanism::OAuthBearer, Mechanism::XOAuth2]
            .into_iter()
            .find(|m| offers(m.name()))
    }

    /// What the client answers to the server's error challenge so that the server ends the
    /// exchange with its failure reply.
    pub fn dummy_response(self) -> &'static [u8] {
        match self {
            Mechanism::OAuthBearer => b"\x01",
            Mechanism::XOAuth2 => b"",
        }
    }
}

/// Who signs in, where, with which token: what an initial response is made of.
#[derive(Debug, Clone)]
pub struct Bearer<'a> {
    pub user: &'a str,
    /// The server's host name and port, sent by OAUTHBEARER (RFC 7628 3.1: `host`, `port`).
    pub host: &'a str,
    pub port: u16,
    pub token: &'a Secret,
}

/// The initial client response of `mechanism`, unencoded (the protocol base64-encodes it).
/// It holds the token: a [`Secret`], never printed.
///
/// - XOAUTH2: `user={user}\x01auth=Bearer {token}\x01\x01`
/// - OAUTHBEARER: `n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01`
///   (the GS2 header without channel binding, the authorization identity with `,` and `=`
///   escaped as RFC 5801 says).
pub fn initial_response(mechanism: Mechanism, bearer: &Bearer<'_>) -> Secret {
    let token = bearer.token.expose();
    Secret::new(match mechanism {
        Mechanism::XOAuth2 => format!("user={}\x01auth=Bearer {token}\x01\x01", bearer.user),
        Mechanism::OAuthBearer => format!(
            "n,a={},\x01host={}\x01port={}\x01auth=Bearer {token}\x01\x01",
            gs2_saslname(bearer.user),
            bearer.host,
            bearer.port
        ),
    })
}

/// RFC 5801 `saslname`: `,` → `=2C`, `=` → `=3D`.
fn gs2_saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// What a server's error challenge says (RFC 7628 3.2.2; XOAUTH2 sends the same JSON with an
/// HTTP-like status such as `"401"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// `invalid_token`, `insufficient_scope`, `invalid_request`, `401`, …
    pub status: String,
    /// The scope the server says a token needs, when it says.
    pub scope: Option<String>,
}

impl ServerError {
    /// Reads the challenge (already base64-decoded). `None` when it is not the JSON object
    /// with a `status` the mechanisms define.
    pub fn parse(challenge: &[u8]) -> Option<ServerError> {
        let value: serde_json::Value = serde_json::from_slice(challenge).ok()?;
        let status = match value.get("status")? {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let scope = value
            .get("scope")
            .and_then(|s| s.as_str())
            .map(str::to_string);
        Some(ServerError { status, scope })
    }

    /// Whether the token itself was refused (expired, revoked, unknown): worth one refresh
    /// and one more try. Other statuses (a missing scope, a malformed request) are not
    /// mended by a new token of the same grant.
    pub fn token_refused(&self) -> bool {
        matches!(self.status.as_str(), "invalid_token" | "401")
    }

    /// One line for a log or an error (the status and scope are the server's words, no secret).
    pub fn describe(&self) -> String {
        match &self.scope {
            Some(scope) => format!("status {:?}, scope {:?}", self.status, scope),
            None => format!("status {:?}", self.status),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn oauthbearer_is_preferred_then_xoauth2_then_nothing() {
        let offered = |names: &'static [&'static str]| move |m: &str| names.contains(&m);
        assert_eq!(
            Mechanism::choose(offered(&["PLAIN", "XOAUTH2", "OAUTHBEARER"])),
            Some(Mechanism::OAuthBearer)
        );
        assert_eq!(
            Mechanism::choose(offered(&["PLAIN", "XOAUTH2"])),
            Some(Mechanism::XOAuth2)
        );
        assert_eq!(Mechanism::choose(offered(&["PLAIN", "LOGIN"])), None);
    }

    /// RFC 7628 section 4.1 (a successful OAUTHBEARER exchange over IMAP).
    #[test]
    fn the_oauthbearer_response_of_rfc_7628() {
        let token = Secret::new("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        let bearer = Bearer {
            user: "user@example.com",
            host: "server.example.com",
            port: 143,
            token: &token,
        };
        let response = initial_response(Mechanism::OAuthBearer, &bearer);
        assert_eq!(
            response.expose(),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01\
             auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert_eq!(
            STANDARD.encode(response.expose()),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
        );
        assert!(!format!("{response:?} {response}").contains("vF9dft"));
    }

    /// Google's XOAUTH2 example (developers.google.com, "OAuth 2.0 Mechanism").
    #[test]
    fn the_xoauth2_response_of_googles_example() {
        let token = Secret::new("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
        let bearer = Bearer {
            user: "someuser@example.com",
            host: "imap.gmail.com",
            port: 993,
            token: &token,
        };
        let response = initial_response(Mechanism::XOAuth2, &bearer);
        assert_eq!(
            response.expose(),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
        assert_eq!(
            STANDARD.encode(response.expose()),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn the_authorization_identity_is_escaped() {
        let token = Secret::new("t");
        let bearer = Bearer {
            user: "a,b=c@example.com",
            host: "h",
            port: 1,
            token: &token,
        };
        let response = initial_response(Mechanism::OAuthBearer, &bearer);
        assert!(
            response
                .expose()
                .starts_with("n,a=a=2Cb=3Dc@example.com,\x01"),
            "{:?}",
            response.expose()
        );
    }

    /// RFC 7628 section 4.3 (a failed exchange): the server's challenge, base64-decoded.
    #[test]
    fn the_error_challenge_of_rfc_7628() {
        let challenge = STANDARD
            .decode("eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=")
            .unwrap();
        let error = ServerError::parse(&challenge).unwrap();
        assert_eq!(
            error,
            ServerError {
                status: "invalid_token".into(),
                scope: Some("example_scope".into())
            }
        );
        assert!(error.token_refused());
        assert_eq!(Mechanism::OAuthBearer.dummy_response(), b"\x01");
        assert_eq!(
            error.describe(),
            "status \"invalid_token\", scope \"example_scope\""
        );
    }

    #[test]
    fn xoauth2_errors_and_what_is_not_an_error() {
        let google =
            br#"{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}"#;
        let error = ServerError::parse(google).unwrap();
        assert_eq!(error.status, "401");
        assert!(error.token_refused());
        assert_eq!(Mechanism::XOAuth2.dummy_response(), b"");
        let numeric = ServerError::parse(br#"{"status":400}"#).unwrap();
        assert_eq!(numeric.status, "400");
        assert!(!numeric.token_refused());
        let scope = ServerError::parse(br#"{"status":"insufficient_scope"}"#).unwrap();
        assert!(!scope.token_refused());
        assert_eq!(ServerError::parse(b""), None);
        assert_eq!(ServerError::parse(b"not json"), None);
        assert_eq!(ServerError::parse(br#"{"scope":"x"}"#), None);
    }
}
