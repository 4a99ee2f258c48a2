//! `[database]` → the database URL. A URL may carry a password (`postgres://u:pw@host/db`):
//! like every other secret it never comes from the config file itself but from the variable
//! named by `url_env` or the file named by `url_file`; `MAILGATE_DATABASE_URL` overrides all of
//! them. Wherever a URL is shown, its password is replaced by [`redact_url`].
//!
//! [`database_location`] is the one judge of a URL, for `config check` and for opening the
//! store alike: `sqlite://PATH`, `sqlite:PATH` and `sqlite::memory:` are accepted; PostgreSQL is
//! named as not supported yet, and anything else is refused with the forms that are accepted.

use std::borrow::Cow;
use std::ops::Range;
use std::path::PathBuf;

use super::file::DatabaseFile;
use super::{DEFAULT_DATABASE_URL, SecretSource};

/// What stands in for a password in a URL that is shown.
const REDACTED: &str = "[redacted]";

/// The forms of database URL this version accepts, for every refusal.
pub const ACCEPTED_DATABASE_URLS: &str = "use sqlite://PATH (a file, e.g. sqlite://mailgate.db \
     or sqlite:///var/lib/mailgate/mailgate.db) or sqlite::memory:";

/// Where a database URL puts the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file (relative paths are relative to the working directory).
    File(PathBuf),
    /// A SQLite database in memory, gone when the command ends.
    Memory,
}

/// Why a database URL is refused. The URL is shown with its password redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "database url {shown:?}: PostgreSQL is not supported by this version yet; \
         {ACCEPTED_DATABASE_URLS}"
    )]
    PostgresNotYet { shown: String },
    #[error("database url {shown:?} names no database file; {ACCEPTED_DATABASE_URLS}")]
    NoFile { shown: String },
    #[error("database url {shown:?} is not one mailgate accepts: {ACCEPTED_DATABASE_URLS}")]
    Unrecognised { shown: String },
}

/// Where `url` puts the database, or why it is refused.
pub fn database_location(url: &str) -> Result<DatabaseLocation, DatabaseUrlError> {
    let shown = || redact_url(url).into_owned();
    let scheme = url
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => {}
        Some("postgres" | "postgresql") => {
            return Err(DatabaseUrlError::PostgresNotYet { shown: shown() });
        }
        _ => return Err(DatabaseUrlError::Unrecognised { shown: shown() }),
    }
    // As SQLx reads it: the scheme with or without `//`, then the file, then `?` parameters.
    let rest = &url["sqlite:".len()..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, params) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = file == ":memory:"
        || params
            .split('&')
            .any(|pair| pair.eq_ignore_ascii_case("mode=memory"));
    if in_memory {
        return Ok(DatabaseLocation::Memory);
    }
    if file.is_empty() {
        return Err(DatabaseUrlError::NoFile { shown: shown() });
    }
    Ok(DatabaseLocation::File(PathBuf::from(percent_decoded(file))))
}

/// `%XX` escapes decoded (a `?` or `#` in a file name is written `%3F`, `%23`); anything that
/// is not a valid escape is kept as written.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The database URL in force: `$MAILGATE_DATABASE_URL` when set (`env_override`), else what
/// the file asks for (`url`, `url_env` or `url_file`; the default when none). Each mistake is
/// reported with its line, the file's even when the variable overrides it.
pub(super) fn database_url(
    raw: &DatabaseFile,
    env_override: Option<&str>,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> String {
    let from_file = file_database_url(raw, issue);
    let Some(url) = env_override else {
        return from_file;
    };
    if let Err(e) = database_location(url) {
        issue(None, format!("MAILGATE_DATABASE_URL: {e}"));
    }
    url.to_string()
}

fn file_database_url(
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
            Ok(secret) => {
                let url = secret.expose();
                match database_location(url) {
                    Ok(_) => url.to_string(),
                    // What the secret holds is never shown but by its redacted form, and only
                    // when it is a URL with a scheme this version knows.
                    Err(e @ DatabaseUrlError::PostgresNotYet { .. }) => {
                        issue(
                            secret_span,
                            format!("database.url from {}: {e}", describe(&source)),
                        );
                        DEFAULT_DATABASE_URL.to_string()
                    }
                    Err(_) => {
                        issue(
                            secret_span,
                            format!(
                                "database.url from {} is not a URL mailgate accepts: \
                                 {ACCEPTED_DATABASE_URLS}",
                                describe(&source)
                            ),
                        );
                        DEFAULT_DATABASE_URL.to_string()
                    }
                }
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
    if let Err(e) = database_location(text) {
        issue(Some(url.span()), e.to_string());
        return DEFAULT_DATABASE_URL.to_string();
    }
    text.clone()
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

    #[test]
    fn sqlite_urls_name_their_file() {
        let file = |p: &str| Ok(DatabaseLocation::File(PathBuf::from(p)));
        assert_eq!(
            database_location("sqlite://mailgate.db"),
            file("mailgate.db")
        );
        assert_eq!(database_location("sqlite:mailgate.db"), file("mailgate.db"));
        assert_eq!(
            database_location("sqlite:///var/lib/m.db"),
            file("/var/lib/m.db")
        );
        assert_eq!(
            database_location("sqlite://a%3Fb.db?mode=rwc"),
            file("a?b.db")
        );
        assert_eq!(database_location("sqlite://100%.db"), file("100%.db"));
        assert_eq!(
            database_location("sqlite::memory:"),
            Ok(DatabaseLocation::Memory)
        );
        assert_eq!(
            database_location("sqlite://?mode=memory"),
            Ok(DatabaseLocation::Memory)
        );
    }

    #[test]
    fn other_urls_are_refused_naming_the_accepted_forms() {
        for url in [
            "banana",
            "mysql://u@h/db",
            "",
            "file:///x.db",
            "sqlite3://x.db",
        ] {
            let e = database_location(url).unwrap_err();
            assert!(
                matches!(e, DatabaseUrlError::Unrecognised { .. }),
                "{url}: {e}"
            );
            assert!(e.to_string().contains("sqlite://PATH"), "{e}");
        }
        let e = database_location("sqlite://").unwrap_err();
        assert!(matches!(e, DatabaseUrlError::NoFile { .. }), "{e}");
        for url in ["postgres://u@h/db", "postgresql://u:pw@h/db"] {
            let e = database_location(url).unwrap_err().to_string();
            assert!(e.contains("PostgreSQL is not supported"), "{e}");
            assert!(!e.contains("pw@"), "the password is redacted: {e}");
        }
    }
}
