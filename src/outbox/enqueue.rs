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

use crate::domain::{
    Classification, EmailAddress, Mailbox, MessageId, Priority, Status, TicketRef,
};

use super::headers::agent_reply_address;
use super::headers::{MAX_REFERENCES, references_for};
use super::loop_guard::{Trigger, Verdict, may_send_automatic};
use super::recipients::{Audience, Participants, recipients};
use super::subject::{SubjectMode, outgoing_subject};
use super::{OwnAddresses, OwnMessageIds};
use crate::config::RateCap;
use crate::domain::{AutoSubmitted, NotificationKind};
use crate::reply_token::ReplyTokens;
use crate::store::{NewOutboxRow, SentCounts};
use crate::templates::{self, TemplateContext, Templates, TicketContext};

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
    /// The ticket was assigned to `participants.assignee`, who is told; `note` is the agent's.
    Assigned { note: Option<String> },
    /// SLA: an open ticket waited too long for an agent; `note` says how long.
    SlaReminder { note: String },
    /// SLA: the pending ticket waits on the customer; `note` is what they must do.
    PendingPrompt { note: Option<String> },
    /// SLA: the quiet pending ticket was resolved.
    AutoClosed,
}

impl Change {
    pub fn kind(&self) -> NotificationKind {
        match self {
            Change::Created => NotificationKind::Acknowledgement,
            Change::AgentReply { .. } => NotificationKind::AgentReply,
            Change::StatusChanged { .. } => NotificationKind::StatusChange,
            Change::CriticalResolved { .. } => NotificationKind::CriticalResolution,
            Change::CriticalRaised { .. } => NotificationKind::CriticalAlert,
            Change::Assigned { .. } => NotificationKind::Assignment,
            Change::SlaReminder { .. } => NotificationKind::SlaReminder,
            Change::PendingPrompt { .. } => NotificationKind::PendingReminder,
            Change::AutoClosed => NotificationKind::AutoClose,
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
    /// `limits.max_automatic_recipients`: addresses one received mail may make us write to.
    pub max_automatic_recipients: usize,
    /// Signs the agent reply addresses of staff mail (`None`: no secret configured).
    pub reply_tokens: Option<&'a ReplyTokens>,
}

impl EnqueueSettings<'_> {
    pub fn own(&self) -> &OwnAddresses {
        self.audience.own
    }
}

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
    let bodies = Bodies::new(n, s, kind);
    let trigger = n.answering.map(|a| Trigger {
        classification: &a.classification,
        addressed_to_us: a.addressed_to_us,
    });
    // One received mail makes mailgate write to at most this many addresses (SPEC 2, Trust).
    let mut budget = match (n.answering, kind) {
        (Some(_), k) if k != NotificationKind::AgentReply => s.max_automatic_recipients,
        _ => usize::MAX,
    };

    let mut rows = Vec::new();
    for (group, staff) in [(&who.customers, false), (&who.staff, true)] {
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
            let reason = match verdict {
                Verdict::Send if budget > 0 => {
                    budget -= 1;
                    send.push(rcpt.clone());
                    continue;
                }
                Verdict::Send => format!(
                    "over limits.max_automatic_recipients: one received mail makes mailgate \
                     write to at most {} addresses",
                    s.max_automatic_recipients
                ),
                Verdict::Hold { reason } => reason.to_string(),
            };
            held.push(rcpt.clone());
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        let mut mails: Vec<(Part, Option<String>)> = parts(n, s, kind, staff, send)
            .into_iter()
            .map(|part| (part, None))
            .collect();
        if !held.is_empty() {
            // A held row may be retried by hand: it never carries the sender's words to
            // anyone else (see `parts`).
            let held = Part {
                recipients: held,
                body: if kind == NotificationKind::Acknowledgement && !staff {
                    Body::Unquoted
                } else {
                    Body::Full
                },
                reply_to: None,
            };
            mails.push((held, Some(reasons.join("; "))));
        }
        for (part, mut held) in mails {
            let (text, html) = match bodies.get(part.body) {
                Ok(body) => body.clone(),
                Err(error) => {
                    held = Some(format!("the body could not be rendered: {error}"));
                    (String::new(), None)
                }
            };
            rows.push(NewOutboxRow {
                ticket: Some(n.ticket.reference.number()),
                kind,
                recipients: part.recipients,
                subject: subject.clone(),
                message_id: message_id(&n.ticket.reference, &nonce(), s),
                in_reply_to: in_reply_to.clone(),
                references: references.clone(),
                auto_submitted,
                body_text: text,
                body_html: html,
                held,
                created_at: n.now,
                reply_to: part.reply_to,
            });
        }
    }
    rows
}

