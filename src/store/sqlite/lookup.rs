//! Loading the [`Snapshot`] a batch is decided against: which of its Message-IDs are already
//! known (and on which ticket), the status and participants of the tickets it may touch, and
//! the ticket counter. Run inside the batch's write transaction.
//!
//! Key lists are bound as ONE JSON array (`json_each(?1)`), so each query has constant SQL,
//! is prepared once per connection and reused for every batch whatever its size.

use std::collections::{HashMap, HashSet};

use sqlx::FromRow;

use crate::domain::{AlertKey, EmailAddress, MessageId, Priority, Status};

use crate::store::{Keys, Result, Seen, SentCounts, SentMail, Snapshot, Store, StoredRaw, Tx};

/// Every Message-ID of the list already decided on: stored on a ticket (`messages`), or only
/// logged because it belonged to no ticket (`decisions` with decision `ignored`), or sent
/// by mailgate itself (`outbox`: a reply to a notification threads by it).
/// The indexes `messages_seen` and `decisions_unstored` (partial: only decisions that stored
/// nothing) cover the columns, so no row is read, let alone one holding a mail. They are
/// named: SQLite would pick the unique index on `message_id` by itself.
/// The answer comes back as ONE row holding a JSON array of `[rank, message_id, ticket_id,
/// raw_sha256]` (rank: 0 stored, 1 decided only, 2 sent by us; the lowest wins): a batch of
/// known mail (an import re-run) then costs one row through the driver, not hundreds.
/// A stored message (rank 0) counts as received ([`Seen::received`]) unless [`ORIGINALS`]
/// says otherwise; that is asked only when a mail reuses its Message-ID with other bytes.
const SEEN: &str = "SELECT json_group_array(json_array(rank, message_id, ticket_id, raw_sha256)) FROM ( \
     SELECT 0 AS rank, message_id, ticket_id, raw_sha256 FROM messages INDEXED BY messages_seen \
     WHERE message_id IN (SELECT value FROM json_each(?1)) \
     UNION ALL SELECT 1, message_id, ticket_id, raw_sha256 FROM decisions INDEXED BY decisions_unstored \
     WHERE decision IN ('ignored', 'rejected') AND message_id IN (SELECT value FROM json_each(?1)) \
     UNION ALL SELECT 2, message_id, ticket_id, '' FROM outbox \
     WHERE message_id IN (SELECT value FROM json_each(?1)))";

/// The stored messages with the Message-IDs of ?1: whether mailgate wrote it itself (outbound
/// mail, internal notes: a different mail with its id is a duplicate, never kept), else its raw
/// bytes, whose content a mail with other bytes is compared with (the same content, only other
/// trace headers: a duplicate).
const ORIGINALS: &str = "SELECT message_id, direction <> 'inbound' AS written, \
     CASE WHEN direction = 'inbound' THEN raw END AS raw, raw_codec FROM messages \
     WHERE message_id IN (SELECT value FROM json_each(?1))";

#[derive(FromRow)]
struct OriginalRow {
    message_id: String,
    written: bool,
    raw: Option<Vec<u8>>,
    raw_codec: String,
}

/// Mails logged as the same mail as a stored one with other trace headers (a `duplicate` of
/// other bytes), under the Message-IDs of ?1: the same bytes again are a re-delivery of that
/// copy, so re-running an import logs nothing more (by the index `decisions_message_id`).
const LOGGED_COPIES: &str = "SELECT json_group_array(json_array(message_id, ticket_id, raw_sha256)) \
     FROM decisions WHERE decision = 'duplicate' AND rule = 'duplicate' \
     AND message_id IN (SELECT value FROM json_each(?1))";

/// Outgoing mails (on a ticket) that bounces of the batch refer to.
const SENT: &str = "SELECT message_id, ticket_id, recipients FROM outbox \
     WHERE ticket_id IS NOT NULL AND message_id IN (SELECT value FROM json_each(?1))";

