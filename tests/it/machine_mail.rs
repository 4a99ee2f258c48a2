//! Automatic mail, bounces, reopening and the escalation mailbox (SPEC 2.3, 2.5, 3).

use crate::support::*;

fn app_with_sup1() -> App {
    let app = App::new();
    let d = app.ingest_fixture("new-ticket.eml");
    assert_decision(&d, "created", "new-ticket", Some("SUP-1"));
    app
}

fn status_of(app: &App, reference: &str) -> String {
    str_of(&app.show(reference), "status").to_string()
}

#[test]
fn auto_reply_that_threads_is_stored_without_changing_the_ticket() {
    let app = app_with_sup1();
    let before = status_of(&app, "SUP-1");
    let d = app.ingest_fixture("auto-reply-threaded.eml");
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");

    let shown = app.show("SUP-1");
    assert_eq!(
        str_of(&shown, "status"),
        before,
        "an auto-reply must not change the status"
    );
    let messages = items(&shown, "messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(str_of(&messages[1], "classification"), "automatic");
    assert_eq!(app.tickets().len(), 1);
}

#[test]
fn auto_reply_that_threads_nowhere_is_ignored() {
    let app = App::new();
    let d = app.ingest_fixture("auto-reply-unthreaded.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
    assert!(
        app.tickets().is_empty(),
        "automatic mail never creates a ticket"
    );
    let logged = app.decisions();
    assert_eq!(
        logged.len(),
        1,
        "the ignored mail is still in the decision log"
    );
    assert_decision(&logged[0], "ignored", "unthreaded", None);
}

#[test]
fn precedence_bulk_is_automatic_and_ignored() {
    let app = App::new();
    let d = app.ingest_fixture("precedence-bulk-newsletter.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    assert_eq!(str_of(&d, "classification"), "automatic", "{d:#}");
    assert!(app.tickets().is_empty());
}

#[test]
fn bounce_quoting_a_tag_creates_nothing() {
    let app = app_with_sup1();
    let before = app.tickets();
    // multipart/report from MAILER-DAEMON whose subject carries [SUP-1].
    let d = app.ingest_fixture("bounce-dsn.eml");
    assert_decision(&d, "ignored", "unthreaded", None);
    assert_eq!(str_of(&d, "classification"), "bounce", "{d:#}");
    assert_eq!(
        app.tickets(),
        before,
        "a bounce never creates or changes a ticket here"
    );
}

#[test]
fn bounce_that_threads_is_stored_without_reopening() {
    let app = app_with_sup1();
    let before = status_of(&app, "SUP-1");
    let d = app.ingest_fixture("bounce-threaded.eml");
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
    assert_eq!(str_of(&d, "classification"), "bounce", "{d:#}");
    let shown = app.show("SUP-1");
    assert_eq!(str_of(&shown, "status"), before);
    assert_eq!(items(&shown, "messages").len(), 2);
    assert_eq!(
        str_of(&items(&shown, "messages")[1], "classification"),
        "bounce"
    );
}

/// There is no `tickets set-status` yet, so a closed ticket comes from `import --archive`.
#[test]
fn customer_reply_reopens_a_closed_ticket_but_auto_reply_does_not() {
    let app = App::new();
    let folder = app.dir().join("history");
    write_eml_dir(&folder, &[fixture("new-ticket.eml")]);
    let report = app.import(&folder, &["--format", "eml", "--archive"]);
    assert_eq!(u64_of(&report, "created"), 1, "{report:#}");
    assert_eq!(status_of(&app, "SUP-1"), "closed");

    let d = app.ingest_fixture("auto-reply-threaded.eml");
    assert_decision(&d, "threaded", "subject-tag", Some("SUP-1"));
    assert_eq!(
        status_of(&app, "SUP-1"),
        "closed",
        "automatic mail never reopens"
    );

    let d = app.ingest_fixture("bounce-threaded.eml");
    assert_eq!(ticket_of(&d).as_deref(), Some("SUP-1"), "{d:#}");
    assert_eq!(status_of(&app, "SUP-1"), "closed", "a bounce never reopens");

    let d = app.ingest_fixture("reply-by-in-reply-to.eml");
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
    assert_eq!(status_of(&app, "SUP-1"), "open", "a customer reply reopens");
    assert_eq!(app.tickets_with_status("open").len(), 1);
    assert!(app.tickets_with_status("closed").is_empty());
}

#[test]
fn escalation_mailbox_marks_the_ticket() {
    let app = App::with_config(ESCALATION_CONFIG);
    let d = app.ingest_fixture_at("escalation-with-evidence.eml", "escalations");
    assert_eq!(str_of(&d, "classification"), "escalation", "{d:#}");
    assert_eq!(str_of(&d, "decision"), "created", "{d:#}");
    assert_eq!(str_of(&d, "rule"), "escalation-accepted", "{d:#}");
    let tickets = app.tickets();
    assert_eq!(tickets.len(), 1);
    assert!(bool_of(&tickets[0], "escalation"), "{tickets:#?}");
    assert_eq!(str_of(&tickets[0], "requester"), "alice@acme.test");
    assert_eq!(str_of(&tickets[0], "priority"), "high");
    let show = app.show("SUP-1");
    assert!(bool_of(&show, "escalation"));
    let message = &items(&show, "messages")[0];
    assert_eq!(str_of(message, "classification"), "escalation");
    assert_eq!(str_of(message, "direction"), "note", "{message:#}");
}

#[test]
fn the_same_mail_at_the_support_mailbox_is_plain() {
    let app = App::with_config(ESCALATION_CONFIG);
    let d = app.ingest_fixture_at("escalation-with-evidence.eml", "support");
    assert_eq!(str_of(&d, "classification"), "plain", "{d:#}");
    assert!(!bool_of(&app.tickets()[0], "escalation"));
    let app = App::new();
    let d = app.ingest_fixture("escalation-with-evidence.eml");
    assert_eq!(
        str_of(&d, "classification"),
        "plain",
        "default mailbox role is support: {d:#}"
    );
}

#[test]
fn escalation_import_marks_every_ticket() {
    let app = App::with_config(ESCALATION_CONFIG);
    let folder = app.dir().join("esc");
    write_eml_dir(&folder, &[fixture("escalation-with-evidence.eml")]);
    let report = app.import(&folder, &["--format", "eml", "--mailbox", "escalations"]);
    assert_eq!(u64_of(&report, "created"), 1, "{report:#}");
    assert!(bool_of(&app.tickets()[0], "escalation"));
}
