//! SQLite's SQL: every query of the store, as SQLite runs it. The types they take and give are
//! the store's (`super`); what is SQLite's alone, and what a PostgreSQL backend must write its
//! own way:
//!
//! A PostgreSQL backend needs its own version of
//! - every query: the numbered `?1` placeholders (PostgreSQL: `$1`) and the `sqlx::Sqlite`
//!   types (`Tx`, `QueryBuilder<Sqlite>` in `apply` and `participants`);
//! - `lookup`: key lists bound as one JSON array read with `json_each(?1)`, answers folded
//!   into one value with `json_group_array(json_array(…))`;
//! - `apply`: `json_each` over bound JSON arrays with SQLite's `->> '$.field'` paths, the
//!   two-argument scalar `MAX(a, b)` (PostgreSQL: `GREATEST`), and multi-row inserts sized to
//!   SQLite's limit on bound parameters (`statement_chunks`);
//! - `decisions` and `outbox`: `json_each` over a bound list; `outbox` and `agent`: scalar
//!   `MAX(a, b)`;
//! - `open` and `checkpointer`: PRAGMAs (WAL, synchronous, cache) and `wal_checkpoint`.
//!
//! Portable as written: `ON CONFLICT … DO UPDATE SET … = excluded.…`, `RETURNING`, and
//! `UPDATE … FROM`, which PostgreSQL has too.

//! - `error_codes`: which result codes mean refused data and which an unwell database.

pub mod agent;
mod apply;
mod checkpointer;
mod checkpoints;
mod decisions;
pub(super) mod error_codes;
mod lookup;
mod open;
mod outbound_attachments;
mod outbox;
mod participants;
mod quarantine;
pub mod sla;
mod tickets;

use super::error::Context;
use super::{Result, Store};

pub use apply::{apply, insert_outbox};
pub(super) use checkpointer::CheckpointSignal;
pub use lookup::{auto_sent_counts, load_snapshot, logged_copy};
pub use outbound_attachments::store_outbound_files;
pub use participants::add_staff_participant;

pub type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite allows 32,766 bound parameters per statement; stay well below.
const MAX_BINDS: usize = 30_000;

impl Store {
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// A write transaction that takes the write lock at once, so the snapshot a batch reads
    /// cannot change before it writes.
    pub async fn begin_write(&self) -> Result<Tx> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .context("starting a database transaction")
    }
}

/// Rows per multi-row statement for a table with `columns` columns.
fn rows_per_statement(columns: usize) -> usize {
    (MAX_BINDS / columns).clamp(1, 500)
}

/// Sizes to split `len` rows into for multi-row statements: powers of two, largest first, at
/// most [`rows_per_statement`]. A table then has only a handful of distinct statement texts,
/// each prepared once per connection and reused from sqlx's statement cache; sizing each
/// statement to the batch made almost every batch prepare new (large) statements.
fn statement_sizes(len: usize, columns: usize) -> impl Iterator<Item = usize> {
    let cap = 1usize << rows_per_statement(columns).ilog2();
    let mut left = len;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let size = cap.min(1 << left.ilog2());
        left -= size;
        Some(size)
    })
}

/// `rows` split as [`statement_sizes`] says.
fn statement_chunks<T>(rows: &[T], columns: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    statement_sizes(rows.len(), columns).map(move |size| {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        chunk
    })
}

#[cfg(test)]
mod migration_tests;

#[cfg(test)]
mod statement_size_tests {
    use super::*;

    #[test]
    fn rows_are_split_into_few_power_of_two_statements() {
        assert_eq!(statement_sizes(0, 4).count(), 0);
        assert_eq!(
            statement_sizes(250, 10).collect::<Vec<_>>(),
            [128, 64, 32, 16, 8, 2]
        );
        // The cap is the largest power of two the bind limit allows (30,000 / 17 → 256).
        assert_eq!(
            statement_sizes(600, 17).collect::<Vec<_>>(),
            [256, 256, 64, 16, 8]
        );
        for len in 0..2000 {
            let sizes: Vec<usize> = statement_sizes(len, 6).collect();
            assert_eq!(sizes.iter().sum::<usize>(), len);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= 256));
        }
        let rows: Vec<usize> = (0..11).collect();
        let chunks: Vec<&[usize]> = statement_chunks(&rows, 3).collect();
        assert_eq!(chunks, [&rows[0..8], &rows[8..10], &rows[10..11]]);
    }
}

#[cfg(test)]
mod latency_tests {
    use super::*;

    /// Measures what one statement round trip through sqlx's SQLite worker costs here
    /// (`cargo test --release --lib latency -- --ignored --nocapture`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn round_trip_latency() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        let n = 2000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            sqlx::query("SELECT 1").execute(&mut *conn).await.unwrap();
        }
        println!(
            "SELECT 1: {:.1} µs per round trip",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
        let t = std::time::Instant::now();
        for _ in 0..50 {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) SELECT x FROM c",
            )
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            assert_eq!(rows.len(), 200);
        }
        println!(
            "200-row fetch_all: {:.1} µs",
            t.elapsed().as_secs_f64() * 1e6 / 50.0
        );
    }
}
