//! The outbox as the sender sees it (SPEC 5): claim due rows with a lease, then record what
//! happened. Every method is one short statement or transaction: no transaction is ever held
//! while mail is on the network. Enqueueing happens elsewhere, in the transaction of the change
//! that causes the notification.
//!
//! Row lifecycle: `pending` → (claim) `sending` → `sent` | `pending` (retry later) | `failed`.
//! A `sending` row whose lease expired (its sender died mid-send) is claimable again. Rows the
//! loop guard holds are `held`; `failed` and `held` rows go back to `pending` with
//! [`Store::outbox_retry`] (`mailgate outbox retry ID`).

use sqlx::FromRow;

use crate::store::{OutboxFinish, OutboxRow, OutboxUpdate, Refusal, Result, RetryOutcome, Store};

/// The columns of [`OutboxRow`].
const COLUMNS: &str = "id, ticket_id, kind, recipients, subject, message_id, in_reply_to, \
     references_ids, auto_submitted, body_text, body_html, status, attempts, next_attempt_at, \
     lease_owner, lease_until, last_error, created_at, sent_at, delivered_to, refused, reply_to";

#[derive(FromRow)]
struct Finished {
    ticket_id: Option<i64>,
    message_id: String,
}

impl Store {
    /// Claims up to `limit` due rows for `owner` until `lease_until`: pending rows whose time
    /// has come and sending rows whose lease expired, oldest first. One statement, so two
    /// senders never claim the same row. Counts the attempt.
    pub async fn claim_outbox(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let mut rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET status = 'sending', lease_owner = ?1, lease_until = ?2, \
             attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                 WHERE (status = 'pending' AND next_attempt_at <= ?3) \
                    OR (status = 'sending' AND lease_until < ?3) \
                 ORDER BY id LIMIT ?4) \
             RETURNING {COLUMNS}"
        )))
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Whether a row is due at `now` (pending and due, or leased with an expired lease): a
    /// read, so an idle sender polling takes no write lock.
    pub async fn outbox_due(&self, now: i64) -> Result<bool> {
        let (due,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1) \
             OR EXISTS (SELECT 1 FROM outbox WHERE status = 'sending' AND lease_until < ?1)",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(due)
    }

    /// Gives claimed rows back untouched (shutdown before they were tried): `pending`, the
    /// attempt not counted.
    pub async fn release_outbox(&self, owner: &str, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE outbox SET status = 'pending', lease_owner = NULL, lease_until = NULL, \
             attempts = MAX(attempts - 1, 0) \
             WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'sending' \
             AND lease_owner = ?2",
        )
        .bind(serde_json::to_string(ids)?)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records the outcome of an attempt on row `id`, only while `owner` still holds its lease
    /// (false: the lease was lost, nothing written). See [`Store::finish_outbox_batch`].
    pub async fn finish_outbox(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        delivered_to: &[String],
        refused: &[Refusal],
        update: &OutboxUpdate,
    ) -> Result<bool> {
        let item = OutboxFinish {
            id,
            delivered_to: delivered_to.to_vec(),
            refused: refused.to_vec(),
            update: update.clone(),
        };
        let done = self.finish_outbox_batch(owner, now, &[item]).await?;
        Ok(done.first().copied().unwrap_or(false))
    }

    /// Records the outcomes of several attempts in one transaction (one commit for a whole
    /// round of the sender), each only while `owner` still holds the row's lease: the result
    /// says, per item, whether it was written. A final state with refused recipients or a
    /// failure is also recorded on the ticket: a decision row (`send-failed` /
    /// `send-partly-refused`, visible in `tickets show` and `decisions`), and every refused
    /// recipient is marked bouncing among the ticket's participants.
    pub async fn finish_outbox_batch(
        &self,
        owner: &str,
        now: i64,
        items: &[OutboxFinish],
    ) -> Result<Vec<bool>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let mut written = Vec::with_capacity(items.len());
        for item in items {
            written.push(finish_one(&mut tx, owner, now, item).await?);
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Outbox rows, oldest first; only those in `status` when given.
    pub async fn outbox_list(&self, status: Option<&str>) -> Result<Vec<OutboxRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
        )))
        .bind(status)
        .fetch_all(self.pool())
        .await?)
    }

    /// Row counts per status (`pending`, `sending`, `sent`, `failed`, `held`).
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Puts a `failed` or `held` row back to `pending`, due now, with a fresh attempt budget.
    /// Recipients refused before are tried again; those already served are not.
    pub async fn outbox_retry(&self, id: i64, now: i64) -> Result<RetryOutcome> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, attempts = 0, \
             refused = '[]', lease_owner = NULL, lease_until = NULL \
             WHERE id = ?2 AND status IN ('failed', 'held')",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(RetryOutcome::Requeued);
        }
        let status: Option<(String,)> = sqlx::query_as("SELECT status FROM outbox WHERE id = ?1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match status {
            None => RetryOutcome::NotFound,
            Some((s,)) => RetryOutcome::NotRetryable(s),
        })
    }
}

