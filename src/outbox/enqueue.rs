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
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::AddressPatterns;
    use crate::domain::test_support::{addr, mid};

    struct Fixture {
        support: Mailbox,
        own: OwnAddresses,
        ids: OwnMessageIds,
        contacts: HashMap<String, EmailAddress>,
        technicians: Vec<EmailAddress>,
        agents: AddressPatterns,
        templates: Templates,
    }

    impl Fixture {
        fn new() -> Self {
            let support = Mailbox::parse("Acme Support <support@example.test>").unwrap();
            Self {
                own: OwnAddresses::new(&support.address, []),
                support,
                ids: OwnMessageIds::new(Secret::new("k")),
                contacts: HashMap::from([("acme.test".into(), addr("boss@acme.test"))]),
                technicians: vec![addr("tech@example.test")],
                agents: AddressPatterns::new(&["*@agents.example.test"]).unwrap(),
                templates: Templates::default(),
            }
        }

        fn settings(&self, signed: bool) -> EnqueueSettings<'_> {
            EnqueueSettings {
                support: &self.support,
                own_ids: signed.then_some(&self.ids),
                audience: Audience {
                    primary_contacts: &self.contacts,
                    technicians: &self.technicians,
                    agents: &self.agents,
                    own: &self.own,
                },
                cap: RateCap::default(),
                templates: &self.templates,
            }
        }
    }

    fn participants() -> Participants {
        Participants {
            requester: Some(addr("jane@acme.test")),
            cc: vec![addr("bob@acme.test")],
            agents: vec![addr("ann@agents.example.test")],
            technicians: Vec::new(),
            bouncing: Vec::new(),
        }
    }

    fn ticket(status: Status) -> TicketInfo {
        TicketInfo {
            reference: TicketRef::new("SUP", 7),
            subject: "Re: [SUP-7] Printer broken".into(),
            status,
            priority: Priority::Normal,
            requester: "jane@acme.test".into(),
        }
    }

    fn answering(class: Classification) -> Answering {
        Answering {
            message_id: mid("c1@acme.test"),
            classification: class,
            reply_text: "It prints blank pages.\n\n-- \nJane".into(),
            addressed_to_us: true,
        }
    }

    fn run(
        f: &Fixture,
        change: Change,
        status: Status,
        answering: Option<&Answering>,
        sent: &SentCounts,
        signed: bool,
    ) -> Vec<NewOutboxRow> {
        let p = participants();
        let thread = [mid("c0@acme.test"), mid("c1@acme.test")];
        let n = Notification {
            ticket: ticket(status),
            change,
            participants: &p,
            answering,
            thread: &thread,
            now: 1_700_000_000,
        };
        let mut i = 0;
        let mut nonce = || {
            i += 1;
            format!("n1.{i}")
        };
        enqueue(&n, sent, &f.settings(signed), &mut nonce)
    }

    fn rcpts(row: &NewOutboxRow) -> Vec<&str> {
        row.recipients.iter().map(EmailAddress::as_str).collect()
    }

    #[test]
    fn acknowledgement_of_a_plain_mail() {
        let f = Fixture::new();
        let a = answering(Classification::Plain);
        let rows = run(
            &f,
            Change::Created,
            Status::New,
            Some(&a),
            &SentCounts::new(),
            true,
        );
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let r = &rows[0];
        assert_eq!(r.kind_name(), "acknowledgement");
        assert_eq!(r.status(), "pending");
        assert_eq!(
            rcpts(r),
            ["jane@acme.test", "bob@acme.test", "boss@acme.test"]
        );
        assert_eq!(r.subject, "Re: [SUP-7] Printer broken");
        assert_eq!(r.in_reply_to, Some(mid("c1@acme.test")));
        assert_eq!(r.references_text(), "c0@acme.test c1@acme.test");
        assert_eq!(r.auto_submitted, AutoSubmitted::AutoReplied);
        assert_eq!(f.ids.verify(&r.message_id), Some(7));
        assert!(r.message_id.as_str().ends_with("@example.test"));
        assert!(r.body_text.contains("SUP-7"), "{}", r.body_text);
        assert!(r.body_text.contains("> It prints blank pages."));
        assert!(r.body_text.contains("Acme Support"));
        assert_eq!(
            r.recipients_json(),
            r#"["jane@acme.test","bob@acme.test","boss@acme.test"]"#
        );
        assert!(r.counts_towards_cap());
    }

    #[test]
    fn mail_not_addressed_to_us_is_held_not_answered() {
        // Bcc'd, a list, or a spam run (RFC 3834): the ticket exists, the acknowledgement is
        // held with its reason, nobody is mailed.
        let f = Fixture::new();
        let a = Answering {
            addressed_to_us: false,
            ..answering(Classification::Plain)
        };
        let rows = run(
            &f,
            Change::Created,
            Status::New,
            Some(&a),
            &SentCounts::new(),
            true,
        );
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].status(), "held");
        let reason = rows[0].held.as_deref().unwrap_or_default();
        assert!(reason.contains("RFC 3834"), "{reason}");
        assert!(!rows[0].counts_towards_cap());
    }

    #[test]
    fn machine_mail_is_never_answered_and_the_cap_holds() {
        let f = Fixture::new();
        let bounce = answering(Classification::Bounce("multipart/report".into()));
        let auto = answering(Classification::Automatic("X-Autoreply: yes".into()));
        let plain = answering(Classification::Plain);
        let capped = SentCounts::from([(addr("jane@acme.test"), 10)]);
        // (answering, counts, pending recipients, held recipients, reason)
        type Case<'a> = (
            &'a Answering,
            SentCounts,
            Vec<&'a str>,
            Vec<&'a str>,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (
                &bounce,
                SentCounts::new(),
                vec![],
                vec!["jane@acme.test", "bob@acme.test", "boss@acme.test"],
                "bounce",
            ),
            (
                &auto,
                SentCounts::new(),
                vec![],
                vec!["jane@acme.test", "bob@acme.test", "boss@acme.test"],
                "automatic",
            ),
            (
                &plain,
                capped.clone(),
                vec!["bob@acme.test", "boss@acme.test"],
                vec!["jane@acme.test"],
                "cap 10",
            ),
            (
                &plain,
                SentCounts::from([(addr("jane@acme.test"), 9)]),
                vec!["jane@acme.test", "bob@acme.test", "boss@acme.test"],
                vec![],
                "",
            ),
        ];
        for (a, sent, pending, held, reason) in cases {
            let rows = run(&f, Change::Created, Status::New, Some(a), &sent, false);
            let got_pending: Vec<&str> = rows
                .iter()
                .filter(|r| r.held.is_none())
                .flat_map(rcpts)
                .collect();
            let got_held: Vec<&NewOutboxRow> = rows.iter().filter(|r| r.held.is_some()).collect();
            assert_eq!(got_pending, pending, "{reason}: {rows:#?}");
            let held_rcpts: Vec<&str> = got_held.iter().flat_map(|r| rcpts(r)).collect();
            assert_eq!(held_rcpts, held, "{reason}");
            for r in got_held {
                assert_eq!(r.status(), "held");
                assert!(r.held.as_deref().unwrap_or("").contains(reason), "{r:?}");
                assert!(!r.counts_towards_cap());
            }
            let ids: std::collections::HashSet<_> = rows.iter().map(|r| &r.message_id).collect();
            assert_eq!(ids.len(), rows.len(), "unique Message-IDs");
        }
    }

    #[test]
    fn agent_reply_status_change_and_critical_resolution() {
        let f = Fixture::new();
        let plain = answering(Classification::Plain);
        let capped = SentCounts::from([(addr("jane@acme.test"), 50)]);

        let rows = run(
            &f,
            Change::AgentReply {
                body: "Try turning it off and on.".into(),
            },
            Status::Pending,
            Some(&plain),
            &capped,
            true,
        );
        assert_eq!(rows.len(), 1, "agent replies are not capped: {rows:#?}");
        assert_eq!(rows[0].kind_name(), "agent_reply");
        assert!(rows[0].body_text.starts_with("Try turning it off and on."));
        assert!(!rows[0].body_text.contains("ann@agents"));
        assert!(!rows[0].counts_towards_cap());
        assert_eq!(rows[0].in_reply_to, Some(mid("c1@acme.test")));

        let rows = run(
            &f,
            Change::StatusChanged {
                old: Status::Open,
                note: Some("Waiting for your photo.".into()),
            },
            Status::Pending,
            None,
            &SentCounts::new(),
            false,
        );
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.kind_name(), "status_change");
        assert_eq!(r.subject, "[SUP-7] Printer broken");
        assert_eq!(r.in_reply_to, None);
        assert_eq!(r.auto_submitted, AutoSubmitted::AutoGenerated);
        assert_eq!(r.references_text(), "c0@acme.test c1@acme.test");
        assert!(
            r.body_text.contains("is now: pending (was: open)"),
            "{}",
            r.body_text
        );
        assert!(r.body_text.contains("Waiting for your photo."));
        assert!(r.message_id.as_str().starts_with("SUP-7.n1.1@example.test"));

        let rows = run(
            &f,
            Change::CriticalResolved {
                note: "Service restored, tested.".into(),
            },
            Status::Resolved,
            None,
            &SentCounts::new(),
            true,
        );
        assert_eq!(rows.len(), 2, "{rows:#?}");
        assert_eq!(rcpts(&rows[0]), ["jane@acme.test", "boss@acme.test"]);
        assert_eq!(rcpts(&rows[1]), ["ann@agents.example.test"]);
        assert!(rows.iter().all(|r| r.kind_name() == "critical_resolution"));
        assert!(rows[0].body_text.contains("Service restored, tested."));
        assert_ne!(rows[0].message_id, rows[1].message_id);
    }

    #[test]
    fn counting_planned_rows() {
        let f = Fixture::new();
        let plain = answering(Classification::Plain);
        let mut sent = SentCounts::new();
        let mut pending = 0;
        for _ in 0..12 {
            let rows = run(&f, Change::Created, Status::New, Some(&plain), &sent, false);
            pending += rows.iter().filter(|r| r.held.is_none()).count();
            count_planned(&rows, &mut sent);
        }
        assert_eq!(pending, 10);
        assert_eq!(sent.get(&addr("jane@acme.test")), Some(&10));
    }
}
