//! `[http]` (SPEC 9, 10): where the HTTP API listens and where its bearer token comes from.
//! This version does not serve the API yet; the values are checked so a config written today
//! is right. The token is a secret: named by `token_env` or `token_file`, never written here.

use std::net::SocketAddr;
use std::ops::Range;

use super::SecretSource;
use super::file::HttpFile;

/// `[http]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub listen: Option<SocketAddr>,
    /// Where the API token is read from (not read by this version).
    pub token: Option<SecretSource>,
}

pub(super) fn http_settings(
    raw: &HttpFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> HttpSettings {
    let listen = raw.listen.as_ref().and_then(|listen| {
        listen
            .get_ref()
            .trim()
            .parse::<SocketAddr>()
            .map_err(|_| {
                issue(
                    Some(listen.span()),
                    format!(
                        "http.listen {:?} must be an IP address and a port, e.g. \
                         \"127.0.0.1:8025\" or \"[::1]:8025\"",
                        listen.get_ref()
                    ),
                )
            })
            .ok()
    });
    let token_span = raw
        .token_env
        .as_ref()
        .or(raw.token_file.as_ref())
        .map(|s| s.span());
    let token = match SecretSource::from_pair(
        raw.token_env.as_ref().map(|s| s.get_ref().as_str()),
        raw.token_file.as_ref().map(|s| s.get_ref().as_str()),
    ) {
        Ok(Some(source)) => Some(source),
        Ok(None) => {
            issue(
                raw.listen.as_ref().map(|l| l.span()),
                "http: the API needs a bearer token: name it with token_env = \"VAR\" or \
                 token_file = \"/path\""
                    .into(),
            );
            None
        }
        Err(e) => {
            issue(token_span, format!("http.token: {e}"));
            None
        }
    };
    HttpSettings { listen, token }
}
