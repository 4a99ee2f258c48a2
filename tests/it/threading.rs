//! SPEC 2.4 threading, one mail at a time through `mailgate ingest`.

use crate::support::*;

const ALICE_FIRST: &str = "20240304091500.alice.1@acme.test";

/// An app holding SUP-1 from new-ticket.eml (requester alice, bob in Cc).
fn app_with_sup1(app: App) -> App {
    let d = app.ingest_fixture("new-ticket.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    app
}

#[test]
fn new_mail_creates_ticket_one_with_everything_stored() {
    let app = App::new();
    let d = app.ingest_fixture("new-ticket.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    assert_eq!(str_of(&d, "classification"), "plain");
    assert_eq!(message_id_of(&d), ALICE_FIRST);
    assert!(!field(&d, "source").is_null(), "source missing: {d:#}");

    let tickets = app.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let t = &tickets[0];
    assert_eq!(str_of(t, "ref"), "SUP-1");
    assert_eq!(str_of(t, "subject"), "Cannot receive mail since Monday");
    assert_eq!(str_of(t, "status"), "new", "{t:#}");
    assert_eq!(str_of(t, "priority"), "normal", "{t:#}");
    assert!(
        names_address(str_of(t, "requester"), "alice@acme.test"),
        "{t:#}"
    );
    assert_eq!(u64_of(t, "message_count"), 1);
    assert!(!bool_of(t, "escalation"));
    let created = rfc3339(t, "created_at");
    let updated = rfc3339(t, "updated_at");
    assert!(updated >= created, "{t:#}");

    let shown = app.show("SUP-1");
    for key in [
        "subject",
        "status",
        "priority",
        "requester",
        "created_at",
        "updated_at",
    ] {
        assert_eq!(
            field(&shown, key),
            field(t, key),
            "show and list differ on {key}"
        );
    }
    let participants = items(&shown, "participants");
    let role_of = |address: &str| {
        participants
            .iter()
            .find(|p| names_address(str_of(p, "address"), address))
            .map(|p| str_of(p, "role").to_string())
    };
    assert_eq!(
        role_of("alice@acme.test").as_deref(),
        Some("requester"),
        "{participants:#?}"
    );
    assert_eq!(
        role_of("bob@acme.test").as_deref(),
        Some("cc"),
        "{participants:#?}"
    );
    assert_eq!(
        role_of("support@example.test"),
        None,
        "the support address is no participant"
    );

    let messages = items(&shown, "messages");
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(message_id_of(m), ALICE_FIRST);
    assert_eq!(str_of(m, "direction"), "inbound", "{m:#}");
    assert!(names_address(str_of(m, "from"), "alice@acme.test"));
    assert_eq!(str_of(m, "subject"), "Cannot receive mail since Monday");
    assert_eq!(
        rfc3339(m, "date").timestamp(),
        chrono::DateTime::parse_from_rfc3339("2024-03-04T09:15:00Z")
            .unwrap()
            .timestamp()
    );
    assert!(str_of(m, "body_text").contains("nobody at Acme receives external mail"));
    assert!(
        str_of(m, "body_text").contains("Office Manager"),
        "body_text is the whole body"
    );
    let reply = str_of(m, "reply_text");
    assert!(
        reply.contains("nobody at Acme receives external mail"),
        "{m:#}"
    );
    assert!(
        !reply.contains("Office Manager"),
        "signature must be stripped from reply_text: {m:#}"
    );
    assert_eq!(str_of(m, "classification"), "plain");
    assert!(items(m, "attachments").is_empty());

    let decisions = items(&shown, "decisions");
    assert_eq!(decisions.len(), 1, "{decisions:#?}");
    assert_decision(&decisions[0], "created", "new-ticket", Some("SUP-1"));
}

#[test]
fn reply_by_references_threads_even_when_in_reply_to_is_unknown() {
    let app = app_with_sup1(App::new());
    let d = app.ingest_fixture("reply-by-references.eml");
    assert_decision(&d, "threaded", "references", Some("SUP-1"));

    let tickets = app.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(u64_of(&tickets[0], "message_count"), 2);
    let shown = app.show("SUP-1");
    let ids: Vec<String> = items(&shown, "messages")
        .iter()
        .map(message_id_of)
        .collect();
    assert_eq!(
        ids,
        [ALICE_FIRST, "20240304110200.alice.2@acme.test"],
        "arrival order"
    );
    let reply = &items(&shown, "messages")[1];
    assert!(str_of(reply, "reply_text").contains("most of it still bounces"));
    assert!(
        !str_of(reply, "reply_text").contains("We received your request"),
        "quoted history must be stripped: {reply:#}"
    );
    assert_eq!(items(&shown, "decisions").len(), 2);
}

#[test]
fn reply_by_in_reply_to_threads() {
    let app = app_with_sup1(App::new());
    let d = app.ingest_fixture("reply-by-in-reply-to.eml");
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
    let tickets = app.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(u64_of(&tickets[0], "message_count"), 2);
}

#[test]
fn subject_tag_from_the_requester_threads() {
    let app = app_with_sup1(App::new());
    // From "alice@Acme.Test": the domain of an address is case-insensitive.
    let d = app.ingest_fixture("reply-by-tag-from-requester.eml");
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    assert_eq!(app.tickets().len(), 1);
    assert_eq!(u64_of(&app.tickets()[0], "message_count"), 2);
}

#[test]
fn subject_tag_quoted_by_a_stranger_opens_a_new_ticket_and_says_so() {
    let app = app_with_sup1(App::new());
    let d = app.ingest_fixture("tag-quoted-by-stranger.eml");
    assert_decision(&d, "created", "stranger-tag", Some("SUP-2"));
    let reason = str_of(&d, "reason").to_ascii_lowercase();
    assert!(
        reason.contains("sup-1") && (reason.contains("participant") || reason.contains("stranger")),
        "the reason must say the tag SUP-1 came from a non-participant: {d:#}"
    );

    let tickets = app.tickets();
    assert_eq!(tickets.len(), 2);
    assert_eq!(
        u64_of(ticket_in(&tickets, "SUP-1"), "message_count"),
        1,
        "SUP-1 untouched"
    );
    let sup2 = ticket_in(&tickets, "SUP-2");
    assert!(names_address(
        str_of(sup2, "requester"),
        "mallory@elsewhere.test"
    ));
    assert_eq!(u64_of(sup2, "message_count"), 1);
    let participants = items(&app.show("SUP-1"), "participants").clone();
    assert!(
        !participants
            .iter()
            .any(|p| names_address(str_of(p, "address"), "mallory@elsewhere.test")),
        "the stranger must not become a participant of SUP-1: {participants:#?}"
    );
}

#[test]
fn cc_participant_of_the_first_mail_threads_by_tag() {
    let app = app_with_sup1(App::new());
    let d = app.ingest_fixture("cc-reply-by-tag.eml");
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    let shown = app.show("SUP-1");
    assert_eq!(items(&shown, "messages").len(), 2);
    assert!(names_address(
        str_of(&items(&shown, "messages")[1], "from"),
        "bob@acme.test"
    ));
}

const AGENTS_CONFIG: &str = r#"
[notify]
agents = ["*@agents.example.test"]
"#;

#[test]
fn configured_agent_threads_by_tag() {
    let app = app_with_sup1(App::with_config(AGENTS_CONFIG));
    let d = app.ingest_fixture("agent-reply-by-tag.eml");
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    assert_eq!(app.tickets().len(), 1);
    let shown = app.show("SUP-1");
    let from_dana = items(&shown, "messages")
        .iter()
        .find(|m| names_address(str_of(m, "from"), "dana@agents.example.test"))
        .unwrap_or_else(|| panic!("dana's reply not on SUP-1: {shown:#}"));
    assert!(str_of(from_dana, "body_text").contains("drops inbound port 25"));
    if let Some(p) = items(&shown, "participants")
        .iter()
        .find(|p| names_address(str_of(p, "address"), "dana@agents.example.test"))
    {
        assert_eq!(str_of(p, "role"), "agent", "{p:#}");
    }
}

#[test]
fn the_same_agent_mail_without_agents_configured_is_a_stranger() {
    let app = app_with_sup1(App::new());
    let d = app.ingest_fixture("agent-reply-by-tag.eml");
    assert_decision(&d, "created", "stranger-tag", Some("SUP-2"));
}

#[test]
fn duplicate_message_id_stores_nothing() {
    let app = app_with_sup1(App::new());
    let before = app.tickets();

    let again = app.ingest_fixture("new-ticket.eml");
    assert_eq!(str_of(&again, "decision"), "duplicate", "{again:#}");
    assert_eq!(str_of(&again, "rule"), "duplicate", "{again:#}");

    // Same Message-ID and content, other trace headers (re-delivered through a backup MX):
    // the same mail, a duplicate (other content would be kept: see reused_message_id.rs).
    let copy = app.ingest_fixture("duplicate-message-id.eml");
    assert_eq!(str_of(&copy, "decision"), "duplicate", "{copy:#}");
    assert_eq!(str_of(&copy, "rule"), "duplicate", "{copy:#}");
    assert_eq!(message_id_of(&copy), ALICE_FIRST);
    assert_eq!(
        str_of(&copy, "reason"),
        format!(
            "the same mail as <{ALICE_FIRST}> (only its trace headers differ) was already \
             processed (on SUP-1)"
        )
    );
    let replay = app.ingest_fixture("duplicate-message-id.eml");
    assert_eq!(str_of(&replay, "decision"), "duplicate", "{replay:#}");

    assert_eq!(
        app.tickets(),
        before,
        "a duplicate must not change the ticket table"
    );
    let shown = app.show("SUP-1");
    assert_eq!(items(&shown, "messages").len(), 1, "{shown:#}");
    let logged: Vec<String> = app
        .decisions()
        .iter()
        .map(|d| str_of(d, "decision").to_string())
        .collect();
    // The re-delivery with other bytes is logged; whether an exact replay of the same bytes
    // from the same source adds a log row is left open (the binary logs it once).
    assert_eq!(
        logged.first().map(String::as_str),
        Some("duplicate"),
        "newest first: {logged:?}"
    );
    assert_eq!(
        logged.last().map(String::as_str),
        Some("created"),
        "{logged:?}"
    );
    assert!(
        logged.iter().all(|d| d == "duplicate" || d == "created") && logged.len() >= 2,
        "{logged:?}"
    );
}

#[test]
fn custom_prefix_names_and_threads_tickets() {
    let app = App::with_config("[tickets]\nprefix = \"HELP\"\n");
    let d = app.ingest_fixture("new-ticket.eml");
    assert_decision(&d, "created", "new-ticket", Some("HELP-1"));
    let reply = String::from_utf8(fixture("reply-by-tag-from-requester.eml"))
        .unwrap()
        .replace("[SUP-1]", "[HELP-1]");
    let d = app.ingest_bytes("help-tag.eml", reply.as_bytes());
    assert_decision(&d, "threaded", "subject-tag", Some("HELP-1"));
    // The default prefix means nothing to this installation.
    let d = app.ingest_fixture("cc-reply-by-tag.eml");
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");
    assert_eq!(ticket_of(&d).as_deref(), Some("HELP-2"));
    let refs: Vec<String> = app
        .tickets()
        .iter()
        .map(|t| str_of(t, "ref").to_string())
        .collect();
    assert_eq!(refs, ["HELP-1", "HELP-2"]);
}

#[test]
fn ingest_reads_standard_input() {
    let app = App::new();
    let run = app.run_with_stdin(&["ingest", "-", "--json"], &fixture("new-ticket.eml"));
    let d = run.expect_success().json();
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    let run = app.run_with_stdin(&["ingest", "--json"], &fixture("reply-by-in-reply-to.eml"));
    let d = run.expect_success().json();
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
}
