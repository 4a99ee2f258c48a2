//! Mail to tier 1 about an escalation (SPEC 4, 5), pure: the refusal that lists every missing
//! item with the block to copy, and the confirmation of an accepted escalation. Both answer the
//! tier-1 mail (In-Reply-To it, `Auto-Submitted: auto-replied`), go only to its sender, pass
//! the loop guard like every automatic mail, and ask for replies at the escalation address the
//! mail was sent to.

use crate::domain::{Classification, EmailAddress, InboundEmail, TicketRef};
use crate::escalation::gate::GateReport;
use crate::escalation::refusal;
use crate::escalation::rules::{Accepted, EscalationRules, GateVerdict, Problem};

use super::enqueue::{EnqueueSettings, message_id};
use super::headers::{MAX_REFERENCES, references_for};
use super::loop_guard::{Trigger, Verdict, may_send_automatic};
use super::subject::{bare_subject, sanitise};
use crate::store::{NewOutboxRow, SentCounts};

/// Subject prefixes of our own answers to tier 1, dropped when tier 1 answers one of them.
const OWN_PREFIXES: [&str; 2] = ["escalation refused:", "escalation accepted:"];
use crate::domain::{AutoSubmitted, NotificationKind};
use crate::templates::{TemplateContext, TicketContext};

/// The tier-1 mail being answered.
#[derive(Debug, Clone, Copy)]
pub struct Escalation<'a> {
    pub email: &'a InboundEmail,
    pub now: i64,
    pub prefix: &'a str,
}

impl Escalation<'_> {
    /// The tier-1 subject without reply prefixes, tags or our own `Escalation refused:`.
    fn original_subject(&self) -> String {
        let mut subject = bare_subject(&self.email.subject, self.prefix);
        loop {
            let lower = subject.to_lowercase();
            let Some(p) = OWN_PREFIXES.iter().find(|p| lower.starts_with(**p)) else {
                return subject;
            };
            let rest = subject.get(p.len()..).unwrap_or_default();
            subject = bare_subject(rest, self.prefix);
        }
    }

    /// The escalation address it was sent to (one of ours), for Reply-To.
    fn our_address(&self, s: &EnqueueSettings<'_>) -> Option<EmailAddress> {
        self.email
            .recipients()
            .find(|r| s.own().contains(r) && **r != s.support.address)
            .cloned()
    }
}

/// The refusal of an escalation that lacks evidence: every problem of `report`'s verdict.
pub fn refusal_row(
    e: Escalation<'_>,
    report: &GateReport,
    rules: &EscalationRules,
    sent: &SentCounts,
    s: &EnqueueSettings<'_>,
    nonce: &str,
) -> NewOutboxRow {
    let (problems, category): (&[Problem], Option<&str>) = match &report.verdict {
        GateVerdict::Reject { problems, category } => (problems, category.as_deref()),
        _ => (&[], None),
    };
    let original = e.original_subject();
    let block =
        refusal::prefilled_block(&report.evidence, rules, category, report.forwarded.as_ref());
    let ctx = TemplateContext {
        original_subject: original.clone(),
        problems: refusal::problem_list(problems),
        evidence_block: block,
        ..base_context(s)
    };
    let subject = format!("Escalation refused: {original}");
    // No ticket: the Message-ID names ticket 0 of the prefix (ours by its From all the same).
    let id = message_id(&TicketRef::new(e.prefix, 0), nonce, s);
    row(
        e,
        None,
        NotificationKind::EscalationRefused,
        subject,
        &ctx,
        id,
        sent,
        s,
    )
}

/// The confirmation of an accepted escalation, naming the ticket it went to.
pub fn confirmation_row(
    e: Escalation<'_>,
    ticket: &TicketRef,
    ticket_subject: &str,
    accepted: &Accepted,
    sent: &SentCounts,
    s: &EnqueueSettings<'_>,
    nonce: &str,
) -> NewOutboxRow {
    let original = e.original_subject();
    let ctx = TemplateContext {
        ticket: TicketContext {
            reference: ticket.to_string(),
            tag: ticket.tag(),
            subject: sanitise(ticket_subject),
            status: String::new(),
            priority: accepted.priority.as_str().to_string(),
            requester: accepted
                .customer
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
        },
        original_subject: original.clone(),
        escalation: refusal::acceptance_summary(accepted),
        ..base_context(s)
    };
    let subject = format!("{} Escalation accepted: {original}", ticket.tag());
    let id = message_id(ticket, nonce, s);
    let kind = NotificationKind::EscalationAccepted;
    row(e, Some(ticket.number()), kind, subject, &ctx, id, sent, s)
}

fn base_context(s: &EnqueueSettings<'_>) -> TemplateContext {
    TemplateContext {
        support_address: s.support.address.to_string(),
        support_name: s
            .support
            .name
            .clone()
            .unwrap_or_else(|| s.support.address.to_string()),
        ..TemplateContext::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    e: Escalation<'_>,
    ticket: Option<i64>,
    kind: NotificationKind,
    subject: String,
    ctx: &TemplateContext,
    message_id: crate::domain::MessageId,
    sent: &SentCounts,
    s: &EnqueueSettings<'_>,
) -> NewOutboxRow {
    let sender = e.email.from.address.clone();
    let trigger = Trigger {
        classification: &Classification::Escalation,
        addressed_to_us: e.email.recipients().any(|r| s.own().contains(r)),
    };
    let count = sent.get(&sender).copied().unwrap_or(0);
    let mut held = match may_send_automatic(Some(trigger), &sender, s.own(), count, s.cap) {
        Verdict::Send => None,
        Verdict::Hold { reason } => Some(reason.to_string()),
    };
    let (body_text, body_html) = match s.templates.render(kind.as_str(), ctx) {
        Ok(r) => (r.text, r.html),
        Err(err) => {
            held = Some(format!("the body could not be rendered: {err}"));
            (String::new(), None)
        }
    };
    let answering = Some(&e.email.message_id).filter(|id| !id.is_synthetic());
    let references = references_for(&e.email.references, answering, MAX_REFERENCES)
        .into_iter()
        .filter(|id| !id.is_synthetic())
        .collect();
    NewOutboxRow {
        ticket,
        kind,
        recipients: vec![sender],
        subject,
        message_id,
        in_reply_to: answering.cloned(),
        references,
        auto_submitted: AutoSubmitted::AutoReplied,
        body_text,
        body_html,
        held,
        created_at: e.now,
        reply_to: e.our_address(s),
    }
}
