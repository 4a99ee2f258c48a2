//! From a ticket change to outbox rows (pure): who gets which notification, with which
//! subject, Message-ID, In-Reply-To / References, body, and whether the loop guard holds it.
//!
//! One change gives at most a few rows: customer-facing mail and staff mail are separate rows
//! (customers never see agents' addresses), and recipients the loop guard holds go into a
//! separate `held` row whose `last_error` says why, so nothing is silently dropped.
//!
//! The rate cap applies to automatic mail (acknowledgements, status changes, alerts). An
//! agent's reply is written by a person: it is never capped and does not count towards the
//! cap, but like every mail it never goes to one of mailgate's own addresses.

use std::collections::HashMap;

use crate::domain::{
    Classification, EmailAddress, Mailbox, MessageId, Priority, Status, TicketRef,
};

use super::headers::{MAX_REFERENCES, references_for};
use super::loop_guard::{RateCap, Trigger, Verdict, may_send_automatic};
use super::recipients::{Audience, NotificationKind, Participants, recipients};
use super::subject::{SubjectMode, outgoing_subject};
use super::templates::{self, TemplateContext, Templates, TicketContext, kind_name};
use super::{AutoSubmitted, OwnAddresses, OwnMessageIds};

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
        kind_name(self.kind)
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

/// What changed on the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A customer's mail opened the ticket: acknowledgement.
    Created,
    /// An agent answered (CLI, or by mail relayed from the support address).
    AgentReply { body: String },
    /// The status changed (pending, resolved, closed); `note` is the agent's.
    StatusChanged { old: Status, note: Option<String> },
    /// A critical ticket was resolved, with what was verified.
    CriticalResolved { note: String },
    /// The ticket became critical: every technician is alerted.
    CriticalRaised { note: Option<String> },
}

impl Change {
    pub fn kind(&self) -> NotificationKind {
        match self {
            Change::Created => NotificationKind::Acknowledgement,
            Change::AgentReply { .. } => NotificationKind::AgentReply,
            Change::StatusChanged { .. } => NotificationKind::StatusChange,
            Change::CriticalResolved { .. } => NotificationKind::CriticalResolution,
            Change::CriticalRaised { .. } => NotificationKind::CriticalAlert,
        }
    }
}

/// The ticket as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketInfo {
    pub reference: TicketRef,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: String,
}

/// The mail a notification answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answering {
    pub message_id: MessageId,
    pub classification: Classification,
    /// The customer's new text (quotes and signature removed), for the summary.
    pub reply_text: String,
    /// One of our addresses is among its recipients (see `loop_guard::Trigger`).
    pub addressed_to_us: bool,
}

/// One ticket change and what is known around it.
#[derive(Debug, Clone)]
pub struct Notification<'a> {
    pub ticket: TicketInfo,
    pub change: Change,
    pub participants: &'a Participants,
    pub answering: Option<&'a Answering>,
    /// The ticket's Message-IDs, oldest first (received and sent).
    pub thread: &'a [MessageId],
    pub now: i64,
}

/// The installation's settings for outgoing mail.
#[derive(Clone, Copy)]
pub struct EnqueueSettings<'a> {
    pub support: &'a Mailbox,
    pub own_ids: Option<&'a OwnMessageIds>,
    pub audience: Audience<'a>,
    pub cap: RateCap,
    pub templates: &'a Templates,
}

impl EnqueueSettings<'_> {
    pub fn own(&self) -> &OwnAddresses {
        self.audience.own
    }
}

/// Automatic mails each address got in the cap's window (from the outbox, plus what was
/// planned since it was read).
pub type SentCounts = HashMap<EmailAddress, u32>;

