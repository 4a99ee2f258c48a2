//! Opening the database: the URL judged by [`database_location`] (so `banana` or `mysql://` is
//! refused, not taken for a file name), the file named in every error, a database created only
//! when the command may create one, and the migrations applied on the way reported.

use std::path::{Path, PathBuf};
use std::{str::FromStr, time::Duration};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::MIGRATOR;
use crate::config::{DatabaseLocation, database_location, redact_url};
use crate::store::{Access, Durability, OpenReport, Store};

impl Store {
    /// Opens the database at `url` (as [`Access`] says), applies pending migrations, and says
    /// what that did.
    pub async fn open_as(
        url: &str,
        durability: Durability,
        access: Access,
    ) -> anyhow::Result<(Store, OpenReport)> {
        let location = database_location(url)?;
        let created = match &location {
            DatabaseLocation::File(path) => must_be_openable(path, access)?,
            DatabaseLocation::Memory => false,
        };
        let shown = match &location {
            DatabaseLocation::File(path) => absolute(path).display().to_string(),
            DatabaseLocation::Memory => "in memory".to_string(),
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| anyhow::anyhow!("database url {:?}: {e}", redact_url(url)))?
            .create_if_missing(access == Access::Create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Import => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-16000")
            .page_size(32768)
            .pragma("temp_store", "memory")
            // 32 KB pages: a compressed mail (typically 1–10 KB) fits one page without an
            // overflow chain, and the WAL is written in few, large frames (measured faster
            // than 16 and 64 KB with `mailgate-bench import`). The background checkpointer
            // keeps the WAL short; SQLite's own checkpoint at 4096 pages (128 MB) is the fallback.
            .pragma("wal_autocheckpoint", "4096")
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A local file needs no liveness ping before every use.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            // SQLx's error, once: its source repeats its own text.
            .map_err(|e| anyhow::anyhow!("cannot open the database {shown}: {e}"))?;
        let store = Store {
            pool,
            checkpoint_signal: Default::default(),
        };
        let before = store.applied_versions().await?;
        store.migrate().await?;
        let applied = MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !before.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        Ok((store, OpenReport { created, applied }))
    }

    /// The migrations recorded as applied (none in a new database).
    async fn applied_versions(&self) -> anyhow::Result<Vec<i64>> {
        let (tables,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await?;
        if tables == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }
}

/// Checks that the file can be opened as `access` asks; whether it will be created.
fn must_be_openable(path: &Path, access: Access) -> anyhow::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    let shown = absolute(path);
    if access == Access::Existing {
        anyhow::bail!(
            "there is no database at {}: `mailgate migrate` creates one (so do `ingest`, \
             `import` and `run`); MAILGATE_DATABASE_URL or [database] url says where it is",
            shown.display()
        );
    }
    if let Some(dir) = shown.parent()
        && !dir.is_dir()
    {
        anyhow::bail!(
            "cannot create the database {}: the directory {} does not exist",
            shown.display(),
            dir.display()
        );
    }
    Ok(true)
}

/// `path` made absolute against the working directory, for messages.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
