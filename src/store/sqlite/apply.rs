//! Writing one batch's [`Writes`] inside its transaction: multi-row inserts, one update per
//! touched ticket, the ticket counter and the source checkpoint. The caller commits.

use sqlx::{QueryBuilder, Sqlite};

use crate::domain::MessageFlag;

use super::checkpoints::write_checkpoint;
use super::{statement_chunks, statement_sizes};
use crate::store::{Checkpoint, NewOutboxRow, Result, Tx, Writes};

pub async fn apply(
    tx: &mut Tx,
    w: Writes,
    checkpoint: Option<&Checkpoint>,
    now: i64,
) -> Result<()> {
    for chunk in statement_chunks(&w.new_tickets, 11) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO tickets (id, subject, status, priority, requester, mailbox, escalation, \
             created_at, updated_at, last_customer_at, status_since) ",
        );
        q.push_values(chunk, |mut b, t| {
            b.push_bind(t.number)
                .push_bind(t.subject.clone())
                .push_bind(t.status.as_str())
                .push_bind(t.priority.as_str())
                .push_bind(t.requester.to_string())
                .push_bind(t.mailbox.clone())
                .push_bind(t.escalation)
                .push_bind(t.created_at)
                .push_bind(t.updated_at)
                .push_bind(t.last_customer_at)
                .push_bind(t.created_at);
        });
        q.build().execute(&mut **tx).await?;
    }
    if !w.ticket_updates.is_empty() {
        // One statement for every ticket the batch touched, fed from one JSON array.
        let updates: Vec<serde_json::Value> = w
            .ticket_updates
            .iter()
            .map(|u| {
                serde_json::json!({
                    "id": u.number,
                    "updated_at": u.updated_at,
                    "status": u.status.map(|s| s.as_str()),
                    "priority": u.priority.map(|p| p.as_str()),
                    "customer_at": u.last_customer_at,
                })
            })
            .collect();
        sqlx::query(
            "UPDATE tickets SET \
               updated_at = MAX(tickets.updated_at, u.updated_at), \
               status = COALESCE(u.status, tickets.status), \
               priority = COALESCE(u.priority, tickets.priority), \
               status_since = CASE WHEN u.status IS NOT NULL AND u.status <> tickets.status \
                 THEN u.updated_at ELSE tickets.status_since END, \
               status_note = CASE WHEN u.status IS NOT NULL AND u.status <> tickets.status \
                 THEN NULL ELSE tickets.status_note END, \
               last_customer_at = COALESCE(MAX(tickets.last_customer_at, u.customer_at), u.customer_at, tickets.last_customer_at), \
               resolved_at = CASE WHEN u.status IS NULL THEN tickets.resolved_at \
                 WHEN u.status IN ('resolved', 'closed') \
                   THEN COALESCE(tickets.resolved_at, u.updated_at) ELSE NULL END \
             FROM (SELECT value ->> '$.id' AS id, value ->> '$.updated_at' AS updated_at, \
                          value ->> '$.status' AS status, value ->> '$.priority' AS priority, \
                          value ->> '$.customer_at' AS customer_at \
                   FROM json_each(?1)) AS u \
             WHERE tickets.id = u.id",
        )
        .bind(serde_json::to_string(&updates)?)
        .execute(&mut **tx)
        .await?;
    }
    for e in &w.escalated {
        sqlx::query(
            "UPDATE tickets SET escalation = 1, tier = ?2, category = NULLIF(?3, ''), \
             priority = ?4 WHERE id = ?1",
        )
        .bind(e.ticket)
        .bind(e.tier)
        .bind(&e.category)
        .bind(e.priority.as_str())
        .execute(&mut **tx)
        .await?;
    }
    if !w.new_tickets.is_empty() {
        sqlx::query("UPDATE counters SET value = ?1 WHERE name = 'ticket_number' AND value < ?1")
            .bind(w.ticket_counter)
            .execute(&mut **tx)
            .await?;
    }
    for chunk in statement_chunks(&w.alert_keys, 4) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO alert_keys (key, ticket_id, source, created_at) ");
        q.push_values(chunk, |mut b, a| {
            b.push_bind(a.key.as_str().to_string())
                .push_bind(a.ticket)
                .push_bind(a.source.clone())
                .push_bind(a.created_at);
        });
        q.push(" ON CONFLICT (key, ticket_id) DO NOTHING");
        q.build().execute(&mut **tx).await?;
    }
    for chunk in statement_chunks(&w.participants, 4) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO participants (ticket_id, address, name, role) ");
        q.push_values(chunk, |mut b, p| {
            b.push_bind(p.ticket)
                .push_bind(p.address.to_string())
                .push_bind(p.name.clone())
                .push_bind(p.role.as_str());
        });
        q.push(" ON CONFLICT (ticket_id, address) DO NOTHING");
        q.build().execute(&mut **tx).await?;
    }
    if !w.bouncing.is_empty() {
        // Bounces of our mail: the failed recipients stop getting notifications on that ticket.
        let marks: Vec<serde_json::Value> = w
            .bouncing
            .iter()
            .map(|(t, a)| serde_json::json!({ "ticket": t, "address": a.as_str().to_ascii_lowercase() }))
            .collect();
        sqlx::query(
            "UPDATE participants SET bouncing = 1 \
             WHERE EXISTS (SELECT 1 FROM json_each(?1) m \
               WHERE m.value ->> '$.ticket' = participants.ticket_id \
                 AND m.value ->> '$.address' = lower(participants.address))",
        )
        .bind(serde_json::to_string(&marks)?)
        .execute(&mut **tx)
        .await?;
    }
    let mut messages = w.messages;
    for size in statement_sizes(messages.len(), 18) {
        let rest = messages.split_off(size);
        // Received mail: body_text and reply_text stay NULL (derived from raw when shown).
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO messages (ticket_id, message_id, direction, classification, from_addr, \
             from_name, to_addrs, cc_addrs, subject, sent_date, received_at, in_reply_to, \
             references_ids, source, raw_sha256, raw, raw_codec, flag) ",
        );
        q.push_values(messages, |mut b, m| {
            b.push_bind(m.ticket)
                .push_bind(m.message_id)
                .push_bind(m.direction.as_str())
                .push_bind(m.classification.as_str())
                .push_bind(m.from_addr)
                .push_bind(m.from_name)
                .push_bind(m.to_addrs)
                .push_bind(m.cc_addrs)
                .push_bind(m.subject)
                .push_bind(m.sent_date)
                .push_bind(m.received_at)
                .push_bind(m.in_reply_to)
                .push_bind(m.references_ids)
                .push_bind(m.source)
                .push_bind(m.raw_sha256)
                .push_bind(m.raw.bytes)
                .push_bind(m.raw.codec.as_str())
                .push_bind(m.flag.map(MessageFlag::as_str));
        });
        q.build().execute(&mut **tx).await?;
        messages = rest;
    }
    for chunk in statement_chunks(&w.attachments, 6) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO attachments (message_id, position, filename, content_type, size, sha256) ",
        );
        q.push_values(chunk, |mut b, a| {
            b.push_bind(a.message_id.clone())
                .push_bind(a.position)
                .push_bind(a.filename.clone())
                .push_bind(a.content_type.clone())
                .push_bind(a.size)
                .push_bind(a.sha256.clone());
        });
        q.build().execute(&mut **tx).await?;
    }
    for chunk in statement_chunks(&w.decisions, 10) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO decisions (created_at, source, mailbox, message_id, raw_sha256, \
             classification, decision, rule, reason, ticket_id) ",
        );
        q.push_values(chunk, |mut b, d| {
            b.push_bind(d.created_at)
                .push_bind(d.source.clone())
                .push_bind(d.mailbox.clone())
                .push_bind(d.message_id.clone())
                .push_bind(d.raw_sha256.clone())
                .push_bind(d.classification.as_str())
                .push_bind(d.decision.name())
                .push_bind(d.rule.as_str())
                .push_bind(d.reason.clone())
                .push_bind(d.ticket);
        });
        q.build().execute(&mut **tx).await?;
    }
    insert_outbox(tx, &w.outbox).await?;
    for entry in w.quarantine {
        sqlx::query(
            "INSERT INTO quarantine \
               (created_at, source, mailbox, message_id, reason, raw_sha256, raw, raw_codec, \
                size, header_only) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (raw_sha256) DO UPDATE SET reason = excluded.reason, status = 'held'",
        )
        .bind(entry.created_at)
        .bind(entry.source)
        .bind(entry.mailbox)
        .bind(entry.message_id)
        .bind(entry.reason)
        .bind(entry.raw_sha256)
        .bind(entry.raw.bytes)
        .bind(entry.raw.codec.as_str())
        .bind(entry.size.and_then(|n| i64::try_from(n).ok()))
        .bind(entry.header_only)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(checkpoint) = checkpoint {
        write_checkpoint(tx, checkpoint, now).await?;
    }
    Ok(())
}

