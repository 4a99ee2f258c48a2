use std::collections::HashMap;

mod alert;
mod author;

use super::*;
use crate::config::Role;
use crate::domain::test_support::{addr, email, mid};
use crate::domain::{AddressPatterns, EmailAddress};
use crate::store::Seen;
use crate::thread::{ThreadContext, ThreadLookup};

#[derive(Default)]
pub(super) struct Fake {
    seen: HashMap<MessageId, Seen>,
    tickets: HashMap<i64, (Status, Vec<EmailAddress>)>,
    alert_tickets: HashMap<crate::domain::AlertKey, i64>,
    priorities: HashMap<i64, Priority>,
}

impl ThreadLookup for Fake {
    fn ticket_of_message(&self, id: &MessageId) -> Option<i64> {
        self.seen.get(id).and_then(|s| s.ticket)
    }
    fn ticket_status(&self, number: i64) -> Option<Status> {
        self.tickets.get(&number).map(|t| t.0)
    }
    fn is_participant(&self, number: i64, address: &EmailAddress) -> bool {
        self.tickets
            .get(&number)
            .is_some_and(|t| t.1.contains(address))
    }
}

impl crate::escalation::rules::TicketLookup for Fake {
    fn requester(&self, ticket: &TicketRef) -> Option<Option<EmailAddress>> {
        self.tickets
            .get(&ticket.number())
            .map(|t| t.1.first().cloned())
    }
}

impl DecideLookup for Fake {
    fn seen(&self, id: &MessageId) -> Option<Seen> {
        self.seen.get(id).cloned()
    }
    fn open_alert_ticket(&self, key: &crate::domain::AlertKey) -> Option<i64> {
        let t = *self.alert_tickets.get(key)?;
        matches!(
            self.ticket_status(t)?,
            Status::New | Status::Open | Status::Pending
        )
        .then_some(t)
    }
    fn ticket_priority(&self, number: i64) -> Option<Priority> {
        self.priorities.get(&number).copied()
    }
}

pub(super) fn store(status: Status) -> Fake {
    let mut f = Fake::default();
    f.seen.insert(
        mid("first@acme.test"),
        Seen {
            ticket: Some(5),
            raw_sha256: "aaa".into(),
            received: true,
            content: Some("content-a".into()),
        },
    );
    f.tickets.insert(5, (status, vec![addr("jane@acme.test")]));
    f
}

fn eval_with(e: &InboundEmail, sha: &str, role: Role, f: &Fake, archive: bool) -> Evaluation {
    eval_content(e, sha, None, role, f, archive)
}

fn eval_content(
    e: &InboundEmail,
    sha: &str,
    content: Option<&str>,
    role: Role,
    f: &Fake,
    archive: bool,
) -> Evaluation {
    let agents = AddressPatterns::empty();
    let rules = crate::escalation::rules::EscalationRules {
        allowed_senders: AddressPatterns::new(&["*@tier1.example.test"]).unwrap(),
        ..Default::default()
    };
    let ctx = DecideContext {
        thread: ThreadContext {
            prefix: "SUP",
            agents: &agents,
            reply_tokens: None,
        },
        archive,
        escalation: &rules,
        technicians: &[],
        alerts: &crate::alerts::AlertSources::default(),
    };
    let trust = crate::trust::SenderTrust::of(e, &[]);
    let classification = crate::classify::classify(e, role);
    evaluate(e, &trust, sha, content, classification, f, &ctx)
}

fn eval(e: &InboundEmail, status: Status) -> Evaluation {
    eval_with(e, "bbb", Role::Support, &store(status), false)
}

pub(super) fn reply(from: &str) -> InboundEmail {
    let mut e = email(from, "Re: printer");
    e.in_reply_to = vec![mid("first@acme.test")];
    e
}

#[test]
fn new_mail_creates_a_new_ticket() {
    let ev = eval(&email("jane@acme.test", "Printer"), Status::Open);
    assert_eq!(
        ev.decision.action,
        Action::CreateTicket {
            status: Status::New,
            priority: Priority::Normal,
            escalation: false
        }
    );
    assert_eq!(ev.decision.rule, Rule::NewTicket);
    assert!(ev.decision.reason.contains("new ticket"));
}

#[test]
fn duplicate_same_bytes_is_a_silent_redelivery() {
    let mut e = email("jane@acme.test", "Printer");
    e.message_id = mid("first@acme.test");
    let ev = eval_with(&e, "aaa", Role::Support, &store(Status::Open), false);
    assert_eq!(ev.decision.rule, Rule::Duplicate);
    assert_eq!(ev.decision.action.name(), "duplicate");
    assert!(ev.redelivery);
    assert!(
        ev.decision.reason.contains("SUP-5"),
        "{}",
        ev.decision.reason
    );
    let other = eval_with(&e, "different", Role::Support, &store(Status::Open), false);
    assert!(!other.redelivery);
    assert_eq!(
        other.decision.rule,
        Rule::ReusedMessageId,
        "other bytes are kept"
    );
}

