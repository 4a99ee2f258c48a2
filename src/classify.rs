//! Classification (SPEC 2.3): bounce, automatic, escalation or plain. Pure.
//!
//! Bounces and automatic mail are recognised first, whatever the mailbox: an out-of-office
//! sent to the escalation mailbox is still an out-of-office. The pipeline first asks
//! [`crate::recognise`], which reads what a mail says (DSN, ARF, SES, vendor prose); the
//! header rules here are what is left, and what `escalations check` uses. Mail through our own
//! group is a person's mail; other list mail is automatic, `list` or `newsletter` (see
//! [`list`]).

mod list;

use crate::config::Role;
use crate::domain::{Classification, InboundEmail};

pub use list::OwnLists;

/// Subjects that mark a bounce when the mail also comes from a mailer address or has a null
/// Return-Path (DSNs from servers that do not use multipart/report).
const BOUNCE_SUBJECTS: &[&str] = &[
    "undelivered mail returned to sender",
    "undeliverable",
    "delivery status notification (failure)",
    "delivery status notification (delay)",
    "mail delivery failed",
    "mail delivery failure",
    "failure notice",
    "returned mail",
    "delivery failure",
    "message not delivered",
    "nondeliverable",
    "unzustellbar",
];

/// Subjects that clients put on automatic replies that lack the standard headers.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply:",
    "auto-reply:",
    "autoreply:",
    "auto reply:",
    "out of office:",
    "out of office reply",
    "out of the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "respuesta automática",
];

/// Phrases of absence notices that can sit anywhere in the subject.
const AWAY_NOTICES: &[&str] = &["is out of the office", "is out of office"];

/// [`classify_with`] for a mailgate that knows no group of its own.
pub fn classify(email: &InboundEmail, role: Role) -> Classification {
    classify_with(email, role, &OwnLists::default())
}

/// What `email`, arrived at a mailbox of `role`, is; `own` tells our own group's mail (a
/// person's) from other list mail (automatic).
pub fn classify_with(email: &InboundEmail, role: Role, own: &OwnLists) -> Classification {
    if let Some(why) = bounce_reason(email) {
        return Classification::Bounce(why);
    }
    if let Some(why) = automatic_reason(email, own) {
        return Classification::Automatic(why);
    }
    match role {
        Role::Escalation => Classification::Escalation,
        Role::Support => Classification::Plain,
    }
}

fn bounce_reason(email: &InboundEmail) -> Option<String> {
    let h = &email.headers;
    if h.content_type == "multipart/report"
        && h.report_type
            .as_deref()
            .is_some_and(|t| t.contains("delivery-status"))
    {
        return Some("multipart/report; report-type=delivery-status".into());
    }
    if h.has_delivery_status {
        return Some("contains a message/delivery-status part".into());
    }
    let local = email.from.address.local_part();
    if local.eq_ignore_ascii_case("mailer-daemon") {
        return Some(format!("sent by {}", email.from.address));
    }
    let subject = email.subject.to_lowercase();
    let bounce_subject = BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s));
    let mailer_sender = local.eq_ignore_ascii_case("postmaster")
        || h.return_path
            .as_deref()
            .is_some_and(|r| r.trim() == "<>" || r.trim().is_empty());
    if bounce_subject && mailer_sender {
        return Some(format!(
            "delivery failure notice from {}",
            email.from.address
        ));
    }
    None
}