/// The newest ticket of each alert key of ?1 that is still new, open or pending (by the
/// primary key of `alert_keys`, then the ticket's row).
const ALERT_TICKETS: &str = "SELECT a.key, MAX(a.ticket_id) AS ticket_id FROM alert_keys a \
     JOIN tickets t ON t.id = a.ticket_id \
     WHERE a.key IN (SELECT value FROM json_each(?1)) AND t.status IN ('new', 'open', 'pending') \
     GROUP BY a.key";

#[derive(FromRow)]
struct AlertTicketRow {
    key: String,
    ticket_id: i64,
}

const TICKETS: &str = "SELECT id, status, priority, requester FROM tickets WHERE id IN (SELECT value FROM json_each(?1))";

const PARTICIPANTS: &str = "SELECT ticket_id, address FROM participants WHERE ticket_id IN (SELECT value FROM json_each(?1))";

/// Automatic mails per recipient since ?2 (held mail was never sent; agent replies are written by
/// people and are not capped), for the addresses of ?1.
const AUTO_SENT: &str = "SELECT r.value AS address, COUNT(*) AS sent \
     FROM outbox o, json_each(o.recipients) r \
     WHERE o.created_at >= ?2 AND o.status <> 'held' AND o.kind <> 'agent_reply' \
       AND r.value IN (SELECT value FROM json_each(?1)) \
     GROUP BY r.value";

#[derive(FromRow)]
struct AutoSentRow {
    address: String,
    sent: i64,
}

#[derive(FromRow)]
struct SentRow {
    message_id: String,
    ticket_id: i64,
    recipients: String,
}

/// One element of [`SEEN`]'s array.
#[derive(serde::Deserialize)]
struct SeenRow(u8, String, Option<i64>, String);

/// Runs [`SEEN`] for `ids`: what is known of each, the best-ranked answer per Message-ID.
async fn seen<'e>(
    conn: impl sqlx::SqliteExecutor<'e>,
    ids: &[&str],
) -> Result<HashMap<String, Seen>> {
    let (json,): (String,) = sqlx::query_as(SEEN)
        .bind(json_list(ids)?)
        .fetch_one(conn)
        .await?;
    let mut rows: Vec<SeenRow> = serde_json::from_str(&json)?;
    rows.sort_by_key(|r| r.0);
    let mut out = HashMap::with_capacity(rows.len());
    for SeenRow(rank, message_id, ticket, raw_sha256) in rows {
        out.entry(message_id).or_insert(Seen {
            ticket,
            raw_sha256,
            received: rank == 0,
            content: None,
        });
    }
    Ok(out)
}

/// Runs [`LOGGED_COPIES`] for `ids`: each logged copy as (Message-ID, ticket, SHA-256).
async fn logged_copies<'e>(
    conn: impl sqlx::SqliteExecutor<'e>,
    ids: &[&str],
) -> Result<Vec<(String, Option<i64>, String)>> {
    let (json,): (String,) = sqlx::query_as(LOGGED_COPIES)
        .bind(json_list(ids)?)
        .fetch_one(conn)
        .await?;
    Ok(serde_json::from_str(&json)?)
}

/// A copy logged as the same mail as a stored one (see [`LOGGED_COPIES`]), as a [`Seen`] under
/// the synthetic id of its bytes: not received, so deciding knows it was logged, not kept.
pub fn logged_copy(ticket: Option<i64>, raw_sha256: String) -> (MessageId, Seen) {
    let id = MessageId::synthetic_for_sha256(&raw_sha256);
    let seen = Seen {
        ticket,
        raw_sha256,
        received: false,
        content: None,
    };
    (id, seen)
}

#[derive(FromRow)]
struct TicketStatusRow {
    id: i64,
    status: String,
    priority: String,
    requester: String,
}

#[derive(FromRow)]
struct ParticipantKey {
    ticket_id: i64,
    address: String,
}