/// Inserts notifications (row contract with the sender: `pending`, or `held` with the reason in
/// `last_error`; due at once; no attempt yet). Used by the pipeline and by the agent commands,
/// always inside the transaction of the change that caused them. The technicians a critical
/// alert goes to become participants of its ticket (`store::participants`).
pub async fn insert_outbox(tx: &mut Tx, rows: &[NewOutboxRow]) -> Result<()> {
    for chunk in statement_chunks(rows, 16) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO outbox (ticket_id, kind, recipients, subject, message_id, in_reply_to, \
             references_ids, auto_submitted, body_text, body_html, status, attempts, \
             next_attempt_at, last_error, created_at, reply_to) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.ticket)
                .push_bind(r.kind_name())
                .push_bind(r.recipients_json())
                .push_bind(r.subject.clone())
                .push_bind(r.message_id.as_str().to_string())
                .push_bind(r.in_reply_to.as_ref().map(|m| m.as_str().to_string()))
                .push_bind(r.references_text())
                .push_bind(r.auto_submitted.as_str())
                .push_bind(r.body_text.clone())
                .push_bind(r.body_html.clone())
                .push_bind(r.status())
                .push_bind(0_i64)
                .push_bind(r.created_at)
                .push_bind(r.held.clone())
                .push_bind(r.created_at)
                .push_bind(r.reply_to.as_ref().map(|a| a.to_string()));
        });
        q.build().execute(&mut **tx).await?;
    }
    super::participants::record_alerted_technicians(tx, rows).await
}