fn automatic_reason(email: &InboundEmail, own: &OwnLists) -> Option<String> {
    let h = &email.headers;
    if let Some(v) = &h.auto_submitted
        && !v.trim().to_ascii_lowercase().starts_with("no")
    {
        return Some(format!("Auto-Submitted: {}", v.trim()));
    }
    if let Some(v) = &h.precedence {
        let p = v.trim().to_ascii_lowercase();
        // bulk and list: list mail, below.
        if ["junk", "auto_reply"].contains(&p.as_str()) {
            return Some(format!("Precedence: {}", v.trim()));
        }
    }
    if let Some(v) = &h.x_autoreply {
        return Some(format!("X-Autoreply: {}", v.trim()));
    }
    if let Some(v) = &h.x_autorespond {
        return Some(format!("X-Autorespond: {}", v.trim()));
    }
    let subject = email.subject.trim_start().to_lowercase();
    if let Some(s) = AUTO_REPLY_SUBJECTS.iter().find(|s| subject.starts_with(*s)) {
        return Some(format!("subject starts with {s:?}"));
    }
    // Lotus Notes and others: "AUTO: Jane Smith is out of the office (returning 05/01)".
    if let Some(s) = AWAY_NOTICES.iter().find(|s| subject.contains(*s)) {
        return Some(format!("subject says {s:?}"));
    }
    if own.own_group(h).is_some() {
        // Through our own group: a person's mail, read as if it came straight from From.
        return None;
    }
    list::list_reason(email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::email;

    #[test]
    fn plain_and_escalation_by_role() {
        let e = email("jane@acme.test", "Printer broken");
        assert_eq!(classify(&e, Role::Support), Classification::Plain);
        assert_eq!(classify(&e, Role::Escalation), Classification::Escalation);
    }

    #[test]
    fn dsn_is_a_bounce() {
        let mut e = email("postmaster@mx.acme.test", "Delivery report");
        e.headers.content_type = "multipart/report".into();
        e.headers.report_type = Some("delivery-status".into());
        assert!(matches!(
            classify(&e, Role::Support),
            Classification::Bounce(_)
        ));
        let mut e = email("someone@acme.test", "x");
        e.headers.has_delivery_status = true;
        assert!(matches!(
            classify(&e, Role::Escalation),
            Classification::Bounce(_)
        ));
    }

    #[test]
    fn mailer_daemon_is_a_bounce_postmaster_needs_more() {
        let e = email("MAILER-DAEMON@mx.acme.test", "anything");
        assert!(matches!(
            classify(&e, Role::Support),
            Classification::Bounce(_)
        ));
        let human = email("postmaster@acme.test", "Question about your SPF record");
        assert_eq!(classify(&human, Role::Support), Classification::Plain);
        let dsn = email("postmaster@acme.test", "Undeliverable: your message");
        assert!(matches!(
            classify(&dsn, Role::Support),
            Classification::Bounce(_)
        ));
    }

    #[test]
    fn null_return_path_with_failure_subject() {
        let mut e = email(
            "mail@acme.test",
            "Mail delivery failed: returning message to sender",
        );
        e.headers.return_path = Some("<>".into());
        assert!(matches!(
            classify(&e, Role::Support),
            Classification::Bounce(_)
        ));
    }

    #[test]
    fn automatic_headers() {
        type Case = (fn(&mut InboundEmail), bool);
        let cases: Vec<Case> = vec![
            (
                |e| e.headers.auto_submitted = Some("auto-replied".into()),
                true,
            ),
            (
                |e| e.headers.auto_submitted = Some("auto-generated".into()),
                true,
            ),
            (|e| e.headers.auto_submitted = Some("No".into()), false),
            (|e| e.headers.precedence = Some("bulk".into()), true),
            (|e| e.headers.precedence = Some("junk".into()), true),
            (|e| e.headers.precedence = Some("list".into()), true),
            (|e| e.headers.precedence = Some("first-class".into()), false),
            (|e| e.headers.x_autoreply = Some("yes".into()), true),
            (|e| e.headers.x_autorespond = Some("1".into()), true),
            (
                |e| e.subject = "Automatic reply: Printer broken".into(),
                true,
            ),
            (|e| e.subject = "Out of Office: back Monday".into(), true),
            (|e| e.subject = "Re: out of office printer".into(), false),
            (
                |e| e.subject = "AUTO: Smith, John is out of the office. (returning 05/01)".into(),
                true,
            ),
            (
                |e| e.subject = "Auto: renewal of our contract".into(),
                false,
            ),
            (
                |e| {
                    e.headers.return_path =
                        Some("<bounces-main+jane=acme.test@lists.example>".into())
                },
                true,
            ),
            (
                |e| e.headers.return_path = Some("<users-bounces@lists.example>".into()),
                true,
            ),
            (
                |e| e.headers.return_path = Some("<jane.bounce@acme.test>".into()),
                false,
            ),
        ];
        for (i, (set, automatic)) in cases.into_iter().enumerate() {
            let mut e = email("jane@acme.test", "Printer");
            set(&mut e);
            let c = classify(&e, Role::Support);
            assert_eq!(
                matches!(c, Classification::Automatic(_)),
                automatic,
                "case {i}: {c:?}"
            );
        }
    }

    #[test]
    fn auto_reply_to_escalation_mailbox_stays_automatic() {
        let mut e = email("lead@tier1.test", "Out of Office: away");
        e.headers.auto_submitted = Some("auto-replied".into());
        assert!(matches!(
            classify(&e, Role::Escalation),
            Classification::Automatic(_)
        ));
    }
}