/// One mail of a group: its recipients, which body, Reply-To.
struct Part {
    recipients: Vec<EmailAddress>,
    body: Body,
    reply_to: Option<EmailAddress>,
}

/// Which rendering of the notification a mail carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// With the quote of the mail it answers (`summary`), when there is one.
    Full,
    /// Without that quote.
    Unquoted,
}

type Rendered = Result<(String, Option<String>), String>;

/// The bodies of one notification, each rendered once and only when a mail carries it (an
/// acknowledgement that is only held never renders the quoted one).
struct Bodies<'n> {
    n: &'n Notification<'n>,
    s: &'n EnqueueSettings<'n>,
    kind: NotificationKind,
    full: std::cell::OnceCell<Rendered>,
    unquoted: std::cell::OnceCell<Rendered>,
}

impl<'n> Bodies<'n> {
    fn new(n: &'n Notification<'n>, s: &'n EnqueueSettings<'n>, kind: NotificationKind) -> Self {
        Self {
            n,
            s,
            kind,
            full: std::cell::OnceCell::new(),
            unquoted: std::cell::OnceCell::new(),
        }
    }

    fn get(&self, body: Body) -> &Rendered {
        let (cell, quote) = match body {
            Body::Full => (&self.full, true),
            Body::Unquoted => (&self.unquoted, false),
        };
        cell.get_or_init(|| {
            let mut context = context(self.n, self.s);
            if !quote {
                context.summary = String::new();
            }
            self.s
                .templates
                .render(self.kind.as_str(), &context)
                .map(|r| (r.text, r.html))
                .map_err(|e| e.to_string())
        })
    }
}

/// How the recipients of a group are split into mails:
/// - an acknowledgement quotes what the customer wrote only to its sender (the requester);
///   the Cc participants and the primary contact get it without the quote (SPEC 2, Trust: a
///   stranger's text is never mailed from the support address to a third party);
/// - staff mail goes to each person alone, with the reply address signed for that agent, so
///   that an answer to it is authenticated as theirs (SPEC 6);
/// - everything else is one mail.
fn parts(
    n: &Notification<'_>,
    s: &EnqueueSettings<'_>,
    kind: NotificationKind,
    staff: bool,
    send: Vec<EmailAddress>,
) -> Vec<Part> {
    if send.is_empty() {
        return Vec::new();
    }
    let whole = |recipients| Part {
        recipients,
        body: Body::Full,
        reply_to: None,
    };
    if kind == NotificationKind::Acknowledgement && !staff {
        let requester = n
            .participants
            .requester
            .as_ref()
            .filter(|r| send.contains(r));
        let (quoted, others): (Vec<_>, Vec<_>) =
            send.into_iter().partition(|a| Some(a) == requester);
        let mut out = Vec::new();
        if !quoted.is_empty() {
            out.push(whole(quoted));
        }
        if !others.is_empty() {
            out.push(Part {
                recipients: others,
                body: Body::Unquoted,
                reply_to: None,
            });
        }
        return out;
    }
    match s.reply_tokens {
        Some(tokens) if staff => send
            .into_iter()
            .map(|a| Part {
                reply_to: s.audience.agents.matches(&a).then(|| {
                    agent_reply_address(&s.support.address, tokens, n.ticket.reference.number(), &a)
                }),
                recipients: vec![a],
                body: Body::Full,
            })
            .collect(),
        _ => vec![whole(send)],
    }
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
        Change::CriticalRaised { note }
        | Change::Assigned { note }
        | Change::PendingPrompt { note } => (
            String::new(),
            note.clone().unwrap_or_default(),
            String::new(),
        ),
        Change::SlaReminder { note } => (String::new(), note.clone(), String::new()),
        Change::AutoClosed => (String::new(), String::new(), String::new()),
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
