//! What the store writes: [`Writes`], the rows one batch stores, built in memory (pure) by the
//! pipeline from its decisions, then handed to `store::apply` in one transaction; and
//! [`NewOutboxRow`], one notification to queue, built by `outbox::enqueue`. Several mails on
//! one ticket in a batch fold into one ticket update. Rows carry domain types until the bind.

use std::collections::HashMap;

use crate::domain::{
    Action, AlertKey, AutoSubmitted, Classification, EmailAddress, MessageDirection, MessageFlag,
    MessageId, NotificationKind, ParticipantRole, Priority, Rule, Status,
};

use super::StoredRaw;

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
    pub outbox: Vec<NewOutboxRow>,
    /// Participants a bounce of our mail marks as bouncing: (ticket, address).
    pub bouncing: Vec<(i64, EmailAddress)>,
    /// Tickets an accepted escalation hands to tier 2 (priority, category), applied after
    /// the tickets are written.
    pub escalated: Vec<Escalated>,
    /// Tickets monitoring alerts opened, by their keys (`alert_keys`).
    pub alert_keys: Vec<NewAlertKey>,
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
    pub requester: EmailAddress,
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
    /// A new priority (a monitoring alert's repeat at a higher state).
    pub priority: Option<Priority>,
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

/// A ticket a monitoring alert opened, under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertKey {
    pub key: AlertKey,
    pub ticket: i64,
    /// The `[[alerts]]` entry's name.
    pub source: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewParticipant {
    pub ticket: i64,
    pub address: EmailAddress,
    pub name: Option<String>,
    pub role: ParticipantRole,
}

#[derive(Debug)]
pub struct NewMessage {
    pub ticket: i64,
    /// `Inbound` (received mail) or `Note` (internal: an accepted escalation's evidence, an
    /// unauthenticated agent's mail).
    pub direction: MessageDirection,
    /// Why the message must be looked at before it counts (`decide::Author::flag`).
    pub flag: Option<MessageFlag>,
    pub message_id: String,
    pub classification: Classification,
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
    pub classification: Classification,
    pub decision: Action,
    pub rule: Rule,
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
                    priority: None,
                    updated_at: at,
                    last_customer_at: customer_at,
                });
            }
        }
    }

    /// Sets the priority of a ticket the batch touched (after [`Writes::touch_ticket`]).
    pub fn set_priority(&mut self, number: i64, priority: Priority) {
        if let Some(&i) = self.new_ticket_index.get(&number) {
            self.new_tickets[i].priority = priority;
        } else if let Some(&i) = self.update_index.get(&number) {
            self.ticket_updates[i].priority = Some(priority);
        }
    }

    /// Callers check the snapshot first; the store also ignores an existing participant.
    pub fn add_participant(&mut self, p: NewParticipant) {
        self.participants.push(p);
    }
}

/// One row of the `outbox` table, ready to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxRow {
    /// `None`: about no ticket (a refused escalation).
    pub ticket: Option<i64>,
    pub kind: NotificationKind,
    /// Envelope recipients and the To header.
    pub recipients: Vec<EmailAddress>,
    /// Final: tagged exactly once.
    pub subject: String,
    pub message_id: MessageId,
    pub in_reply_to: Option<MessageId>,
    pub references: Vec<MessageId>,
    pub auto_submitted: AutoSubmitted,
    pub body_text: String,
    pub body_html: Option<String>,
    /// `Some(reason)`: stored as `held` with the reason as `last_error`; never sent.
    pub held: Option<String>,
    pub created_at: i64,
    /// `Some`: Reply-To this address instead of the ticket's plus-address.
    pub reply_to: Option<EmailAddress>,
}

impl NewOutboxRow {
    pub fn kind_name(&self) -> &'static str {
        self.kind.as_str()
    }

    pub fn status(&self) -> &'static str {
        if self.held.is_some() {
            "held"
        } else {
            "pending"
        }
    }

    /// The recipients/JSON column.
    pub fn recipients_json(&self) -> String {
        let list: Vec<&str> = self.recipients.iter().map(EmailAddress::as_str).collect();
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
    }

    /// `references_ids`: space separated, without `<>`.
    pub fn references_text(&self) -> String {
        self.references
            .iter()
            .map(MessageId::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether this row counts towards its recipients' rate cap (pending automatic mail).
    pub fn counts_towards_cap(&self) -> bool {
        self.held.is_none() && self.kind != NotificationKind::AgentReply
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
            requester: crate::domain::test_support::addr("a@b.test"),
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
                priority: None,
                updated_at: 30,
                last_customer_at: Some(30)
            }]
        );
    }
}
