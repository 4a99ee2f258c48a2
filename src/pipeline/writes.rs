//! `Writes`: the rows one batch stores, built in memory (pure) from the decisions, then handed
//! to `store::apply` in one transaction. Several mails on one ticket in a batch fold into one
//! ticket update.

use std::collections::HashMap;

use crate::domain::{Priority, Status};
use crate::store::StoredRaw;

#[derive(Debug, Default)]
pub struct Writes {
    pub new_tickets: Vec<NewTicket>,
    pub ticket_updates: Vec<TicketUpdate>,
    pub participants: Vec<NewParticipant>,
    pub messages: Vec<NewMessage>,
    pub attachments: Vec<NewAttachment>,
    pub decisions: Vec<NewDecision>,
    pub quarantine: Vec<NewQuarantine>,
    /// Notifications caused by this batch (acknowledgements), stored in its transaction.
    pub outbox: Vec<crate::outbox::enqueue::NewOutboxRow>,
    /// Participants a bounce of our mail marks as bouncing: (ticket, address).
    pub bouncing: Vec<(i64, String)>,
    /// Agents' mail to relay to the ticket's customers (SPEC 6), enqueued in the batch's
    /// transaction once its messages are stored.
    pub agent_relays: Vec<crate::outbox::agent_mail::AgentRelay>,
    /// Tickets an accepted escalation hands to tier 2 (priority, category), applied after
    /// the tickets are written.
    pub escalated: Vec<Escalated>,
    /// The ticket counter after this batch.
    pub ticket_counter: i64,
    new_ticket_index: HashMap<i64, usize>,
    update_index: HashMap<i64, usize>,
}

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: String,
    pub mailbox: String,
    pub escalation: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_customer_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketUpdate {
    pub number: i64,
    pub status: Option<Status>,
    pub updated_at: i64,
    pub last_customer_at: Option<i64>,
}

/// An accepted escalation's mark on its ticket (SPEC 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalated {
    pub ticket: i64,
    pub priority: Priority,
    /// Empty: no category.
    pub category: String,
    pub tier: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewParticipant {
    pub ticket: i64,
    pub address: String,
    pub name: Option<String>,
    pub role: &'static str,
}

#[derive(Debug)]
pub struct NewMessage {
    pub ticket: i64,
    /// `inbound` (received mail) or `note` (internal: an accepted escalation's evidence, an
    /// unauthenticated agent's mail).
    pub direction: &'static str,
    /// `non_participant` / `unverified_agent` (`decide::Author::flag`), else `None`.
    pub flag: Option<&'static str>,
    pub message_id: String,
    pub classification: &'static str,
    pub from_addr: String,
    pub from_name: Option<String>,
    pub to_addrs: String,
    pub cc_addrs: String,
    pub subject: String,
    pub sent_date: Option<i64>,
    pub received_at: i64,
    pub in_reply_to: Option<String>,
    pub references_ids: String,
    pub source: String,
    /// Of the mail as received.
    pub raw_sha256: String,
    /// The mail itself, compressed. Its full text and the new part of a reply are derived
    /// from it when shown (`body_text` and `reply_text` stay NULL), so the database holds
    /// each received mail once.
    pub raw: StoredRaw,
}

#[derive(Debug)]
pub struct NewAttachment {
    pub message_id: String,
    pub position: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct NewDecision {
    pub created_at: i64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub raw_sha256: String,
    pub classification: &'static str,
    pub decision: &'static str,
    pub rule: &'static str,
    pub reason: String,
    pub ticket: Option<i64>,
}

#[derive(Debug)]
pub struct NewQuarantine {
    pub created_at: i64,
    pub source: String,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub reason: String,
    pub raw_sha256: String,
    /// The mail (or only its header), compressed like a message's bytes.
    pub raw: StoredRaw,
    /// The mail's size as received (`None`: only known to be over the limit).
    pub size: Option<u64>,
    /// Only the header was downloaded (over the size limit); cannot be reprocessed.
    pub header_only: bool,
}

impl Writes {
    pub fn add_ticket(&mut self, t: NewTicket) {
        self.new_ticket_index
            .insert(t.number, self.new_tickets.len());
        self.new_tickets.push(t);
    }

    /// Records activity on a ticket: folded into the ticket's row when it is new in this
    /// batch, else into one update per ticket.
    pub fn touch_ticket(&mut self, number: i64, status: Option<Status>, at: i64, customer: bool) {
        let customer_at = customer.then_some(at);
        if let Some(&i) = self.new_ticket_index.get(&number) {
            let t = &mut self.new_tickets[i];
            t.updated_at = t.updated_at.max(at);
            if let Some(s) = status {
                t.status = s;
            }
            if customer_at.is_some() {
                t.last_customer_at = t.last_customer_at.max(customer_at);
            }
            return;
        }
        match self.update_index.get(&number) {
            Some(&i) => {
                let u = &mut self.ticket_updates[i];
                u.updated_at = u.updated_at.max(at);
                if status.is_some() {
                    u.status = status;
                }
                u.last_customer_at = u.last_customer_at.max(customer_at);
            }
            None => {
                self.update_index.insert(number, self.ticket_updates.len());
                self.ticket_updates.push(TicketUpdate {
                    number,
                    status,
                    updated_at: at,
                    last_customer_at: customer_at,
                });
            }
        }
    }

    /// Callers check the snapshot first; the store also ignores an existing participant.
    pub fn add_participant(&mut self, p: NewParticipant) {
        self.participants.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(n: i64) -> NewTicket {
        NewTicket {
            number: n,
            subject: "s".into(),
            status: Status::New,
            priority: Priority::Normal,
            requester: "a@b.test".into(),
            mailbox: "support".into(),
            escalation: false,
            created_at: 10,
            updated_at: 10,
            last_customer_at: Some(10),
        }
    }

    #[test]
    fn activity_on_a_new_ticket_folds_into_its_row() {
        let mut w = Writes::default();
        w.add_ticket(ticket(1));
        w.touch_ticket(1, None, 20, true);
        assert!(w.ticket_updates.is_empty());
        assert_eq!(w.new_tickets[0].updated_at, 20);
        assert_eq!(w.new_tickets[0].last_customer_at, Some(20));
    }

    #[test]
    fn several_mails_on_one_old_ticket_make_one_update() {
        let mut w = Writes::default();
        w.touch_ticket(7, Some(Status::Open), 30, true);
        w.touch_ticket(7, None, 25, false);
        assert_eq!(
            w.ticket_updates,
            vec![TicketUpdate {
                number: 7,
                status: Some(Status::Open),
                updated_at: 30,
                last_customer_at: Some(30)
            }]
        );
    }
}
