//! `mailgate import` as a user runs it: the real binary on the archive file, into the database
//! its config file names; measured from spawning it to reaping it (process start, opening
//! and closing the database included), with the peak RSS of that process alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use mailgate_test_support::memory::{Measured, run_measured};
use serde::Deserialize;

/// An import of a big archive on a slow machine ends well within this.
const TIMEOUT: Duration = Duration::from_secs(4 * 3600);

/// The counts of `mailgate import --json` this benchmark prints.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Counts {
    pub read: u64,
    pub created: u64,
    pub threaded: u64,
    pub duplicates: u64,
    pub ignored: u64,
    pub quarantined: u64,
}

/// The `mailgate` binary: `explicit`, else the one next to the running benchmark.
pub fn mailgate_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()
            .context("cannot find the running benchmark's path")?
            .with_file_name("mailgate"),
    };
    anyhow::ensure!(
        path.is_file(),
        "no mailgate binary at {} (build the workspace, or pass --mailgate PATH)",
        path.display()
    );
    Ok(path)
}

/// Writes the config file of the runs: the database, and the batch size when one is asked.
pub fn write_config(dir: &Path, db: &Path, batch_size: Option<usize>) -> anyhow::Result<PathBuf> {
    let url = toml::Value::String(format!("sqlite://{}", db.display()));
    let mut text = format!("[database]\nurl = {url}\n");
    if let Some(n) = batch_size {
        text.push_str(&format!("\n[import]\nbatch_size = {}\n", n.max(1)));
    }
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Runs `mailgate --config CONFIG import ARCHIVE --json` and measures it.
pub fn import(
    mailgate: &Path,
    config: &Path,
    archive: &Path,
    dir: &Path,
) -> anyhow::Result<(Measured, Counts)> {
    let stdout = dir.join("import.stdout");
    let stderr = dir.join("import.stderr");
    let create = |p: &Path| {
        std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))
    };
    let mut cmd = Command::new(mailgate);
    cmd.arg("--config")
        .arg(config)
        .arg("import")
        .arg(archive)
        .arg("--json")
        .env_remove("MAILGATE_DATABASE_URL")
        .env_remove("MAILGATE_CONFIG")
        .stdin(Stdio::null())
        .stdout(create(&stdout)?)
        .stderr(create(&stderr)?);
    let measured = run_measured(&mut cmd, TIMEOUT)
        .with_context(|| format!("running {}", mailgate.display()))?;
    let out = std::fs::read_to_string(&stdout).unwrap_or_default();
    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
    anyhow::ensure!(
        measured.code == Some(0),
        "mailgate import exited with {:?}\n{err}",
        measured.code
    );
    let counts = serde_json::from_str(out.trim())
        .with_context(|| format!("reading the import's JSON summary: {out}"))?;
    Ok((measured, counts))
}
