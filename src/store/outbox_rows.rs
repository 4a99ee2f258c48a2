//! The outbox as the sender reads and updates it (SPEC 5): one row as stored, and what one
//! delivery attempt did to it. Queued rows are written as [`super::NewOutboxRow`].

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

/// One outbox row, as stored.

#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub kind: String,
    /// JSON array of addresses (envelope recipients and `To`).
    pub recipients: String,
    pub subject: String,
    /// Without `<>`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Space separated, without `<>`.
    pub references_ids: String,
    pub auto_submitted: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub status: String,
    /// Attempts started (counted when the row is claimed).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// JSON array of the recipients that accepted the mail.
    pub delivered_to: String,
    /// JSON array of [`Refusal`]s: recipients refused for good (5xx).
    pub refused: String,
    /// Reply-To when it is not the ticket's plus-address (mail to tier 1 about an escalation).
    pub reply_to: Option<String>,
}

/// A recipient the server refused permanently, with its reply.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub address: String,
    pub error: String,
}

impl OutboxRow {
    /// Every recipient of the row (an unreadable list counts as none).
    pub fn recipient_list(&self) -> Vec<String> {
        serde_json::from_str(&self.recipients).unwrap_or_default()
    }

    pub fn delivered_list(&self) -> Vec<String> {
        serde_json::from_str(&self.delivered_to).unwrap_or_default()
    }

    pub fn refused_list(&self) -> Vec<Refusal> {
        serde_json::from_str(&self.refused).unwrap_or_default()
    }

    /// Recipients neither served nor refused yet, in the row's order, without repeats.
    pub fn pending_recipients(&self) -> Vec<String> {
        let delivered = self.delivered_list();
        let refused = self.refused_list();
        let mut out: Vec<String> = Vec::new();
        for r in self.recipient_list() {
            let done = delivered.iter().any(|d| d.eq_ignore_ascii_case(&r))
                || refused.iter().any(|x| x.address.eq_ignore_ascii_case(&r))
                || out.iter().any(|o| o.eq_ignore_ascii_case(&r));
            if !done {
                out.push(r);
            }
        }
        out
    }
}

/// Where one attempt left a claimed row.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// Every recipient is served or refused (at least one served): `sent`.
    Sent,
    /// Some recipients failed temporarily: `pending` again at `at` (Unix seconds).
    RetryAt { at: i64, error: String },
    /// No recipient left to try and none served, or retries exhausted: `failed`. `rule`
    /// names why (`smtp-permanent`, `retries-exhausted`, `unrenderable`).
    Failed { rule: &'static str, error: String },
}

/// One attempt's result, for [`Store::finish_outbox_batch`].

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxFinish {
    pub id: i64,
    pub delivered_to: Vec<String>,
    pub refused: Vec<Refusal>,
    pub update: OutboxUpdate,
}

/// What [`Store::outbox_retry`] did.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    Requeued,
    NotFound,
    /// Only `failed` and `held` rows can be retried; this one is in that status.
    NotRetryable(String),
}
