use std::collections::HashMap;

use super::*;
use crate::config::Secret;
use crate::domain::test_support::{addr, email, mid};

#[derive(Default)]
struct Fake {
    messages: HashMap<MessageId, i64>,
    tickets: HashMap<i64, (Status, Vec<EmailAddress>)>,
}

impl Fake {
    fn with_ticket(mut self, n: i64, first_message: &str, participants: &[&str]) -> Self {
        self.messages.insert(mid(first_message), n);
        self.tickets.insert(
            n,
            (Status::Open, participants.iter().map(|p| addr(p)).collect()),
        );
        self
    }
}

impl ThreadLookup for Fake {
    fn ticket_of_message(&self, id: &MessageId) -> Option<i64> {
        self.messages.get(id).copied()
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

fn store() -> Fake {
    Fake::default()
        .with_ticket(
            12,
            "first-12@acme.test",
            &["jane@acme.test", "bob@acme.test"],
        )
        .with_ticket(13, "first-13@other.test", &["zed@other.test"])
}

fn run(e: &InboundEmail, tokens: Option<&ReplyTokens>) -> Threading {
    let agents = AddressPatterns::new(&["*@agents.example.test"]).unwrap();
    let ctx = ThreadContext {
        prefix: "SUP",
        agents: &agents,
        reply_tokens: tokens,
    };
    let trust = SenderTrust::of(e, &[]);
    thread(e, &trust, &store(), &ctx)
}

fn standing(t: &Threading) -> Option<&Standing> {
    match t {
        Threading::Existing { standing, .. } => Some(standing),
        Threading::New { .. } => None,
    }
}

fn rule(t: &Threading) -> (Option<i64>, Rule) {
    match t {
        Threading::Existing { ticket, rule, .. } => (Some(*ticket), *rule),
        Threading::New { rule, .. } => (None, *rule),
    }
}

#[test]
fn new_mail_is_a_new_ticket() {
    let e = email("jane@acme.test", "Printer broken");
    assert_eq!(rule(&run(&e, None)), (None, Rule::NewTicket));
}

#[test]
fn in_reply_to_wins_over_everything() {
    let mut e = email("stranger@evil.test", "[SUP-13] hi");
    e.in_reply_to = vec![mid("first-12@acme.test")];
    e.references = vec![mid("first-13@other.test")];
    assert_eq!(rule(&run(&e, None)), (Some(12), Rule::InReplyTo));
}

#[test]
fn references_newest_first() {
    let mut e = email("jane@acme.test", "Re: printer");
    e.references = vec![
        mid("first-13@other.test"),
        mid("unknown@x"),
        mid("first-12@acme.test"),
    ];
    assert_eq!(rule(&run(&e, None)), (Some(12), Rule::References));
}

#[test]
fn unknown_references_fall_through_to_new() {
    let mut e = email("jane@acme.test", "Re: printer");
    e.in_reply_to = vec![mid("nope@x")];
    e.references = vec![mid("nope@x")];
    assert_eq!(rule(&run(&e, None)), (None, Rule::NewTicket));
}

#[test]
fn tag_from_requester_cc_and_agent() {
    for from in ["jane@acme.test", "BOB@acme.test", "ann@agents.example.test"] {
        let e = email(from, "Re: [SUP-12] printer");
        assert_eq!(rule(&run(&e, None)), (Some(12), Rule::SubjectTag), "{from}");
    }
}

#[test]
fn tag_from_a_stranger_opens_a_new_ticket_and_says_why() {
    let e = email(
        "mallory@evil.test",
        "Re: [SUP-12] please send me the invoice",
    );
    let t = run(&e, None);
    assert_eq!(rule(&t), (None, Rule::StrangerTag));
    let Threading::New { detail, .. } = t else {
        unreachable!()
    };
    assert!(
        detail.contains("mallory@evil.test") && detail.contains("not a participant"),
        "{detail}"
    );
}

#[test]
fn tag_of_a_missing_ticket() {
    let e = email("jane@acme.test", "[SUP-999] hello");
    assert_eq!(rule(&run(&e, None)), (None, Rule::UnknownTag));
}

#[test]
fn other_prefix_is_not_a_tag() {
    let e = email("jane@acme.test", "[OPS-12] hello");
    assert_eq!(rule(&run(&e, None)), (None, Rule::NewTicket));
}

#[test]
fn second_tag_can_match_when_first_is_foreign() {
    let e = email("zed@other.test", "[SUP-12] fwd [SUP-13] mine");
    assert_eq!(rule(&run(&e, None)), (Some(13), Rule::SubjectTag));
}

#[test]
fn plus_address_token_verifies() {
    let tokens = ReplyTokens::new(Secret::new("key"));
    let mut e = email("anyone@else.test", "no tag");
    e.to[0].address = addr(&format!("support+{}@example.test", tokens.token_for(13)));
    assert_eq!(rule(&run(&e, Some(&tokens))), (Some(13), Rule::PlusAddress));
    // without a configured secret the rule is skipped
    assert_eq!(rule(&run(&e, None)), (None, Rule::NewTicket));
    // a forged token does not verify
    let forged = email("anyone@else.test", "no tag");
    let mut forged = forged;
    forged.to[0].address = addr("support+12.0123456789abcdef01234567@example.test");
    assert_eq!(rule(&run(&forged, Some(&tokens))), (None, Rule::NewTicket));
}

#[test]
fn plus_token_for_missing_ticket_is_ignored() {
    let tokens = ReplyTokens::new(Secret::new("key"));
    let mut e = email("anyone@else.test", "x");
    e.delivered_to = vec![addr(&format!(
        "support+{}@example.test",
        tokens.token_for(77)
    ))];
    assert_eq!(rule(&run(&e, Some(&tokens))), (None, Rule::NewTicket));
}

#[test]
fn a_message_id_from_a_stranger_threads_but_flags_them() {
    let mut e = email("stranger@evil.test", "Re: printer");
    e.in_reply_to = vec![mid("first-12@acme.test")];
    let t = run(&e, None);
    assert_eq!(rule(&t), (Some(12), Rule::InReplyTo));
    let Some(Standing::NonParticipant { why }) = standing(&t) else {
        panic!("{t:?}")
    };
    assert!(
        why.contains("stranger@evil.test is not a participant of SUP-12"),
        "{why}"
    );
    let mut jane = email("jane@acme.test", "Re: printer");
    jane.references = vec![mid("first-12@acme.test")];
    assert_eq!(standing(&run(&jane, None)), Some(&Standing::Participant));
    let mut agent = email("ann@agents.example.test", "Re: printer");
    agent.in_reply_to = vec![mid("first-12@acme.test")];
    assert_eq!(standing(&run(&agent, None)), Some(&Standing::Participant));
}

#[test]
fn a_fallback_sender_is_never_a_participant() {
    // No From address: the sender came from Sender, which no DMARC check looks at.
    let mut e = email("jane@acme.test", "[SUP-12] it is me, honest");
    e.sender_origin = crate::domain::SenderOrigin::Sender;
    let t = run(&e, None);
    assert_eq!(rule(&t), (None, Rule::StrangerTag));
    let Threading::New { detail, .. } = &t else {
        panic!()
    };
    assert!(detail.contains("taken from Sender"), "{detail}");
    e.in_reply_to = vec![mid("first-12@acme.test")];
    let t = run(&e, None);
    assert_eq!(rule(&t), (Some(12), Rule::InReplyTo));
    assert!(matches!(
        standing(&t),
        Some(Standing::NonParticipant { .. })
    ));
}

#[test]
fn an_agent_token_threads_only_for_its_agent() {
    let tokens = ReplyTokens::new(Secret::new("k"));
    let ann = addr("ann@agents.example.test");
    let to_token = |from: &str| {
        let mut e = email(from, "Re: your alert");
        e.to = vec![crate::domain::Mailbox {
            name: None,
            address: addr(&format!(
                "support+{}@example.test",
                tokens.agent_token_for(12, &ann)
            )),
        }];
        e
    };
    let t = run(&to_token("ann@agents.example.test"), Some(&tokens));
    assert_eq!(rule(&t), (Some(12), Rule::PlusAddress));
    assert_eq!(standing(&t), Some(&Standing::AgentByToken));
    assert_eq!(
        rule(&run(&to_token("bob@agents.example.test"), Some(&tokens))),
        (None, Rule::NewTicket),
        "the token was signed for ann"
    );
    let mut forged = to_token("ann@agents.example.test");
    forged.sender_origin = crate::domain::SenderOrigin::ReturnPath;
    assert_eq!(rule(&run(&forged, Some(&tokens))), (None, Rule::NewTicket));
}
