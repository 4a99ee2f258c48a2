//! Secrets come from an environment variable or a file named in the config, never from the
//! config file itself, and never appear in logs or `Debug` output.

use std::fmt;

/// A secret value. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it (a login, a MAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where a secret is read from: `*_env` names an environment variable, `*_file` a file whose
/// content (trailing newline removed) is the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("cannot read secret file {path}: {error}")]
    File { path: String, error: std::io::Error },
    #[error("the secret from {0} is empty")]
    Empty(String),
}

impl SecretSource {
    /// Builds the source from a `*_env` / `*_file` pair; both set is a mistake.
    pub fn from_pair(env: Option<&str>, file: Option<&str>) -> Result<Option<Self>, String> {
        match (env, file) {
            (Some(_), Some(_)) => Err("set either the _env or the _file form, not both".into()),
            (Some(e), None) => Ok(Some(Self::Env(e.to_string()))),
            (None, Some(f)) => Ok(Some(Self::File(f.to_string()))),
            (None, None) => Ok(None),
        }
    }

    pub fn read(&self) -> Result<Secret, SecretError> {
        let (value, origin) = match self {
            SecretSource::Env(name) => (
                std::env::var(name).map_err(|_| SecretError::EnvMissing(name.clone()))?,
                format!("${name}"),
            ),
            SecretSource::File(path) => (
                std::fs::read_to_string(path).map_err(|error| SecretError::File {
                    path: path.clone(),
                    error,
                })?,
                path.clone(),
            ),
        };
        let value = value.trim_end_matches(['\r', '\n']).to_string();
        if value.is_empty() {
            return Err(SecretError::Empty(origin));
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn reads_file_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "abc\n").unwrap();
        let src = SecretSource::File(path.display().to_string());
        assert_eq!(src.read().unwrap().expose(), "abc");
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(src.read(), Err(SecretError::Empty(_))));
    }

    #[test]
    fn pair_rules() {
        assert!(SecretSource::from_pair(Some("A"), Some("b")).is_err());
        assert_eq!(SecretSource::from_pair(None, None).unwrap(), None);
    }
}