async fn finish_one(
    tx: &mut super::Tx,
    owner: &str,
    now: i64,
    item: &OutboxFinish,
) -> Result<bool> {
    let OutboxFinish {
        id,
        delivered_to,
        refused,
        update,
    } = item;
    let (status, next_at, error) = match update {
        OutboxUpdate::Sent => ("sent", None, None),
        OutboxUpdate::RetryAt { at, error } => ("pending", Some(*at), Some(error.clone())),
        OutboxUpdate::Failed { error, .. } => ("failed", None, Some(error.clone())),
    };
    let error = error.or_else(|| (!refused.is_empty()).then(|| refusal_summary(refused)));
    let finished: Option<Finished> = sqlx::query_as(
        "UPDATE outbox SET status = ?1, next_attempt_at = COALESCE(?2, next_attempt_at), \
         last_error = ?3, delivered_to = ?4, refused = ?5, lease_owner = NULL, \
         lease_until = NULL, sent_at = CASE WHEN ?1 = 'sent' THEN ?6 ELSE sent_at END \
         WHERE id = ?7 AND status = 'sending' AND lease_owner = ?8 \
         RETURNING ticket_id, message_id",
    )
    .bind(status)
    .bind(next_at)
    .bind(error.as_deref())
    .bind(serde_json::to_string(delivered_to)?)
    .bind(serde_json::to_string(refused)?)
    .bind(now)
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(finished) = finished else {
        return Ok(false);
    };
    let note = match update {
        OutboxUpdate::Failed { rule, error } => Some(("send-failed", *rule, error.clone())),
        OutboxUpdate::Sent if !refused.is_empty() => Some((
            "send-partly-refused",
            "smtp-permanent",
            format!(
                "delivered to {}; {}",
                delivered_to.join(", "),
                refusal_summary(refused)
            ),
        )),
        _ => None,
    };
    if let (Some((decision, rule, reason)), Some(ticket)) = (note, finished.ticket_id) {
        sqlx::query(
            "INSERT INTO decisions (created_at, source, mailbox, message_id, raw_sha256, \
             classification, decision, rule, reason, ticket_id) \
             VALUES (?1, ?2, 'outbox', ?3, '', 'outgoing', ?4, ?5, ?6, ?7)",
        )
        .bind(now)
        .bind(format!("outbox:{id}"))
        .bind(&finished.message_id)
        .bind(decision)
        .bind(rule)
        .bind(format!("outbox #{id}: {reason}"))
        .bind(ticket)
        .execute(&mut **tx)
        .await?;
        let refused_addresses: Vec<String> = refused
            .iter()
            .map(|r| r.address.to_ascii_lowercase())
            .collect();
        sqlx::query(
            "UPDATE participants SET bouncing = 1 WHERE ticket_id = ?1 \
             AND lower(address) IN (SELECT value FROM json_each(?2))",
        )
        .bind(ticket)
        .bind(serde_json::to_string(&refused_addresses)?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

fn refusal_summary(refused: &[Refusal]) -> String {
    let parts: Vec<String> = refused
        .iter()
        .map(|r| format!("{} refused: {}", r.address, r.error))
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        (dir, Store::open(&url).await.unwrap())
    }

    async fn insert(store: &Store, n: i64, recipients: &[&str], due: i64) -> i64 {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO outbox (kind, recipients, subject, message_id, body_text, \
             next_attempt_at, created_at) VALUES ('agent_reply', ?1, 's', ?2, 'b', ?3, ?3) \
             RETURNING id",
        )
        .bind(serde_json::to_string(recipients).unwrap())
        .bind(format!("m{n}@example.test"))
        .bind(due)
        .fetch_one(store.pool())
        .await
        .unwrap();
        id
    }

    #[tokio::test]
    async fn claims_due_rows_once_and_reclaims_expired_leases() {
        let (_dir, store) = store().await;
        let a = insert(&store, 1, &["a@x.test"], 100).await;
        let b = insert(&store, 2, &["b@x.test"], 200).await;
        let claimed = store.claim_outbox("s1", 150, 160, 10).await.unwrap();
        assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a]);
        assert_eq!(
            (claimed[0].status.as_str(), claimed[0].attempts),
            ("sending", 1)
        );
        assert!(
            store
                .claim_outbox("s2", 155, 170, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // s1 died: its lease expires at 160.
        let again = store.claim_outbox("s2", 201, 300, 10).await.unwrap();
        assert_eq!(again.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(again[0].attempts, 2);
        // The old owner's late result is ignored.
        let late = store
            .finish_outbox(a, "s1", 202, &[], &[], &OutboxUpdate::Sent)
            .await
            .unwrap();
        assert!(!late);
        assert!(
            store
                .finish_outbox(a, "s2", 202, &["a@x.test".into()], &[], &OutboxUpdate::Sent)
                .await
                .unwrap()
        );
        store.release_outbox("s2", &[b]).await.unwrap();
        let rows = store.outbox_list(None).await.unwrap();
        assert_eq!(rows[0].status, "sent");
        assert_eq!(rows[0].sent_at, Some(202));
        assert_eq!((rows[1].status.as_str(), rows[1].attempts), ("pending", 0));
    }

    #[tokio::test]
    async fn retry_failure_and_requeue() {
        let (_dir, store) = store().await;
        let id = insert(&store, 1, &["a@x.test", "b@x.test", "c@x.test"], 0).await;
        let row = &store.claim_outbox("s", 10, 20, 5).await.unwrap()[0];
        assert_eq!(row.pending_recipients().len(), 3);
        let refused = vec![Refusal {
            address: "b@x.test".into(),
            error: "554 no".into(),
        }];
        let update = OutboxUpdate::RetryAt {
            at: 50,
            error: "421 busy".into(),
        };
        store
            .finish_outbox(id, "s", 11, &["a@x.test".into()], &refused, &update)
            .await
            .unwrap();
        assert!(store.claim_outbox("s", 49, 60, 5).await.unwrap().is_empty());
        let row = &store.claim_outbox("s", 50, 60, 5).await.unwrap()[0];
        assert_eq!(row.pending_recipients(), vec!["c@x.test".to_string()]);
        assert_eq!(row.last_error.as_deref(), Some("421 busy"));
        let failed = OutboxUpdate::Failed {
            rule: "retries-exhausted",
            error: "421 busy".into(),
        };
        store
            .finish_outbox(id, "s", 51, &["a@x.test".into()], &refused, &failed)
            .await
            .unwrap();
        assert_eq!(store.outbox_list(Some("failed")).await.unwrap().len(), 1);
        assert_eq!(
            store.outbox_retry(id, 60).await.unwrap(),
            RetryOutcome::Requeued
        );
        let row = &store.claim_outbox("s", 60, 70, 5).await.unwrap()[0];
        assert_eq!(row.pending_recipients(), vec!["b@x.test", "c@x.test"]);
        assert_eq!(row.attempts, 1);
        assert_eq!(
            store.outbox_retry(id, 60).await.unwrap(),
            RetryOutcome::NotRetryable("sending".into())
        );
        assert_eq!(
            store.outbox_retry(999, 60).await.unwrap(),
            RetryOutcome::NotFound
        );
    }
}