fn json_list<T: serde::Serialize>(items: &[T]) -> Result<String> {
    Ok(serde_json::to_string(items)?)
}

/// Adds what [`SEEN`] found for `message_id` to the snapshot (the first answer wins) and its
/// ticket to those whose state is loaded.
fn record(snapshot: &mut Snapshot, tickets: &mut HashSet<i64>, message_id: String, seen: Seen) {
    let Ok(id) = MessageId::parse(&message_id) else {
        return;
    };
    if let Some(t) = seen.ticket {
        tickets.insert(t);
    }
    snapshot.seen.entry(id).or_insert(seen);
}

/// Loads what `keys` ask for. `fingerprint` gives the content fingerprint of a stored mail's
/// bytes (`parse::content_fingerprint`), for the rare mail that reuses a stored Message-ID with
/// other bytes.
pub async fn load_snapshot(
    tx: &mut Tx,
    keys: &Keys,
    fingerprint: impl Fn(&[u8]) -> String,
) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let ids: Vec<&str> = keys.message_ids.iter().map(MessageId::as_str).collect();
    let mut ticket_ids: HashSet<i64> = keys.tickets.clone();
    for (message_id, seen) in seen(&mut **tx, &ids).await? {
        record(&mut snapshot, &mut ticket_ids, message_id, seen);
    }
    snapshot.rivals = keys.rivals();
    // Mail of the batch whose Message-ID is stored with other bytes (rare): whether the stored
    // one was received (else the mail is a plain duplicate), the content of the stored one
    // (the same content: a duplicate), and whether this mail is already kept under the
    // synthetic id of its bytes (then it is a re-delivery).
    let reused: Vec<(&str, MessageId)> = keys
        .hashes
        .iter()
        .filter(|(id, sha)| {
            snapshot
                .seen
                .get(id)
                .is_some_and(|s| s.received && s.raw_sha256 != *sha)
        })
        .map(|(id, sha)| (id.as_str(), MessageId::synthetic_for_sha256(sha)))
        .collect();
    if !reused.is_empty() {
        let originals: Vec<&str> = reused.iter().map(|(id, _)| *id).collect();
        let rows: Vec<OriginalRow> = sqlx::query_as(ORIGINALS)
            .bind(json_list(&originals)?)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            let Some(s) = MessageId::parse(&r.message_id)
                .ok()
                .and_then(|id| snapshot.seen.get_mut(&id))
            else {
                continue;
            };
            if r.written {
                s.received = false;
            } else if let Some(raw) = r.raw {
                // Undecodable: content unknown, the mail is compared by its bytes only.
                s.content = StoredRaw::decode(&r.raw_codec, raw)
                    .ok()
                    .map(|raw| fingerprint(&raw));
            }
        }
        for (message_id, ticket, sha) in logged_copies(&mut **tx, &originals).await? {
            let wanted = keys
                .hashes
                .iter()
                .any(|(id, h)| id.as_str() == message_id && *h == sha);
            if wanted {
                let (id, seen) = logged_copy(ticket, sha);
                snapshot.seen.entry(id).or_insert(seen);
            }
        }
        let synthetic: Vec<&str> = reused.iter().map(|(_, s)| s.as_str()).collect();
        for (message_id, seen) in seen(&mut **tx, &synthetic).await? {
            record(&mut snapshot, &mut ticket_ids, message_id, seen);
        }
    }
    if !keys.sent_ids.is_empty() {
        let ids: Vec<&str> = keys.sent_ids.iter().map(MessageId::as_str).collect();
        let rows: Vec<SentRow> = sqlx::query_as(SENT)
            .bind(json_list(&ids)?)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            let Ok(id) = MessageId::parse(&r.message_id) else {
                continue;
            };
            let recipients: Vec<String> = serde_json::from_str(&r.recipients).unwrap_or_default();
            ticket_ids.insert(r.ticket_id);
            snapshot.sent.insert(
                id,
                SentMail {
                    ticket: r.ticket_id,
                    recipients: recipients
                        .iter()
                        .filter_map(|a| EmailAddress::parse(a).ok())
                        .collect(),
                },
            );
        }
    }
    if !keys.alert_keys.is_empty() {
        let list: Vec<&str> = keys.alert_keys.iter().map(AlertKey::as_str).collect();
        let rows: Vec<AlertTicketRow> = sqlx::query_as(ALERT_TICKETS)
            .bind(json_list(&list)?)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            ticket_ids.insert(r.ticket_id);
            snapshot
                .alert_tickets
                .insert(AlertKey::from_stored(r.key), r.ticket_id);
        }
    }
    let tickets: Vec<i64> = ticket_ids.into_iter().collect();
    if !tickets.is_empty() {
        let rows: Vec<TicketStatusRow> = sqlx::query_as(TICKETS)
            .bind(json_list(&tickets)?)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            let status: Status = r.status.parse()?;
            let priority: Priority = r.priority.parse()?;
            let t = snapshot.ticket_mut(r.id);
            t.status = status;
            t.priority = priority;
            t.requester = EmailAddress::parse(&r.requester).ok();
        }
    }
    // Participants: who may write into a ticket by its tag, and whether a mail threaded by
    // Message-ID comes from a participant (SPEC 2.4.1).
    if !tickets.is_empty() {
        let rows: Vec<ParticipantKey> = sqlx::query_as(PARTICIPANTS)
            .bind(json_list(&tickets)?)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            if let (Ok(address), Some(t)) = (
                EmailAddress::parse(&r.address),
                snapshot.tickets.get_mut(&r.ticket_id),
            ) {
                t.participants.insert(address);
            }
        }
    }
    if !keys.addresses.is_empty() {
        let addresses: Vec<&EmailAddress> = keys.addresses.iter().collect();
        snapshot.auto_sent = auto_sent_counts(tx, &addresses, keys.counts_since).await?;
    }
    let counter: (i64,) = sqlx::query_as("SELECT value FROM counters WHERE name = 'ticket_number'")
        .fetch_one(&mut **tx)
        .await?;
    snapshot.ticket_counter = counter.0;
    Ok(snapshot)
}

