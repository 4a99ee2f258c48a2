//! The refresh token's file: read on every refresh (a new sign-in may have replaced it), and
//! written back when the provider rotates the token: to a temporary file in the same folder,
//! mode 0600, synced, then renamed over the old one, so a crash leaves the old token or the
//! new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Secret;

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read the refresh token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the refresh token file {0} is empty: sign in first")]
    Empty(String),
    #[error("cannot write the refresh token file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The token in `path`, surrounding whitespace removed.
pub fn read_refresh_token(path: &Path) -> Result<Secret, TokenFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(TokenFileError::Empty(path.display().to_string()));
    }
    Ok(Secret::new(token))
}

/// Replaces the token in `path` atomically (see the module's description).
pub fn write_refresh_token(path: &Path, token: &Secret) -> Result<(), TokenFileError> {
    let failed = |source| TokenFileError::Write {
        path: path.display().to_string(),
        source,
    };
    let temporary = temporary_path(path);
    let written = (|| {
        let mut file = open_private(&temporary)?;
        file.write_all(token.expose().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        // The rename itself is durable once the folder is synced.
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::File::open(folder)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(failed)
}

/// `.NAME.tmp-PID` beside `path` (same file system, so the rename is atomic).
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "refresh-token".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // A temporary file left by a crash of this very process id is replaced.
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_token_replaces_the_old_one_privately_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("support.token");
        std::fs::write(&path, "old-token\n").unwrap();
        assert_eq!(read_refresh_token(&path).unwrap().expose(), "old-token");
        write_refresh_token(&path, &Secret::new("new-token")).unwrap();
        assert_eq!(read_refresh_token(&path).unwrap().expose(), "new-token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["support.token"]);
    }

    #[test]
    fn missing_empty_and_unwritable_files_say_which_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.token");
        let err = read_refresh_token(&path).unwrap_err();
        assert!(err.to_string().contains("none.token"), "{err}");
        std::fs::write(&path, " \n").unwrap();
        assert!(matches!(
            read_refresh_token(&path),
            Err(TokenFileError::Empty(_))
        ));
        let nowhere = dir.path().join("no-such-dir").join("t");
        let err = write_refresh_token(&nowhere, &Secret::new("x")).unwrap_err();
        assert!(err.to_string().contains("no-such-dir"), "{err}");
    }
}
