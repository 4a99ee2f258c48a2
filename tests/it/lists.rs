//! List and group mail through the real binary (SPEC 2.3): mail through our own group (Google
//! Groups, Mailman 2 and 3, a Microsoft 365 group) opens tickets acknowledged to its From;
//! someone else's list is ignored as `list`, a newsletter as `newsletter`; `[tickets]
//! own_lists` names further groups of our own. The mails are `fixtures/lists/*.eml`.

use std::path::PathBuf;

use crate::support::*;

const CONFIG: &str = r#"
[tickets]
support_address = "Acme Support <support@example.test>"
"#;

fn list_fixture(name: &str) -> PathBuf {
    let path = manifest_dir().join("fixtures/lists").join(name);
    assert!(path.is_file(), "fixture {} is missing", path.display());
    path
}

fn ingest(app: &App, name: &str) -> serde_json::Value {
    let path = list_fixture(name);
    app.ok_json(&["ingest", path.to_str().unwrap(), "--json"])
}

#[test]
fn mail_through_our_own_group_opens_a_ticket_acknowledged_to_its_from() {
    let app = App::with_config(CONFIG);
    for name in [
        "google-groups-own.eml",
        "mailman2-own.eml",
        "mailman3-own.eml",
        "m365-group-own.eml",
    ] {
        let d = ingest(&app, name);
        assert_eq!(str_of(&d, "decision"), "created", "{name}: {d:#}");
        assert_eq!(str_of(&d, "classification"), "plain", "{name}: {d:#}");
        let shown = app.show(&ticket_of(&d).unwrap());
        assert_eq!(str_of(&shown, "requester"), "jane@customer.test", "{name}");
        let notifications = items(&shown, "notifications");
        assert_eq!(notifications.len(), 1, "{name}: {shown:#}");
        let ack = &notifications[0];
        assert_eq!(str_of(ack, "kind"), "acknowledgement", "{name}");
        assert_eq!(
            ack["recipients"],
            serde_json::json!(["jane@customer.test"]),
            "{name}: acknowledged to the From, never to the list"
        );
        assert_ne!(str_of(ack, "status"), "held", "{name}: {ack:#}");
    }
    assert_eq!(app.tickets().len(), 4);
}

#[test]
fn a_mail_our_group_rewrote_for_dmarc_is_the_reply_to_authors_unverified() {
    let app = App::with_config(CONFIG);
    let d = ingest(&app, "google-groups-own-dmarc.eml");
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");
    assert!(
        str_of(&d, "reason").contains("requester jane@customer.test is unverified (Reply-To)"),
        "{d:#}"
    );
    let shown = app.show(&ticket_of(&d).unwrap());
    assert_eq!(str_of(&shown, "requester"), "jane@customer.test");
    let ack = &items(&shown, "notifications")[0];
    assert_eq!(ack["recipients"], serde_json::json!(["jane@customer.test"]));
}

#[test]
fn an_auto_reply_relayed_by_our_group_is_still_automatic() {
    let app = App::with_config(CONFIG);
    let d = ingest(&app, "google-groups-own-auto-reply.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    assert_eq!(str_of(&d, "classification"), "automatic");
    assert!(
        str_of(&d, "reason").contains("Auto-Submitted: auto-replied"),
        "{d:#}"
    );
    assert!(app.tickets().is_empty());
}

#[test]
fn someone_elses_list_is_ignored_as_list_naming_the_list() {
    let app = App::with_config(CONFIG);
    for (name, list) in [
        ("google-groups-other.eml", "<dev-chat.partner.test>"),
        ("mailman2-other.eml", "<users.lists.project.test>"),
        ("mailman3-other.eml", "<devel.lists.project.test>"),
        ("m365-group-other.eml", "engineering@partner.test"),
    ] {
        let d = ingest(&app, name);
        assert_decision(&d, "ignored", "unthreaded", None);
        assert_eq!(str_of(&d, "classification"), "automatic", "{name}");
        let reason = str_of(&d, "reason");
        assert!(
            reason.starts_with(&format!(
                "automatic mail (list: mail of the discussion list {list} ("
            )),
            "{name}: {reason}"
        );
    }
    assert!(app.tickets().is_empty());
    // The decision log says which lists reach support.
    let logged: Vec<String> = app
        .decisions()
        .iter()
        .map(|d| str_of(d, "reason").to_string())
        .collect();
    assert_eq!(logged.len(), 4);
    assert!(logged.iter().all(|r| r.contains("(list: ")), "{logged:#?}");
}

#[test]
fn newsletters_are_ignored_as_newsletter() {
    let app = App::with_config(CONFIG);
    let d = ingest(&app, "newsletter-list-unsubscribe.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    let reason = str_of(&d, "reason");
    assert!(
        reason.starts_with("automatic mail (newsletter: bulk mail from news@vendor.test ("),
        "{reason}"
    );
    let d = app.ingest_fixture("precedence-bulk-newsletter.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    let reason = str_of(&d, "reason");
    assert!(
        reason.contains(
            "(newsletter: bulk mail from <news.vendor.test> (Precedence: bulk, List-Id, \
             List-Unsubscribe))"
        ),
        "{reason}"
    );
}

#[test]
fn list_mail_that_threads_onto_a_ticket_is_stored_on_it() {
    let app = App::with_config(CONFIG);
    let d = app.ingest_fixture("new-ticket.eml");
    let reference = ticket_of(&d).unwrap();
    let answered = str_of(&d, "message_id").to_string();
    let list_mail = std::fs::read_to_string(list_fixture("mailman2-other.eml"))
        .unwrap()
        .replace(
            "Message-ID: <mm2-other-1@silva.test>",
            &format!("Message-ID: <mm2-reply@silva.test>\nIn-Reply-To: <{answered}>"),
        );
    let d = app.ingest_bytes("list-reply.eml", list_mail.as_bytes());
    assert_eq!(str_of(&d, "decision"), "threaded", "{d:#}");
    assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
    assert_eq!(ticket_of(&d).as_deref(), Some(reference.as_str()));
    assert_eq!(items(&app.show(&reference), "messages").len(), 2);
}

#[test]
fn own_lists_names_a_group_whose_id_is_not_one_of_our_addresses() {
    let mail = std::fs::read_to_string(list_fixture("mailman3-own.eml"))
        .unwrap()
        .replace("support.example.test", "desk.lists.example.test")
        .replace("support@example.test", "desk@lists.example.test");
    let app = App::with_config(CONFIG);
    let d = app.ingest_bytes("desk.eml", mail.as_bytes());
    assert_decision(&d, "ignored", "unthreaded", None);
    assert!(
        str_of(&d, "reason")
            .contains("list: mail of the discussion list <desk.lists.example.test>"),
        "{d:#}"
    );

    let app = App::with_config(&format!(
        "{CONFIG}own_lists = [\"Help desk <Desk.Lists.Example.Test>\"]\n"
    ));
    app.run(&["config", "check"]).expect_success();
    let d = app.ingest_bytes("desk.eml", mail.as_bytes());
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");
    assert_eq!(str_of(&d, "classification"), "plain");
}

#[test]
fn config_check_names_the_line_of_a_bad_own_list() {
    let app = App::with_config_unmigrated(&format!(
        "{CONFIG}own_lists = [\n  \"support.example.test\",\n  \"not a list id\",\n]\n"
    ));
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    assert!(
        out.contains(":6: tickets.own_lists: \"not a list id\" is not a list id"),
        "{run}"
    );
}