/// Automatic mails each of `addresses` got since `since` (Unix seconds), for the rate cap.
pub async fn auto_sent_counts(
    tx: &mut Tx,
    addresses: &[&EmailAddress],
    since: i64,
) -> Result<SentCounts> {
    let list: Vec<&str> = addresses.iter().map(|a| a.as_str()).collect();
    let rows: Vec<AutoSentRow> = sqlx::query_as(AUTO_SENT)
        .bind(json_list(&list)?)
        .bind(since)
        .fetch_all(&mut **tx)
        .await?;
    let mut out = SentCounts::new();
    for r in rows {
        if let Ok(address) = EmailAddress::parse(&r.address) {
            out.insert(address, u32::try_from(r.sent).unwrap_or(u32::MAX));
        }
    }
    Ok(out)
}

impl Store {
    /// Which of `ids` were already decided on, and how (read outside any write transaction;
    /// used to skip parsing exact re-deliveries on import re-runs).
    pub async fn known_messages(&self, ids: &[&MessageId]) -> Result<HashMap<String, Seen>> {
        let ids: Vec<&str> = ids.iter().map(|m| m.as_str()).collect();
        seen(self.pool(), &ids).await
    }

    /// The copies of `ids` logged as the same mail with other trace headers, as (Message-ID,
    /// SHA-256) (read outside any write transaction, for the import's re-delivery shortcut).
    pub async fn logged_copies(&self, ids: &[&MessageId]) -> Result<HashSet<(String, String)>> {
        let ids: Vec<&str> = ids.iter().map(|m| m.as_str()).collect();
        Ok(logged_copies(self.pool(), &ids)
            .await?
            .into_iter()
            .map(|(id, _, sha)| (id, sha))
            .collect())
    }
}
