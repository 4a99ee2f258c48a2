//! Who wrote a threaded mail (`Author`): non-participants, agents with and without proof.

use super::*;
use crate::reply_token::ReplyTokens;
use crate::trust::SenderTrust;

const TRUSTED: &str = "mx.example.test";

fn eval_agents(e: &InboundEmail, status: Status, tokens: Option<&ReplyTokens>) -> Evaluation {
    let agents = AddressPatterns::new(&["*@agents.example.test"]).unwrap();
    let technicians = [addr("oncall@example.test")];
    let rules = crate::escalation::rules::EscalationRules::default();
    let ctx = DecideContext {
        thread: ThreadContext {
            prefix: "SUP",
            agents: &agents,
            reply_tokens: tokens,
        },
        archive: false,
        escalation: &rules,
        technicians: &technicians,
        alerts: &crate::alerts::AlertSources::default(),
    };
    let trust = SenderTrust::of(e, &[TRUSTED.to_string()]);
    let classification = crate::classify::classify(e, Role::Support);
    evaluate(e, &trust, "bbb", None, classification, &store(status), &ctx)
}

fn new_status(ev: &Evaluation) -> Option<Status> {
    match &ev.decision.action {
        Action::AppendToTicket { new_status, .. } => *new_status,
        other => panic!("not an append: {other:?}"),
    }
}

#[test]
fn a_participants_reply_reopens() {
    let ev = eval_agents(&reply("jane@acme.test"), Status::Resolved, None);
    assert_eq!(ev.author, Author::Participant);
    assert_eq!(new_status(&ev), Some(Status::Open));
    assert_eq!(ev.author.flag(), None);
}

#[test]
fn a_stranger_with_a_message_id_is_flagged_and_reopens_nothing() {
    for status in [Status::Resolved, Status::Closed, Status::Pending] {
        let ev = eval_agents(&reply("mallory@evil.test"), status, None);
        assert_eq!(ev.author, Author::NonParticipant, "{status}");
        assert_eq!(new_status(&ev), None, "{status}");
        assert_eq!(
            ev.author.flag().map(|f| f.as_str()),
            Some("non_participant")
        );
        assert!(
            ev.decision
                .reason
                .contains("flagged as from a non-participant"),
            "{}",
            ev.decision.reason
        );
    }
}

#[test]
fn a_forged_from_of_the_requester_is_a_non_participant() {
    let mut e = reply("jane@acme.test");
    e.headers.authentication_results =
        vec!["mx.example.test; dmarc=fail header.from=acme.test".into()];
    let ev = eval_agents(&e, Status::Resolved, None);
    assert_eq!(ev.author, Author::NonParticipant);
    assert_eq!(new_status(&ev), None);
    assert!(
        ev.decision.reason.contains("forged"),
        "{}",
        ev.decision.reason
    );
}

#[test]
fn an_agents_address_without_proof_is_an_unverified_note() {
    let ev = eval_agents(&reply("ann@agents.example.test"), Status::Resolved, None);
    assert_eq!(ev.author, Author::UnverifiedAgent);
    assert_eq!(
        ev.author.flag().map(|f| f.as_str()),
        Some("unverified_agent")
    );
    assert_eq!(new_status(&ev), None, "no status change either");
    let reason = &ev.decision.reason;
    assert!(
        reason.contains("not authenticated") && reason.contains("never relayed"),
        "{reason}"
    );
}

#[test]
fn an_agent_proven_by_our_server_or_our_signature_is_an_agent() {
    let mut e = reply("ann@agents.example.test");
    e.headers.authentication_results =
        vec!["mx.example.test; dkim=pass header.d=agents.example.test".into()];
    let ev = eval_agents(&e, Status::Open, None);
    assert_eq!(ev.author, Author::Agent);
    assert!(
        ev.decision.reason.contains("dkim=pass"),
        "{}",
        ev.decision.reason
    );

    // Another authserv-id proves nothing.
    e.headers.authentication_results =
        vec!["evil.test; dkim=pass header.d=agents.example.test".into()];
    assert_eq!(
        eval_agents(&e, Status::Open, None).author,
        Author::UnverifiedAgent
    );

    // The reply address signed for ann and ticket 5.
    let tokens = ReplyTokens::new(crate::config::Secret::new("k"));
    let mut signed = email("ann@agents.example.test", "Re: your alert");
    let token = tokens.agent_token_for(5, &addr("ann@agents.example.test"));
    signed.to[0].address = addr(&format!("support+{token}@example.test"));
    let ev = eval_agents(&signed, Status::Open, Some(&tokens));
    assert_eq!(ev.decision.rule, Rule::PlusAddress);
    assert_eq!(ev.author, Author::Agent);
}

#[test]
fn a_fallback_requester_is_named_unverified() {
    let mut e = email("jane@acme.test", "Printer");
    e.sender_origin = crate::domain::SenderOrigin::ReturnPath;
    let ev = eval_agents(&e, Status::Open, None);
    assert!(matches!(ev.decision.action, Action::CreateTicket { .. }));
    assert!(
        ev.decision
            .reason
            .contains("requester jane@acme.test is unverified (Return-Path)"),
        "{}",
        ev.decision.reason
    );
}

#[test]
fn an_authenticated_technician_is_involved_without_changing_the_status() {
    let mut e = reply("oncall@example.test");
    e.headers.authentication_results =
        vec!["mx.example.test; dmarc=pass header.from=example.test".into()];
    let ev = eval_agents(&e, Status::Resolved, None);
    assert_eq!(ev.author, Author::Technician);
    assert_eq!(ev.author.flag(), None);
    assert_eq!(new_status(&ev), None, "staff mail reopens nothing");
    assert!(
        ev.decision
            .reason
            .contains("technician oncall@example.test authenticated")
            && ev.decision.reason.contains("now involved in SUP-"),
        "{}",
        ev.decision.reason
    );

    // Without proof the technician's address is a claim like any other.
    let ev = eval_agents(&reply("oncall@example.test"), Status::Resolved, None);
    assert_eq!(ev.author, Author::NonParticipant);
    // A participant stays a participant, whatever the lists say.
    let mut e = reply("jane@acme.test");
    e.headers.authentication_results =
        vec!["mx.example.test; dmarc=pass header.from=acme.test".into()];
    assert_eq!(
        eval_agents(&e, Status::Open, None).author,
        Author::Participant
    );
}