/// The rows for one change. `nonce` gives a fresh unique nonce for each Message-ID.
pub fn enqueue(
    n: &Notification<'_>,
    sent: &SentCounts,
    s: &EnqueueSettings<'_>,
    nonce: &mut dyn FnMut() -> String,
) -> Vec<NewOutboxRow> {
    let kind = n.change.kind();
    let who = recipients(kind, n.participants, &s.audience);
    let mode = if n.answering.is_some() {
        SubjectMode::Reply
    } else {
        SubjectMode::Fresh
    };
    let subject = outgoing_subject(&n.ticket.subject, &n.ticket.reference, mode);
    let in_reply_to = n
        .answering
        .map(|a| &a.message_id)
        .filter(|id| !id.is_synthetic())
        .cloned();
    let references = references_for(n.thread, in_reply_to.as_ref(), MAX_REFERENCES)
        .into_iter()
        .filter(|id| !id.is_synthetic())
        .collect::<Vec<_>>();
    let auto_submitted = if in_reply_to.is_some() {
        AutoSubmitted::AutoReplied
    } else {
        AutoSubmitted::AutoGenerated
    };
    let (body_text, body_html, template_error) = match s.templates.render(kind, &context(n, s)) {
        Ok(r) => (r.text, r.html, None),
        Err(e) => (String::new(), None, Some(e.to_string())),
    };
    let trigger = n.answering.map(|a| Trigger {
        classification: &a.classification,
        addressed_to_us: a.addressed_to_us,
    });

    let mut rows = Vec::new();
    for group in [&who.customers, &who.staff] {
        let mut send = Vec::new();
        let mut held: Vec<EmailAddress> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        for rcpt in group {
            let verdict = if kind == NotificationKind::AgentReply {
                // A person's answer: never capped; recipients() already left out own addresses.
                Verdict::Send
            } else {
                let count = sent.get(rcpt).copied().unwrap_or(0);
                may_send_automatic(trigger, rcpt, s.own(), count, s.cap)
            };
            match verdict {
                Verdict::Send => send.push(rcpt.clone()),
                Verdict::Hold { reason } => {
                    held.push(rcpt.clone());
                    let reason = reason.to_string();
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                }
            }
        }
        if let Some(error) = &template_error {
            held.splice(0..0, send.drain(..));
            reasons = vec![format!("the body could not be rendered: {error}")];
        }
        for (list, hold) in [(send, None), (held, Some(reasons.join("; ")))] {
            if list.is_empty() {
                continue;
            }
            rows.push(NewOutboxRow {
                ticket: Some(n.ticket.reference.number()),
                kind,
                recipients: list,
                subject: subject.clone(),
                message_id: message_id(&n.ticket.reference, &nonce(), s),
                in_reply_to: in_reply_to.clone(),
                references: references.clone(),
                auto_submitted,
                body_text: body_text.clone(),
                body_html: body_html.clone(),
                held: hold,
                created_at: n.now,
                reply_to: None,
            });
        }
    }
    rows
}

/// Adds the rows' recipients to the counts, so later changes of the same batch see them.
pub fn count_planned(rows: &[NewOutboxRow], sent: &mut SentCounts) {
    for row in rows.iter().filter(|r| r.counts_towards_cap()) {
        for rcpt in &row.recipients {
            *sent.entry(rcpt.clone()).or_insert(0) += 1;
        }
    }
}

/// A signed Message-ID when a secret is configured, else an unsigned unique one on the support
/// domain (`SUP-3.<nonce>@example.test`).
pub fn message_id(ticket: &TicketRef, nonce: &str, s: &EnqueueSettings<'_>) -> MessageId {
    let domain = s.support.address.domain();
    if let Some(ids) = s.own_ids
        && let Ok(id) = ids.generate(ticket, nonce, domain)
    {
        return id;
    }
    MessageId::parse(&format!("{ticket}.{nonce}@{}", domain.to_ascii_lowercase()))
        .unwrap_or_else(|_| MessageId::synthetic(format!("{ticket}.{nonce}").as_bytes()))
}

pub(super) fn context(n: &Notification<'_>, s: &EnqueueSettings<'_>) -> TemplateContext {
    let tag = n.ticket.reference.tag();
    let (reply_body, note, old_status) = match &n.change {
        Change::Created => (String::new(), String::new(), String::new()),
        Change::AgentReply { body } => (body.clone(), String::new(), String::new()),
        Change::StatusChanged { old, note } => (
            String::new(),
            note.clone().unwrap_or_default(),
            old.as_str().to_string(),
        ),
        Change::CriticalResolved { note } => (String::new(), note.clone(), String::new()),
        Change::CriticalRaised { note } => (
            String::new(),
            note.clone().unwrap_or_default(),
            String::new(),
        ),
    };
    let summary = match (&n.change, n.answering) {
        (Change::Created, Some(a)) => templates::summary(&a.reply_text),
        _ => String::new(),
    };
    TemplateContext {
        ticket: TicketContext {
            reference: n.ticket.reference.to_string(),
            tag: tag.clone(),
            subject: super::subject::sanitise(&n.ticket.subject),
            status: n.ticket.status.as_str().to_string(),
            priority: n.ticket.priority.as_str().to_string(),
            requester: n.ticket.requester.clone(),
        },
        support_address: s.support.address.to_string(),
        support_name: s
            .support
            .name
            .clone()
            .unwrap_or_else(|| s.support.address.to_string()),
        how_to_reply: templates::how_to_reply(&tag),
        summary,
        reply_body,
        note,
        old_status,
        ..TemplateContext::default()
    }
}

#[cfg(test)]
mod tests;
