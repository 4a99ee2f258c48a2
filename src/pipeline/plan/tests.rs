use super::*;
use crate::config::RateCap;
use crate::config::Settings;
use crate::decide::DecideContext;
use crate::domain::Source;
use crate::outbox::enqueue::EnqueueSettings;
use crate::outbox::{Audience, OwnAddresses};
use crate::pipeline::{Prepared, Preparer, RawMessage, Unprepared};
use crate::thread::ThreadContext;
use sha2::Digest;

fn raw(from: &str, subject: &str, id: &str, extra: &str) -> RawMessage {
    RawMessage {
        source: Source::Stdin,
        bytes: format!(
            "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\n\
             Message-ID: <{id}>\r\n{extra}\r\nHello\r\n"
        )
        .into_bytes(),
    }
}

/// `raw` prepared as a mail at a support mailbox, within `limit` bytes.
fn prepare(raw: RawMessage, limit: usize) -> Prepared {
    Preparer::new(Role::Support, limit).prepare(Unprepared::whole(raw))
}

/// Plans `mails` as ONE batch, notifying or not; returns the outbox rows planned.
fn plan_batch(settings: &Settings, mails: Vec<RawMessage>, notify: bool) -> (Vec<Outcome>, Writes) {
    let prepared = mails.into_iter().map(|m| prepare(m, 1 << 20)).collect();
    plan_prepared(settings, prepared, notify)
}

/// [`plan_batch`] of mail already prepared.
fn plan_prepared(
    settings: &Settings,
    mails: Vec<Prepared>,
    notify: bool,
) -> (Vec<Outcome>, Writes) {
    let own = OwnAddresses::new(&settings.tickets.support_address.address, []);
    let cap = RateCap {
        max: 3,
        window_secs: 3600,
    };
    let ctx = PlanContext {
        decide: DecideContext {
            thread: ThreadContext {
                prefix: "SUP",
                agents: &settings.notify.agents,
                reply_tokens: None,
            },
            archive: false,
            escalation: &settings.escalation,
            technicians: &settings.notify.technicians,
            alerts: &settings.alerts,
        },
        mailbox: "support",
        role: Role::Support,
        now: 1_700_000_000,
        agents: &settings.notify.agents,
        trusted_authserv_ids: &settings.security.trusted_authserv_ids,
        max_new_participants: settings.max_new_participants,
        own: &own,
        own_ids: None,
        notify: notify.then(|| EnqueueSettings {
            support: &settings.tickets.support_address,
            own_ids: None,
            audience: Audience {
                primary_contacts: &settings.notify.primary_contacts,
                technicians: &settings.notify.technicians,
                agents: &settings.notify.agents,
                own: &own,
            },
            cap,
            templates: &settings.notify.templates,
            max_automatic_recipients: settings.max_automatic_recipients,
            reply_tokens: None,
        }),
        nonce_seed: 7,
    };
    let mut snapshot = Snapshot::default();
    let mut w = Writes::default();
    let outcomes = mails
        .into_iter()
        .map(|m| plan_message(m, &mut snapshot, &ctx, &mut w, &mut Vec::new()))
        .collect();
    (outcomes, w)
}

fn settings() -> Settings {
    Settings::from_toml(
        "[tickets]\nsupport_address = \"support@example.test\"\n",
        "test",
    )
    .unwrap()
}

#[test]
fn mails_of_one_batch_count_towards_the_cap() {
    let s = settings();
    let mails = (1..=5)
        .map(|i| {
            raw(
                "ooo@x.test",
                &format!("away {i}"),
                &format!("{i}@x.test"),
                "",
            )
        })
        .collect();
    let (outcomes, w) = plan_batch(&s, mails, true);
    assert!(
        outcomes
            .iter()
            .all(|o| o.decision.action.name() == "created")
    );
    let statuses: Vec<&str> = w.outbox.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses,
        ["pending", "pending", "pending", "held", "held"],
        "cap 3 within one batch"
    );
    let ids: std::collections::HashSet<_> = w.outbox.iter().map(|r| &r.message_id).collect();
    assert_eq!(ids.len(), 5, "unique Message-IDs in a batch");
}

#[test]
fn only_plain_new_tickets_are_acknowledged() {
    let s = settings();
    let mails = vec![
        raw("a@x.test", "new", "a1@x.test", ""),
        raw(
            "a@x.test",
            "Re: new",
            "a2@x.test",
            "In-Reply-To: <a1@x.test>\r\n",
        ),
        raw(
            "b@x.test",
            "ooo",
            "b1@x.test",
            "Auto-Submitted: auto-replied\r\n",
        ),
        raw("support@example.test", "[SUP-1] new", "s1@example.test", ""),
    ];
    let (outcomes, w) = plan_batch(&s, mails, true);
    let decided: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|o| (o.decision.action.name(), o.decision.rule.as_str()))
        .collect();
    assert_eq!(
        decided,
        [
            ("created", "new-ticket"),
            ("threaded", "in-reply-to"),
            ("ignored", "unthreaded"),
            ("ignored", "own-mail"),
        ]
    );
    assert_eq!(w.outbox.len(), 1, "{:#?}", w.outbox);
    assert_eq!(w.outbox[0].kind_name(), "acknowledgement");

    let again = vec![raw("a@x.test", "new", "a1@x.test", "")];
    let (_, w) = plan_batch(&s, again, false);
    assert!(
        w.outbox.is_empty(),
        "no notification when the run does not notify"
    );
}

#[test]
fn a_mail_the_parser_panicked_on_is_quarantined_with_that_reason() {
    let settings = settings();
    let bad = raw("jane@acme.test", "boom", "bad@acme.test", "");
    let sha = hex::encode(sha2::Sha256::digest(&bad.bytes));
    let examined =
        crate::pipeline::prepared::panicked(&bad.bytes, "attempt to subtract with overflow");
    let bad = crate::pipeline::prepared::assemble(bad, sha, examined);
    let good = prepare(raw("joe@acme.test", "fine", "good@acme.test", ""), 1 << 20);
    let (outcomes, w) = plan_prepared(&settings, vec![bad, good], false);
    assert_eq!(outcomes[0].decision.action, Action::Quarantine);
    assert_eq!(outcomes[0].message_id, "bad@acme.test");
    assert_eq!(
        w.quarantine[0].reason,
        "unparseable: cannot be used as a mail: the parser panicked: attempt to subtract with overflow"
    );
    assert_eq!(w.quarantine.len(), 1);
    assert!(matches!(
        outcomes[1].decision.action,
        Action::CreateTicket { .. }
    ));
}
