//! The database edge, at the bottom of the house: it imports only `domain` (and the config it
//! is opened with), and owns the types that go in and out of it.
//!
//! - In: a batch's [`Writes`] (built by the pipeline, applied in one transaction with the
//!   source's [`Checkpoint`]), the outbox rows the rules queue ([`NewOutboxRow`]), the agent
//!   commands' changes.
//! - Out: the [`Snapshot`] a batch is decided against (asked for by [`Keys`]), the read rows
//!   (`rows`, `outbox_rows`), a mailbox's [`MailboxState`].
//! - Failures: a typed [`Error`] whose [`ErrorKind`] says whether the database refused the data
//!   (quarantine that mail) or is unavailable (stop, acknowledge nothing).
//!
//! Everything above is backend-neutral. The SQL is in [`sqlite`] (SQLite today: one file, WAL,
//! schema in `migrations/sqlite/`); a PostgreSQL backend is a sibling module with the same
//! functions and `migrations/postgres/` with the same migration names. Queries are built at
//! run time (`query_as` + `FromRow`) with bound parameters only, so the build needs no
//! database.

mod checkpoints;
mod error;
mod outbox_rows;
mod rows;
mod snapshot;
pub mod sqlite;
mod stored_raw;
mod writes;

use sqlx::sqlite::SqlitePool;

pub use checkpoints::{Checkpoint, MailboxState};
pub use error::{Context, Error, ErrorKind, Result};
pub use outbox_rows::{OutboxFinish, OutboxRow, OutboxUpdate, Refusal, RetryOutcome};
pub use rows::{
    AttachmentRow, AttachmentSource, DecisionRow, MessageRow, NotificationRow, OutboundMessage,
    ParticipantRow, PingRow, QuarantineRow, SlaTicket, StoredParticipant, StoredTicket, TicketRow,
};
pub use snapshot::{Keys, Seen, SentCounts, SentMail, Snapshot, TicketState};
pub use sqlite::{
    Tx, add_staff_participant, agent, apply, auto_sent_counts, insert_outbox, load_snapshot,
    logged_copy, sla, store_outbound_files,
};
pub use stored_raw::{RawCodec, RawDecodeError, StoredRaw};
pub use writes::{
    Escalated, NewAlertKey, NewAttachment, NewDecision, NewMessage, NewOutboxRow, NewParticipant,
    NewQuarantine, NewTicket, TicketUpdate, Writes,
};

/// How hard a commit works to survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on every commit: for sources acknowledged after commit (IMAP moves, ingest).
    Full,
    /// No fsync per commit (SQLite WAL `synchronous=NORMAL`): a power cut may lose the last
    /// commits but never corrupts the database. For imports, whose source stays on disk and
    /// whose re-run is exact (dedupe by Message-ID), so nothing can be lost.
    Import,
}

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create the file when missing: commands that store mail (`run`, `ingest`, `import`)
    /// and `migrate`.
    Create,
    /// The database must exist: commands that show or change what is stored. A missing file
    /// is an error naming the path; nothing is created.
    Existing,
}

/// What opening did to the database before the command ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The file did not exist and was created.
    pub created: bool,
    /// Migrations applied now, `(version, description)`, oldest first.
    pub applied: Vec<(i64, String)>,
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    checkpoint_signal: sqlite::CheckpointSignal,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        Self::open_with(url, Durability::Full).await
    }

    /// [`Store::open`] with the durability of commits chosen.
    pub async fn open_with(url: &str, durability: Durability) -> anyhow::Result<Store> {
        Ok(Self::open_as(url, durability, Access::Create).await?.0)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