/// Other bytes under the Message-ID of a stored mail: kept under the synthetic id of its
/// bytes, on that mail's ticket, whatever the ticket's status; its re-delivery is recognised.
#[test]
fn a_different_mail_reusing_a_stored_message_id_is_kept_on_its_ticket() {
    let sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let synthetic = "0123456789abcdef0123456789abcdef@synthetic.mailgate.invalid";
    let mut copy = email("list@lists.acme.test", "Printer (list copy)");
    copy.message_id = mid("first@acme.test");
    for status in [Status::Open, Status::Resolved, Status::Closed] {
        let ev = eval_with(&copy, sha, Role::Support, &store(status), false);
        assert_eq!(
            ev.decision.action,
            Action::AppendToTicket {
                ticket: TicketRef::new("SUP", 5),
                new_status: None
            },
            "{status:?}: never a new ticket, never a reopening"
        );
        assert_eq!(ev.decision.rule, Rule::ReusedMessageId);
        assert_eq!(ev.decision.rule.as_str(), "reused-message-id");
        assert_eq!(ev.decision.action.name(), "threaded");
        assert_eq!(
            ev.decision.reason,
            format!(
                "Message-ID <first@acme.test> is already used by a different stored message; \
                 kept under the synthetic id <{synthetic}> and stored on SUP-5, the ticket of \
                 that message, without changing its status or notifying anyone; \
                 list@lists.acme.test is not a participant of SUP-5: flagged as from a \
                 non-participant"
            )
        );
        assert_eq!((ev.ticket, ev.redelivery), (Some(5), false));
        assert_eq!(ev.author, Author::NonParticipant);
    }
    // The requester's own copy (another route, another footer) is not flagged.
    let mut own = email("jane@acme.test", "Printer");
    own.message_id = mid("first@acme.test");
    let ev = eval_with(&own, sha, Role::Support, &store(Status::Open), false);
    assert_eq!(ev.decision.rule, Rule::ReusedMessageId);
    assert_eq!(ev.author, Author::Participant);
    assert!(
        !ev.decision.reason.contains("flagged"),
        "{}",
        ev.decision.reason
    );
    assert_eq!(
        MessageId::synthetic_for_sha256(sha).as_str(),
        synthetic,
        "the id the reason names is the one it is stored under"
    );

    // Machine mail too (an auto-reply reusing the id): stored there, status unchanged.
    let mut auto = copy.clone();
    auto.headers.auto_submitted = Some("auto-replied".into());
    let ev = eval_with(&auto, sha, Role::Support, &store(Status::Resolved), false);
    assert_eq!(ev.decision.rule, Rule::ReusedMessageId);
    assert_eq!(ev.decision.classification.as_str(), "automatic");

    // Once kept, the same bytes again are a re-delivery of it: nothing stored.
    let mut kept = store(Status::Open);
    kept.seen.insert(
        mid(synthetic),
        Seen {
            ticket: Some(5),
            raw_sha256: sha.into(),
            received: true,
            content: None,
        },
    );
    let ev = eval_with(&copy, sha, Role::Support, &kept, false);
    assert_eq!(ev.decision.rule, Rule::Duplicate);
    assert!(ev.redelivery);
    assert_eq!(ev.ticket, Some(5));
    assert_eq!(
        ev.decision.reason,
        format!(
            "the same message was already processed (on SUP-5): Message-ID <first@acme.test> \
             is used by a different stored message, so it was kept under the synthetic id \
             <{synthetic}>"
        )
    );
    // The original's bytes are still its exact re-delivery.
    let ev = eval_with(&copy, "aaa", Role::Support, &kept, false);
    assert!(ev.redelivery);
    assert_eq!(
        ev.decision.reason,
        "the same message <first@acme.test> was already processed (on SUP-5)"
    );
}

