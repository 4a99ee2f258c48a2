//! The test mail stack (`scripts/mailstack.sh`, docs/mailstack.md) as its env file describes
//! it: `STATE_DIR/env`, `KEY=VALUE` lines written by `mailstack.sh start`, and a check that the
//! daemons answer.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The domain whose users `mailstack.sh add-user` creates (when the env file does not say).
pub const DEFAULT_IT_DOMAIN: &str = "it.example.test";

/// A running stack, as described by its env file.
#[derive(Debug, Clone)]
pub struct StackEnv {
    /// Absolute.
    pub state_dir: PathBuf,
    /// Always `127.0.0.1`.
    pub host: String,
    /// Plain IMAP (STARTTLS offered, LOGIN without TLS allowed).
    pub imap_port: u16,
    /// IMAP with implicit TLS.
    pub imaps_port: u16,
    /// SMTP: no AUTH, accepts mail for `*.test` only.
    pub smtp_port: u16,
    /// Submission: STARTTLS and AUTH required.
    pub submission_port: u16,
    /// The CA that signed the servers' certificate (valid for `127.0.0.1` and `localhost`).
    pub ca_file: PathBuf,
    /// An unrelated CA: a client trusting only this one must refuse the servers.
    pub other_ca_file: PathBuf,
    /// `localhost`.
    pub tls_server_name: String,
    /// Password of the fixed users (`support@example.test`, ...).
    pub password: String,
    /// Receives mail for every unknown `*.test` address outside the runtime users' domain.
    pub catchall: String,
    /// The domain of the users `mailstack.sh add-user` creates (`it.example.test`).
    pub it_domain: String,
    /// One passwd-file per runtime user (written by `scripts/mailstack.sh add-user`).
    pub users_dir: PathBuf,
    /// `<mail_dir>/<domain>/<local part>/Maildir`.
    pub mail_dir: PathBuf,
    /// Every `KEY=VALUE` of the env file.
    pub env: BTreeMap<String, String>,
}

/// Why there is no usable stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackError {
    /// No env file, or a daemon does not answer: start the stack.
    NotRunning { state_dir: PathBuf, why: String },
    /// The env file is there but unusable (a key missing or wrong, started by an older script).
    Invalid(String),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::NotRunning { state_dir, why } => write!(
                f,
                "the test mail stack in {} is not running ({why})",
                state_dir.display()
            ),
            StackError::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StackError {}

impl StackEnv {
    /// Reads `STATE_DIR/env`; does not check the daemons ([`StackEnv::check_listening`]).
    pub fn read(state_dir: &Path) -> Result<StackEnv, StackError> {
        let state_dir = std::path::absolute(state_dir).map_err(|e| {
            StackError::Invalid(format!("cannot resolve {}: {e}", state_dir.display()))
        })?;
        let env_file = state_dir.join("env");
        let text = std::fs::read_to_string(&env_file).map_err(|e| StackError::NotRunning {
            state_dir: state_dir.clone(),
            why: format!("cannot read {}: {e}", env_file.display()),
        })?;
        let env = parse_env(&text);
        if !env.contains_key("MAILSTACK_USERS_DIR") {
            return Err(StackError::Invalid(format!(
                "the mail stack in {} was started by an older scripts/mailstack.sh without \
                 add-user support: restart it (scripts/mailstack.sh stop && scripts/mailstack.sh \
                 start, as root)",
                state_dir.display()
            )));
        }
        let get = |key: &str| -> Result<String, StackError> {
            env.get(key)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| StackError::Invalid(format!("{} has no {key}", env_file.display())))
        };
        let port = |key: &str| -> Result<u16, StackError> {
            let value = get(key)?;
            value.parse().map_err(|_| {
                StackError::Invalid(format!(
                    "{key}={value:?} in {} is not a port",
                    env_file.display()
                ))
            })
        };
        Ok(StackEnv {
            host: get("MAILSTACK_HOST")?,
            imap_port: port("MAILSTACK_IMAP_PORT")?,
            imaps_port: port("MAILSTACK_IMAPS_PORT")?,
            smtp_port: port("MAILSTACK_SMTP_PORT")?,
            submission_port: port("MAILSTACK_SUBMISSION_PORT")?,
            ca_file: get("MAILSTACK_CA_FILE")?.into(),
            other_ca_file: get("MAILSTACK_OTHER_CA_FILE")?.into(),
            tls_server_name: get("MAILSTACK_TLS_SERVER_NAME")?,
            password: get("MAILSTACK_PASSWORD")?,
            catchall: get("MAILSTACK_CATCHALL")?,
            it_domain: get("MAILSTACK_IT_DOMAIN").unwrap_or_else(|_| DEFAULT_IT_DOMAIN.into()),
            users_dir: get("MAILSTACK_USERS_DIR")?.into(),
            mail_dir: get("MAILSTACK_MAIL_DIR")?.into(),
            state_dir,
            env,
        })
    }

    /// Reads the env file, then checks that IMAP, IMAPS and SMTP accept connections.
    pub fn load(state_dir: &Path) -> Result<StackEnv, StackError> {
        let stack = StackEnv::read(state_dir)?;
        stack.check_listening(&[
            ("IMAP", stack.imap_port),
            ("IMAPS", stack.imaps_port),
            ("SMTP", stack.smtp_port),
        ])?;
        Ok(stack)
    }

    /// Every `(name, port)` accepts a TCP connection on the stack's host within 2 s.
    pub fn check_listening(&self, ports: &[(&str, u16)]) -> Result<(), StackError> {
        for (name, port) in ports {
            let addr: SocketAddr = format!("{}:{port}", self.host).parse().map_err(|_| {
                StackError::Invalid(format!(
                    "MAILSTACK_HOST {:?} is not an IP address",
                    self.host
                ))
            })?;
            if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                return Err(StackError::NotRunning {
                    state_dir: self.state_dir.clone(),
                    why: format!(
                        "{} exists but {name} {addr} refuses connections: {e}",
                        self.state_dir.join("env").display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// `host:port` of the SMTP port.
    pub fn smtp_addr(&self) -> String {
        format!("{}:{}", self.host, self.smtp_port)
    }
}

/// `KEY=VALUE` lines; `#` comments and blank lines skipped; split on the first `=`.
pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines() {
        let env = parse_env("# comment\nA=1\n\nB=x=y\nMAILSTACK_PASSWORD=secret\nnot a pair\n");
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "x=y");
        assert_eq!(env["MAILSTACK_PASSWORD"], "secret");
        assert_eq!(env.len(), 3);
    }

    #[test]
    fn missing_stack_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let err = StackEnv::load(dir.path()).unwrap_err();
        assert!(matches!(err, StackError::NotRunning { .. }), "{err}");
        assert!(err.to_string().contains("is not running"), "{err}");
    }

    #[test]
    fn an_env_file_of_an_older_script_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("env"), "MAILSTACK_HOST=127.0.0.1\n").unwrap();
        let err = StackEnv::read(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("older scripts/mailstack.sh"),
            "{err}"
        );
    }
}
