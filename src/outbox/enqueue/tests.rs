use std::collections::HashMap;

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
            max_automatic_recipients: 10,
            reply_tokens: None,
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
        assignee: None,
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
    enqueue_all(&n, sent, &f.settings(signed))
}

/// `enqueue` with nonces n1.1, n1.2, ...
fn enqueue_all(
    n: &Notification<'_>,
    sent: &SentCounts,
    settings: &EnqueueSettings<'_>,
) -> Vec<NewOutboxRow> {
    let mut i = 0;
    let mut nonce = || {
        i += 1;
        format!("n1.{i}")
    };
    enqueue(n, sent, settings, &mut nonce)
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
    // The sender's words go back to the sender only; the Cc and the primary contact get
    // the acknowledgement without them (a stranger's text is never mailed to third parties).
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let (r, others) = (&rows[0], &rows[1]);
    assert_eq!(r.kind_name(), "acknowledgement");
    assert_eq!(r.status(), "pending");
    assert_eq!(rcpts(r), ["jane@acme.test"]);
    assert_eq!(rcpts(others), ["bob@acme.test", "boss@acme.test"]);
    assert_eq!(others.status(), "pending");
    assert_ne!(r.message_id, others.message_id);
    for row in &rows {
        assert_eq!(row.subject, "Re: [SUP-7] Printer broken");
        assert_eq!(row.in_reply_to, Some(mid("c1@acme.test")));
        assert_eq!(row.references_text(), "c0@acme.test c1@acme.test");
        assert_eq!(row.auto_submitted, AutoSubmitted::AutoReplied);
        assert_eq!(f.ids.verify(&row.message_id), Some(7));
        assert!(row.message_id.as_str().ends_with("@example.test"));
        assert!(row.body_text.contains("SUP-7"), "{}", row.body_text);
        assert!(row.body_text.contains("Acme Support"));
        assert!(row.counts_towards_cap());
    }
    assert!(r.body_text.contains("> It prints blank pages."));
    assert!(
        !others.body_text.contains("blank pages"),
        "{}",
        others.body_text
    );
    assert!(
        !others.body_text.contains("You wrote"),
        "{}",
        others.body_text
    );
    assert_eq!(r.recipients_json(), r#"["jane@acme.test"]"#);
}

#[test]
fn one_mail_makes_us_write_to_a_few_addresses_only() {
    let f = Fixture::new();
    let a = answering(Classification::Plain);
    let mut p = participants();
    p.cc = (0..30).map(|i| addr(&format!("cc{i}@acme.test"))).collect();
    let n = Notification {
        ticket: ticket(Status::New),
        change: Change::Created,
        participants: &p,
        answering: Some(&a),
        thread: &[],
        now: 1_700_000_000,
    };
    let mut settings = f.settings(true);
    settings.max_automatic_recipients = 5;
    let rows = enqueue_all(&n, &SentCounts::new(), &settings);
    let sent: usize = rows
        .iter()
        .filter(|r| r.held.is_none())
        .map(|r| r.recipients.len())
        .sum();
    assert_eq!(sent, 5, "{rows:#?}");
    assert_eq!(rcpts(&rows[0]), ["jane@acme.test"], "the sender first");
    let held = rows.iter().find(|r| r.held.is_some()).unwrap();
    assert_eq!(
        held.recipients.len(),
        27,
        "30 Cc and the primary contact, less 4"
    );
    assert!(
        held.held
            .as_deref()
            .unwrap()
            .contains("limits.max_automatic_recipients"),
        "{held:?}"
    );
}

#[test]
fn staff_mail_carries_a_reply_address_signed_for_each_agent() {
    let f = Fixture::new();
    let tokens = ReplyTokens::new(Secret::new("k"));
    let mut p = participants();
    p.agents.push(addr("bo@agents.example.test"));
    let n = Notification {
        ticket: ticket(Status::Resolved),
        change: Change::CriticalResolved {
            note: "Restored.".into(),
        },
        participants: &p,
        answering: None,
        thread: &[],
        now: 1_700_000_000,
    };
    let mut settings = f.settings(true);
    settings.reply_tokens = Some(&tokens);
    let rows = enqueue_all(&n, &SentCounts::new(), &settings);
    let staff: Vec<&NewOutboxRow> = rows.iter().filter(|r| r.reply_to.is_some()).collect();
    assert_eq!(staff.len(), 2, "{rows:#?}");
    for row in staff {
        assert_eq!(row.recipients.len(), 1, "one agent per mail");
        let agent = &row.recipients[0];
        let reply_to = row.reply_to.as_ref().unwrap();
        let (_, token) = reply_to.plus_token().unwrap();
        assert_eq!(tokens.verify_agent(token, agent), Some(7), "{reply_to}");
    }
    assert!(
        rows.iter()
            .any(|r| r.reply_to.is_none() && rcpts(r) == ["jane@acme.test", "boss@acme.test"])
    );
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
        pending += rows
            .iter()
            .filter(|r| r.held.is_none() && rcpts(r).contains(&"jane@acme.test"))
            .count();
        count_planned(&rows, &mut sent);
    }
    assert_eq!(pending, 10);
    assert_eq!(sent.get(&addr("jane@acme.test")), Some(&10));
    assert_eq!(sent.get(&addr("bob@acme.test")), Some(&10));
}

#[test]
fn an_assignment_tells_the_assignee_with_the_note() {
    let f = Fixture::new();
    let mut p = participants();
    p.assignee = Some(addr("ann@agents.example.test"));
    let thread = [mid("c0@acme.test")];
    let n = Notification {
        ticket: ticket(Status::Open),
        change: Change::Assigned {
            note: Some("The customer prefers calls before noon.".into()),
        },
        participants: &p,
        answering: None,
        thread: &thread,
        now: 1_700_000_000,
    };
    let rows = enqueue_all(&n, &SentCounts::new(), &f.settings(true));
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let r = &rows[0];
    assert_eq!(r.kind_name(), "assignment");
    assert_eq!(rcpts(r), ["ann@agents.example.test"]);
    assert_eq!(r.held, None);
    assert!(
        r.body_text.starts_with("Assigned to you: SUP-7"),
        "{}",
        r.body_text
    );
    assert!(
        r.body_text
            .contains("The customer prefers calls before noon.")
    );
    // Nobody assigned: nobody told.
    let unassigned = participants();
    let n = Notification {
        participants: &unassigned,
        ..n
    };
    assert!(enqueue_all(&n, &SentCounts::new(), &f.settings(true)).is_empty());
}