/// Other bytes, the same content (only trace headers differ): the same mail by another route,
/// a duplicate on the original's ticket, nothing stored; other content is kept.
#[test]
fn other_bytes_with_the_same_content_are_a_duplicate() {
    let mut copy = email("jane@acme.test", "Printer");
    copy.message_id = mid("first@acme.test");
    let f = store(Status::Open);
    let ev = eval_content(&copy, "bbb", Some("content-a"), Role::Support, &f, false);
    assert_eq!(ev.decision.rule, Rule::Duplicate);
    assert_eq!(ev.decision.action.name(), "duplicate");
    assert!(!ev.redelivery, "other bytes: logged");
    assert_eq!(ev.ticket, Some(5));
    assert_eq!(
        ev.decision.reason,
        "the same mail as <first@acme.test> (only its trace headers differ) was already \
         processed (on SUP-5)"
    );
    // Other content, or content not known on either side: kept.
    for content in [Some("content-b"), None] {
        let ev = eval_content(&copy, "bbb", content, Role::Support, &f, false);
        assert_eq!(ev.decision.rule, Rule::ReusedMessageId, "{content:?}");
    }
    let mut unknown = store(Status::Open);
    if let Some(s) = unknown.seen.get_mut(&mid("first@acme.test")) {
        s.content = None;
    }
    let ev = eval_content(
        &copy,
        "bbb",
        Some("content-a"),
        Role::Support,
        &unknown,
        false,
    );
    assert_eq!(ev.decision.rule, Rule::ReusedMessageId);
    // The same bytes stay an exact re-delivery, whatever the content.
    let ev = eval_content(&copy, "aaa", Some("content-a"), Role::Support, &f, false);
    assert!(ev.redelivery);
    // Once logged (seen, not received, under the synthetic id of its bytes), that copy again is
    // a re-delivery of it: nothing logged again.
    let mut logged = store(Status::Open);
    let (id, seen) = crate::store::logged_copy(Some(5), "bbb".into());
    logged.seen.insert(id, seen);
    let ev = eval_content(
        &copy,
        "bbb",
        Some("content-a"),
        Role::Support,
        &logged,
        false,
    );
    assert!(ev.redelivery);
    assert_eq!(ev.decision.rule, Rule::Duplicate);
    assert!(ev.decision.reason.contains("only its trace headers differ"));
}

/// Other bytes under a Message-ID that was only logged, or that mailgate wrote itself (an
/// outbound reply, a note, an outbox row): a duplicate, as before, nothing stored.
#[test]
fn other_bytes_under_an_id_not_received_stay_a_duplicate() {
    let mut e = email("jane@acme.test", "Printer");
    e.message_id = mid("first@acme.test");
    for seen in [
        Seen {
            ticket: Some(5),
            raw_sha256: "aaa".into(),
            received: false,
            content: None,
        },
        Seen {
            ticket: None,
            raw_sha256: "aaa".into(),
            received: false,
            content: None,
        },
        Seen {
            ticket: Some(5),
            raw_sha256: String::new(),
            received: false,
            content: None,
        },
    ] {
        let mut f = store(Status::Open);
        f.seen.insert(mid("first@acme.test"), seen.clone());
        let ev = eval_with(&e, "bbb", Role::Support, &f, false);
        assert_eq!(ev.decision.rule, Rule::Duplicate, "{seen:?}");
        assert_eq!(ev.decision.action.name(), "duplicate");
        assert!(!ev.redelivery);
        assert!(
            ev.decision.reason.starts_with(
                "a message with this Message-ID <first@acme.test> was already processed"
            ),
            "{}",
            ev.decision.reason
        );
    }
}

#[test]
fn reply_appends_and_reopens_finished_tickets() {
    for (status, expect) in [
        (Status::New, None),
        (Status::Open, None),
        (Status::Pending, Some(Status::Open)),
        (Status::Resolved, Some(Status::Open)),
        (Status::Closed, Some(Status::Open)),
    ] {
        let ev = eval(&reply("jane@acme.test"), status);
        assert_eq!(
            ev.decision.action,
            Action::AppendToTicket {
                ticket: TicketRef::new("SUP", 5),
                new_status: expect
            },
            "{status}"
        );
        assert_eq!(ev.ticket, Some(5));
        if expect.is_some() {
            assert!(
                ev.decision.reason.contains("now open"),
                "{}",
                ev.decision.reason
            );
        }
    }
}

#[test]
fn machine_mail_never_reopens_nor_creates() {
    let mut auto = reply("jane@acme.test");
    auto.headers.auto_submitted = Some("auto-replied".into());
    let ev = eval(&auto, Status::Resolved);
    assert_eq!(
        ev.decision.action,
        Action::AppendToTicket {
            ticket: TicketRef::new("SUP", 5),
            new_status: None
        }
    );
    assert!(ev.decision.reason.contains("without changing its status"));

    let mut lone = email("jane@acme.test", "Out of office");
    lone.headers.auto_submitted = Some("auto-replied".into());
    let ev = eval(&lone, Status::Open);
    assert_eq!(
        ev.decision.action,
        Action::Ignore {
            reason: IgnoreReason::MachineUnthreaded
        }
    );
    assert_eq!(ev.decision.rule, Rule::Unthreaded);

    let bounce = email(
        "mailer-daemon@mx.test",
        "Undelivered Mail Returned to Sender",
    );
    let ev = eval(&bounce, Status::Open);
    assert_eq!(ev.decision.classification.as_str(), "bounce");
    assert_eq!(ev.decision.action.name(), "ignored");
}

