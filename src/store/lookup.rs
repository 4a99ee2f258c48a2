//! Loading the [`Snapshot`] a batch is decided against: which of its Message-IDs are already
//! known (and on which ticket), the status and participants of the tickets it may touch, and
//! the ticket counter. Run inside the batch's write transaction.

use std::collections::HashSet;

use sqlx::{FromRow, QueryBuilder, Sqlite};

use crate::decide::Seen;
use crate::domain::{EmailAddress, MessageId, Status};
use crate::pipeline::{Keys, Snapshot};

use super::Tx;

const IN_CHUNK: usize = 500;

#[derive(FromRow)]
struct SeenRow {
    message_id: String,
    ticket_id: Option<i64>,
    raw_sha256: String,
}

#[derive(FromRow)]
struct TicketStatusRow {
    id: i64,
    status: String,
}

#[derive(FromRow)]
struct ParticipantKey {
    ticket_id: i64,
    address: String,
}

/// Every Message-ID of `chunk` already decided on: stored on a ticket (`messages`), or only
/// logged because it belonged to no ticket (`decisions` with decision `ignored`).
fn seen_query(chunk: &[&MessageId]) -> QueryBuilder<Sqlite> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT message_id, ticket_id, raw_sha256 FROM messages WHERE message_id IN (");
    push_ids(&mut q, chunk);
    q.push(") UNION ALL SELECT message_id, ticket_id, raw_sha256 FROM decisions WHERE decision = 'ignored' AND message_id IN (");
    push_ids(&mut q, chunk);
    q.push(")");
    q
}

fn push_ids(q: &mut QueryBuilder<Sqlite>, ids: &[&MessageId]) {
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.as_str().to_string());
    }
}

pub async fn load_snapshot(tx: &mut Tx, keys: &Keys) -> anyhow::Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let ids: Vec<&MessageId> = keys.message_ids.iter().collect();
    let mut ticket_ids: HashSet<i64> = keys.tickets.clone();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<SeenRow> = seen_query(chunk).build_query_as().fetch_all(&mut **tx).await?;
        for r in rows {
            let Ok(id) = MessageId::parse(&r.message_id) else {
                continue;
            };
            if let Some(t) = r.ticket_id {
                ticket_ids.insert(t);
            }
            snapshot.seen.entry(id).or_insert(Seen {
                ticket: r.ticket_id,
                raw_sha256: r.raw_sha256,
            });
        }
    }
    let tickets: Vec<i64> = ticket_ids.into_iter().collect();
    for chunk in tickets.chunks(IN_CHUNK) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT id, status FROM tickets WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        q.push(")");
        let rows: Vec<TicketStatusRow> = q.build_query_as().fetch_all(&mut **tx).await?;
        for r in rows {
            let status: Status = r.status.parse()?;
            snapshot.ticket_mut(r.id).status = status;
        }
    }
    // Participants only matter for subject-tag threading.
    let tagged: Vec<i64> = keys.tickets.iter().copied().collect();
    for chunk in tagged.chunks(IN_CHUNK) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT ticket_id, address FROM participants WHERE ticket_id IN (");
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        q.push(")");
        let rows: Vec<ParticipantKey> = q.build_query_as().fetch_all(&mut **tx).await?;
        for r in rows {
            if let (Ok(address), Some(t)) = (
                EmailAddress::parse(&r.address),
                snapshot.tickets.get_mut(&r.ticket_id),
            ) {
                t.participants.insert(address);
            }
        }
    }
    let counter: (i64,) = sqlx::query_as("SELECT value FROM counters WHERE name = 'ticket_number'")
        .fetch_one(&mut **tx)
        .await?;
    snapshot.ticket_counter = counter.0;
    Ok(snapshot)
}

impl super::Store {
    /// For each Message-ID already decided on, its raw SHA-256 (read outside any write
    /// transaction; used to skip parsing exact re-deliveries on import re-runs).
    pub async fn known_hashes(
        &self,
        ids: &[&MessageId],
    ) -> anyhow::Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let rows: Vec<SeenRow> = seen_query(chunk).build_query_as().fetch_all(self.pool()).await?;
            for r in rows {
                out.entry(r.message_id).or_insert(r.raw_sha256);
            }
        }
        Ok(out)
    }
}
