//! The lookups of `decide`, `thread` and `escalation` answered from the batch's
//! [`Snapshot`], and the [`Keys`] a batch's mail asks the store for.

use crate::alerts::{AlertSources, AlertText, Parsed};
use crate::decide::DecideLookup;
use crate::domain::{AlertKey, EmailAddress, InboundEmail, MessageId, Priority, Status, TicketRef};
use crate::escalation::rules::TicketLookup;
use crate::reply_token::ReplyTokens;
use crate::store::{Keys, Seen, Snapshot};
use crate::thread::ThreadLookup;

/// What the escalation gate of a mail at an escalation mailbox looks up: the ticket its
/// `Ticket:` field names and the Message-ID of the forwarded original.
pub fn add_escalation_keys(keys: &mut Keys, email: &InboundEmail, prefix: &str) {
    for t in crate::escalation::gate::named_tickets(email, prefix) {
        keys.tickets.insert(t.number());
    }
    if let Some(id) = crate::escalation::forwarded::find_forwarded(email).and_then(|f| f.message_id)
    {
        keys.message_ids.insert(id);
    }
}

/// The key of a mail that is a configured monitoring system's alert (whatever its sender's
/// authentication: looking a key up costs nothing and decides nothing): its open ticket.
pub fn add_alert_key(keys: &mut Keys, email: &InboundEmail, sources: &AlertSources) {
    let text = AlertText::of(email);
    for source in sources
        .iter()
        .filter(|s| s.senders.matches(&email.from.address))
    {
        if let Parsed::Alert(alert) = source.format.parse(&text) {
            keys.alert_keys.insert(alert.key());
            return;
        }
    }
}

/// What a mail of the batch looks up: its Message-ID and those it replies to, the tickets its
/// subject tags and verified reply tokens name.
pub fn add_mail_keys(
    keys: &mut Keys,
    email: &InboundEmail,
    prefix: &str,
    tokens: Option<&ReplyTokens>,
) {
    keys.message_ids.insert(email.message_id.clone());
    keys.message_ids.extend(email.in_reply_to.iter().cloned());
    keys.message_ids.extend(email.references.iter().cloned());
    for tag in TicketRef::find_in_subject(&email.subject, prefix) {
        keys.tickets.insert(tag.number());
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
                keys.tickets.insert(n);
            }
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

    fn open_alert_ticket(&self, key: &AlertKey) -> Option<i64> {
        Snapshot::open_alert_ticket(self, key)
    }

    fn ticket_priority(&self, number: i64) -> Option<Priority> {
        self.tickets.get(&number).map(|t| t.priority)
    }
}