/// Mail at an escalation mailbox goes through the gate (rules: allowed `*@tier1.example.test`,
/// base require category, error, steps_taken; no categories configured).
#[test]
fn escalation_mailbox_mail_is_judged_by_the_gate() {
    let complete = "Category: email\nError: no mail since Monday\nSteps-Taken: checked MX\n";
    let with_body = |from: &str, body: &str| {
        let mut e = email(from, "Customer has no mail");
        e.body_text = body.to_string();
        e
    };
    let f = store(Status::Resolved);
    let cases: Vec<(&str, InboundEmail, &str, &str, Option<i64>)> = vec![
        (
            "stranger",
            with_body("someone@gmail.example", complete),
            "rejected",
            "escalation-unauthorised",
            None,
        ),
        (
            "no evidence",
            with_body("tom@tier1.example.test", "please help"),
            "rejected",
            "escalation-refused",
            None,
        ),
        (
            "complete, new ticket",
            with_body(
                "tom@tier1.example.test",
                &format!("Customer: jane@acme.test\n{complete}"),
            ),
            "created",
            "escalation-accepted",
            None,
        ),
        (
            "complete, names a ticket",
            with_body(
                "tom@tier1.example.test",
                &format!("Ticket: SUP-5\n{complete}"),
            ),
            "threaded",
            "escalation-accepted",
            Some(5),
        ),
        (
            "complete, forwarded original already a ticket",
            with_body(
                "tom@tier1.example.test",
                &format!(
                    "{complete}\nBegin forwarded message:\n\nFrom: Jane <jane@acme.test>\n\
                     Subject: help\nMessage-Id: <first@acme.test>\n\nNo mail.\n"
                ),
            ),
            "threaded",
            "escalation-accepted",
            Some(5),
        ),
    ];
    for (story, e, decision, rule, ticket) in cases {
        let ev = eval_with(&e, "x", Role::Escalation, &f, false);
        assert_eq!(ev.decision.action.name(), decision, "{story}: {ev:#?}");
        assert_eq!(ev.decision.rule.as_str(), rule, "{story}: {ev:#?}");
        assert_eq!(ev.ticket, ticket, "{story}");
        assert_eq!(ev.decision.classification, Classification::Escalation);
        assert!(ev.escalation.is_some(), "{story}");
    }
    // Escalating a resolved ticket opens it again.
    let e = with_body(
        "tom@tier1.example.test",
        &format!("Ticket: SUP-5\n{complete}"),
    );
    let ev = eval_with(&e, "x", Role::Escalation, &f, false);
    assert!(matches!(
        ev.decision.action,
        Action::AppendToTicket {
            new_status: Some(Status::Open),
            ..
        }
    ));
    assert!(
        ev.decision.reason.contains("was resolved: now open"),
        "{}",
        ev.decision.reason
    );
}

#[test]
fn archive_creates_closed_and_never_reopens() {
    let ev = eval_with(
        &email("jane@acme.test", "Old"),
        "x",
        Role::Support,
        &store(Status::Open),
        true,
    );
    assert!(matches!(
        ev.decision.action,
        Action::CreateTicket {
            status: Status::Closed,
            ..
        }
    ));
    assert!(ev.decision.reason.contains("history"));
    let ev = eval_with(
        &reply("jane@acme.test"),
        "x",
        Role::Support,
        &store(Status::Closed),
        true,
    );
    assert!(matches!(
        ev.decision.action,
        Action::AppendToTicket {
            new_status: None,
            ..
        }
    ));
}

#[test]
fn x_priority_is_at_most_high() {
    let mut e = email("jane@acme.test", "URGENT!!!");
    e.headers.x_priority = Some("1 (Highest)".into());
    let ev = eval(&e, Status::Open);
    assert!(matches!(
        ev.decision.action,
        Action::CreateTicket {
            priority: Priority::High,
            ..
        }
    ));
    e.headers.x_priority = Some("3".into());
    let ev = eval(&e, Status::Open);
    assert!(matches!(
        ev.decision.action,
        Action::CreateTicket {
            priority: Priority::Normal,
            ..
        }
    ));
}
