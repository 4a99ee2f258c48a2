//! The stack's script (`scripts/mailstack.sh`): finding it, running its commands for one stack
//! (`add-user`, `restart-dovecot`), and user addresses no earlier run used.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A `mailstack.sh` command could not be run or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// `scripts/mailstack.sh add-user ADDRESS` (passwords left out).
    pub command: String,
    /// The exit status, or why it could not be started.
    pub status: String,
    /// stderr and stdout, trimmed.
    pub output: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed ({})", self.command, self.status)?;
        if !self.output.is_empty() {
            write!(f, ":\n{}", self.output)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

/// The stack's script: the one given, else `scripts/mailstack.sh` under the current
/// directory, else under the source tree this crate was built from.
pub fn find_script(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        return Err(format!("{} does not exist", path.display()));
    }
    let candidates = [
        PathBuf::from("scripts/mailstack.sh"),
        crate::workspace_root().join("scripts/mailstack.sh"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            "cannot find scripts/mailstack.sh (run from the repository or pass --mailstack)".into()
        })
}

/// Runs `script ARGS` for the stack in `state_dir`. `shown` is how the command is named in an
/// error (without secrets).
pub fn run_script(
    script: &Path,
    state_dir: &Path,
    args: &[&str],
    shown: &str,
) -> Result<Output, ScriptError> {
    let failed = |status: String, output: String| ScriptError {
        command: format!("{} {shown}", script.display()),
        status,
        output,
    };
    let output = Command::new(script)
        .args(args)
        .env("MAILSTACK_STATE_DIR", state_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run it: {e}"), String::new()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let text = [stderr.trim(), stdout.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        return Err(failed(output.status.to_string(), text));
    }
    Ok(output)
}

/// Adds (or updates) `address` of the stack's runtime domain: `mailstack.sh add-user ADDRESS
/// [PASSWORD]`; without a password the user gets the stack's common one.
pub fn add_user(
    script: &Path,
    state_dir: &Path,
    address: &str,
    password: Option<&str>,
) -> Result<(), ScriptError> {
    let mut args = vec!["add-user", address];
    args.extend(password);
    run_script(script, state_dir, &args, &format!("add-user {address}")).map(drop)
}

/// A user name no earlier run used: `<tag>-<pid>-<unix seconds>@<domain>`.
pub fn fresh_address(tag: &str, domain: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{tag}-{}-{secs}@{domain}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_addresses_fit_add_user() {
        let address = fresh_address("bench", crate::stack_env::DEFAULT_IT_DOMAIN);
        let (local, domain) = address.split_once('@').unwrap();
        assert_eq!(domain, "it.example.test");
        assert!(local.len() <= 64);
        assert!(
            local
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn a_failing_script_reports_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("mailstack.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"no such command: $1\" >&2\nexit 3\n",
        )
        .unwrap();
        let mut permissions = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&script, permissions).unwrap();
        let err = add_user(&script, dir.path(), "x@it.example.test", Some("secret")).unwrap_err();
        assert!(err.command.ends_with("add-user x@it.example.test"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(err.output.contains("no such command: add-user"), "{err}");
    }
}
