//! `Snapshot`: what a batch needs to know of the store, loaded once per batch and updated in
//! memory as each message of the batch is decided, so a reply later in the same batch threads
//! onto a ticket created earlier in it. It implements the lookups of `decide` and `thread`.

use std::collections::{HashMap, HashSet};

use crate::decide::{DecideLookup, Seen};
use crate::domain::{EmailAddress, InboundEmail, MessageId, Status, TicketRef};
use crate::escalation::rules::TicketLookup;
use crate::reply_token::ReplyTokens;
use crate::thread::ThreadLookup;

#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub seen: HashMap<MessageId, Seen>,
    pub tickets: HashMap<i64, TicketState>,
    /// The last ticket number handed out.
    pub ticket_counter: i64,
    /// Automatic mails each address of the batch got in the rate cap's window, counting
    /// what this batch planned so far.
    pub auto_sent: crate::outbox::enqueue::SentCounts,
    /// Our outgoing mails (outbox rows) that bounces of the batch refer to, by Message-ID.
    pub sent: HashMap<MessageId, SentMail>,
    /// Message-IDs that mails of this batch carry with different bytes ([`Keys::rivals`]): the
    /// content fingerprint of each is recorded with it, so a later one is compared by content.
    pub rivals: HashSet<MessageId>,
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

    /// What the escalation gate of a mail at an escalation mailbox looks up: the ticket its
    /// `Ticket:` field names and the Message-ID of the forwarded original.
    pub fn add_escalation(&mut self, email: &InboundEmail, prefix: &str) {
        for t in crate::escalation::gate::named_tickets(email, prefix) {
            self.tickets.insert(t.number());
        }
        if let Some(id) =
            crate::escalation::forwarded::find_forwarded(email).and_then(|f| f.message_id)
        {
            self.message_ids.insert(id);
        }
    }

    pub fn add(&mut self, email: &InboundEmail, prefix: &str, tokens: Option<&ReplyTokens>) {
        self.message_ids.insert(email.message_id.clone());
        self.message_ids.extend(email.in_reply_to.iter().cloned());
        self.message_ids.extend(email.references.iter().cloned());
        for tag in TicketRef::find_in_subject(&email.subject, prefix) {
            self.tickets.insert(tag.number());
        }
        if let Some(tokens) = tokens {
            for rcpt in email.recipients() {
                let Some((_, token)) = rcpt.plus_token() else {
                    continue;
                };
                if let Some(n) = tokens
                    .verify(token)
                    .or_else(|| tokens.verify_agent(token, &email.from.address))
                {
                    self.tickets.insert(n);
                }
            }
        }
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
    }
}

impl ThreadLookup for Snapshot {
    fn ticket_of_message(&self, id: &MessageId) -> Option<i64> {
        self.seen.get(id).and_then(|s| s.ticket)
    }

    fn ticket_status(&self, number: i64) -> Option<Status> {
        self.tickets.get(&number).map(|t| t.status)
    }

    fn is_participant(&self, number: i64, address: &EmailAddress) -> bool {
        self.tickets
            .get(&number)
            .is_some_and(|t| t.participants.contains(address))
    }
}

impl TicketLookup for Snapshot {
    fn requester(&self, ticket: &TicketRef) -> Option<Option<EmailAddress>> {
        self.tickets
            .get(&ticket.number())
            .map(|t| t.requester.clone())
    }
}

impl DecideLookup for Snapshot {
    fn seen(&self, id: &MessageId) -> Option<Seen> {
        self.seen.get(id).cloned()
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
