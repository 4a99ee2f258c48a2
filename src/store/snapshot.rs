//! What a batch must know of the store before it is decided: the [`Keys`] it asks for and the
//! [`Snapshot`] the store answers with (`store::load_snapshot`), loaded once per batch inside its
//! write transaction. The pipeline updates the snapshot in memory as it decides each mail, so a
//! reply later in a batch threads onto a ticket created earlier in it (the lookups `decide` and
//! `thread` need are implemented on it in `pipeline::snapshot`).

use std::collections::{HashMap, HashSet};

use crate::domain::{AlertKey, EmailAddress, MessageId, Priority, Status};

/// Automatic mails each address got in the rate cap's window (from the outbox, plus what the
/// batch planned since it was read).
pub type SentCounts = HashMap<EmailAddress, u32>;

/// A Message-ID the installation has already decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub ticket: Option<i64>,
    pub raw_sha256: String,
    /// A mail received and stored (on `ticket`), not one only logged nor one mailgate sent: a
    /// different mail reusing its Message-ID is kept (see `decide::evaluate`).
    pub received: bool,
    /// The stored mail's content fingerprint (`parse::content_fingerprint`), loaded only when a mail of the
    /// batch reuses its Message-ID with other bytes (`None` otherwise, or when unknown): a copy
    /// with the same content (only trace headers differ) is a duplicate, not a different mail.
    pub content: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub seen: HashMap<MessageId, Seen>,
    pub tickets: HashMap<i64, TicketState>,
    /// The last ticket number handed out.
    pub ticket_counter: i64,
    /// Automatic mails each address of the batch got in the rate cap's window, counting
    /// what this batch planned so far.
    pub auto_sent: SentCounts,
    /// Our outgoing mails (outbox rows) that bounces of the batch refer to, by Message-ID.
    pub sent: HashMap<MessageId, SentMail>,
    /// Message-IDs that mails of this batch carry with different bytes ([`Keys::rivals`]): the
    /// content fingerprint of each is recorded with it, so a later one is compared by content.
    pub rivals: HashSet<MessageId>,
    /// The newest ticket of each alert key of the batch that was still new, open or pending
    /// when loaded; tickets the batch opens for a key are added as it goes (their status is
    /// in [`Snapshot::tickets`], so a recovery earlier in the batch is seen).
    pub alert_tickets: HashMap<AlertKey, i64>,
}

/// One outgoing mail of the outbox, as a bounce of it needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub ticket: i64,
    pub recipients: Vec<EmailAddress>,
}

#[derive(Debug, Clone)]
pub struct TicketState {
    pub status: Status,
    pub priority: Priority,
    pub participants: HashSet<EmailAddress>,
    /// Loaded for the tickets escalations name (the gate's customer), else `None`.
    pub requester: Option<EmailAddress>,
}

/// The keys a batch must look up before it can be decided.
#[derive(Debug, Default)]
pub struct Keys {
    /// Message-IDs of the batch and every id they reply to or reference.
    pub message_ids: HashSet<MessageId>,
    /// Ticket numbers named by subject tags or verified reply tokens.
    pub tickets: HashSet<i64>,
    /// Addresses that may get a notification: their count of automatic mails since
    /// `counts_since` (Unix seconds) is loaded.
    pub addresses: HashSet<EmailAddress>,
    pub counts_since: i64,
    /// Message-IDs that bounces of the batch refer to: looked up in the outbox.
    pub sent_ids: HashSet<MessageId>,
    /// The keys of the batch's monitoring alerts: their open tickets are loaded.
    pub alert_keys: HashSet<AlertKey>,
    /// The Message-ID and SHA-256 of each parsed mail of the batch: one whose Message-ID is
    /// stored with other bytes is also looked up by the synthetic id of its bytes.
    pub hashes: Vec<(MessageId, String)>,
}

impl Keys {
    /// The Message-IDs that more than one mail of the batch carries with different bytes.
    pub fn rivals(&self) -> HashSet<MessageId> {
        let mut first: HashMap<&MessageId, &str> = HashMap::new();
        let mut out = HashSet::new();
        for (id, sha) in &self.hashes {
            if *first.entry(id).or_insert(sha) != sha.as_str() {
                out.insert(id.clone());
            }
        }
        out
    }
}

impl Snapshot {
    /// Hands out the next ticket number.
    pub fn next_ticket(&mut self) -> i64 {
        self.ticket_counter += 1;
        self.ticket_counter
    }

    /// A mail of this batch decided on: stored on `ticket`, or only logged (`None`); `content`:
    /// its content fingerprint, if it was computed.
    pub fn record_seen(
        &mut self,
        id: &MessageId,
        ticket: Option<i64>,
        raw_sha256: &str,
        content: Option<String>,
    ) {
        self.seen.insert(
            id.clone(),
            Seen {
                ticket,
                raw_sha256: raw_sha256.to_string(),
                received: ticket.is_some(),
                content,
            },
        );
    }

    pub fn ticket_mut(&mut self, number: i64) -> &mut TicketState {
        self.tickets.entry(number).or_insert_with(|| TicketState {
            status: Status::New,
            priority: Priority::Normal,
            participants: HashSet::new(),
            requester: None,
        })
    }

    /// Adds what was loaded from the store for a new batch, keeping what this snapshot
    /// already knows (a dry run's earlier batches, which the store never saw).
    pub fn absorb(&mut self, stored: Snapshot) {
        for (id, seen) in stored.seen {
            self.seen.entry(id).or_insert(seen);
        }
        self.rivals.extend(stored.rivals);
        for (n, t) in stored.tickets {
            let mine = self.tickets.entry(n).or_insert_with(|| TicketState {
                status: t.status,
                priority: t.priority,
                participants: HashSet::new(),
                requester: None,
            });
            mine.participants.extend(t.participants);
            if mine.requester.is_none() {
                mine.requester = t.requester;
            }
        }
        self.ticket_counter = self.ticket_counter.max(stored.ticket_counter);
        for (a, n) in stored.auto_sent {
            self.auto_sent.entry(a).or_insert(n);
        }
        for (id, sent) in stored.sent {
            self.sent.entry(id).or_insert(sent);
        }
        for (key, ticket) in stored.alert_tickets {
            self.alert_tickets.entry(key).or_insert(ticket);
        }
    }

    /// The ticket of alert `key` that is still new, open or pending, if any.
    pub fn open_alert_ticket(&self, key: &AlertKey) -> Option<i64> {
        let ticket = *self.alert_tickets.get(key)?;
        let status = self.tickets.get(&ticket)?.status;
        matches!(status, Status::New | Status::Open | Status::Pending).then_some(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::mid;

    #[test]
    fn rivals_are_ids_carried_with_different_bytes() {
        let keys = Keys {
            hashes: vec![
                (mid("a@x.test"), "1".into()),
                (mid("b@x.test"), "2".into()),
                (mid("a@x.test"), "1".into()),
                (mid("b@x.test"), "3".into()),
                (mid("c@x.test"), "4".into()),
            ],
            ..Default::default()
        };
        assert_eq!(keys.rivals(), HashSet::from([mid("b@x.test")]));
        assert!(Keys::default().rivals().is_empty());
    }
}
