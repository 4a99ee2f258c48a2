//! `[database]` → the database URL. A URL may carry a password (`postgres://u:pw@host/db`):
//! like every other secret it never comes from the config file itself but from the variable
//! named by `url_env` or the file named by `url_file`; `MAILGATE_DATABASE_URL` overrides all of
//! them (see `Settings::load`). Wherever a URL is shown, its password is replaced by
//! [`redact_url`].

use std::borrow::Cow;
use std::ops::Range;

use super::file::DatabaseFile;
use super::{DEFAULT_DATABASE_URL, SecretSource};

/// What stands in for a password in a URL that is shown.
const REDACTED: &str = "[redacted]";

/// The database URL the file asks for (`url`, `url_env` or `url_file`; the default when none),
/// each mistake reported with its line.
pub(super) fn database_url(
    raw: &DatabaseFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> String {
    let secret_span = raw
        .url_env
        .as_ref()
        .or(raw.url_file.as_ref())
        .map(|s| s.span());
    let source = match SecretSource::from_pair(
        raw.url_env.as_ref().map(|s| s.get_ref().as_str()),
        raw.url_file.as_ref().map(|s| s.get_ref().as_str()),
    ) {
        Ok(source) => source,
        Err(e) => {
            issue(secret_span.clone(), format!("database.url: {e}"));
            None
        }
    };
    if let (Some(url), Some(_)) = (&raw.url, &source) {
        issue(
            Some(url.span()),
            "database: set one of url, url_env or url_file, not several".into(),
        );
    }
    if let Some(source) = source {
        return match source.read() {
            Ok(secret) if valid_scheme(secret.expose()) => secret.expose().to_string(),
            Ok(_) => {
                issue(
                    secret_span,
                    format!(
                        "database.url from {}: must start with sqlite: or postgres://",
                        describe(&source)
                    ),
                );
                DEFAULT_DATABASE_URL.to_string()
            }
            Err(e) => {
                issue(secret_span, format!("database.url: {e}"));
                DEFAULT_DATABASE_URL.to_string()
            }
        };
    }
    let Some(url) = &raw.url else {
        return DEFAULT_DATABASE_URL.to_string();
    };
    let text = url.get_ref();
    if password_range(text).is_some() {
        issue(
            Some(url.span()),
            format!(
                "database.url {:?} contains a password, and secrets are never read from the \
                 config file: put the URL in an environment variable named by \
                 [database] url_env = \"VAR\", or in a file named by url_file = \"/path\" \
                 (MAILGATE_DATABASE_URL also overrides it)",
                redact_url(text)
            ),
        );
        return DEFAULT_DATABASE_URL.to_string();
    }
    if !valid_scheme(text) {
        issue(
            Some(url.span()),
            format!("database.url {text:?} must start with sqlite: or postgres://"),
        );
        return DEFAULT_DATABASE_URL.to_string();
    }
    text.clone()
}

fn valid_scheme(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres")
}

fn describe(source: &SecretSource) -> String {
    match source {
        SecretSource::Env(name) => format!("${name}"),
        SecretSource::File(path) => path.clone(),
    }
}

/// The byte range of the password in `scheme://user:password@host/...`, if there is a
/// non-empty one. SQLite URLs name a file and carry no credentials.
fn password_range(url: &str) -> Option<Range<usize>> {
    if url.starts_with("sqlite:") {
        return None;
    }
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    // The last `@` ends the userinfo (an unencoded `@` in a password is common enough).
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    (colon + 1 < at).then(|| start + colon + 1..start + at)
}

/// `url` with the password of its userinfo (if any) replaced by `[redacted]`: for
/// `config check`, error messages and logs.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    match password_range(url) {
        Some(range) => Cow::Owned(format!(
            "{}{REDACTED}{}",
            &url[..range.start],
            &url[range.end..]
        )),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_found_and_redacted() {
        for (url, shown) in [
            ("postgres://u:pw@host/db", "postgres://u:[redacted]@host/db"),
            (
                "postgresql://mailgate:s3cr@t!@db.example:5432/mg?sslmode=require",
                "postgresql://mailgate:[redacted]@db.example:5432/mg?sslmode=require",
            ),
            ("postgres://u:p%40ss@h", "postgres://u:[redacted]@h"),
            ("postgres://:pw@h/db", "postgres://:[redacted]@h/db"),
        ] {
            assert!(password_range(url).is_some(), "{url}");
            assert_eq!(redact_url(url), shown);
        }
    }

    #[test]
    fn urls_without_a_password_are_left_alone() {
        for url in [
            "postgres://u@host/db",
            "postgres://u:@host/db",
            "postgres://host:5432/db",
            "postgres://host/db?password_hint=a:b@c",
            "postgres:///db",
            "sqlite://mailgate.db",
            "sqlite:///var/lib/mail:gate@x.db",
            "sqlite::memory:",
            "not a url",
            "",
        ] {
            assert_eq!(password_range(url), None, "{url}");
            assert_eq!(redact_url(url), url);
        }
    }
}
