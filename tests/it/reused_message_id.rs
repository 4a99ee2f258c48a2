//! A different mail under a Message-ID already stored (issue 12, item 9): kept under the
//! synthetic id of its bytes on the ticket of the mail whose id it carries, never acknowledged;
//! the very same bytes again are a re-delivery, by `ingest` and by `import` re-runs.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::*;

const CONFIG: &str = r#"
[tickets]
prefix = "SUP"
support_address = "Acme Support <support@example.test>"
"#;

const ID: &str = "reused-1@acme.test";

/// A plain customer mail with Message-ID `ID` and `body`.
fn mail(body: &str) -> Vec<u8> {
    format!(
        "From: Jane Doe <jane@acme.test>\nTo: support@example.test\nSubject: Printer on fire\n\
         Date: Mon, 04 Mar 2024 09:15:00 +0000\nMessage-ID: <{ID}>\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
    .into_bytes()
}

/// The original, and a copy a mailing list passed on with a footer (same Message-ID).
fn original_and_copy() -> (Vec<u8>, Vec<u8>) {
    let original = mail("The printer is on fire.");
    let copy = mail("The printer is on fire.\n\n-- \nacme-users mailing list");
    (original, copy)
}

/// `MessageId::synthetic` of `bytes`.
fn synthetic(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("{}@synthetic.mailgate.invalid", hex::encode(&digest[..16]))
}

fn outbox_rows(app: &App) -> Vec<Value> {
    array(app.ok_json(&["outbox", "list", "--json"]), "outbox list")
}

fn message_ids(app: &App, reference: &str) -> Vec<String> {
    items(&app.show(reference), "messages")
        .iter()
        .map(|m| str_of(m, "message_id").to_string())
        .collect()
}

#[test]
fn same_message_id_with_other_bytes_is_kept_on_the_original_ticket() {
    let app = App::with_config(CONFIG);
    let (original, copy) = original_and_copy();
    let first = app.ingest_bytes("original.eml", &original);
    assert_decision(&first, "created", "new-ticket", Some("SUP-1"));
    let acks = outbox_rows(&app);
    assert_eq!(acks.len(), 1, "the original is acknowledged: {acks:#?}");

    let second = app.ingest_bytes("copy.eml", &copy);
    assert_decision(&second, "threaded", "reused-message-id", Some("SUP-1"));
    assert_eq!(
        message_id_of(&second),
        ID,
        "the decision names the mail's own id"
    );
    let kept_as = synthetic(&copy);
    assert_eq!(
        str_of(&second, "reason"),
        format!(
            "Message-ID <{ID}> is already used by a different stored message; kept under the \
             synthetic id <{kept_as}> and stored on SUP-1, the ticket of that message, without \
             changing its status or notifying anyone"
        )
    );
    assert_eq!(
        message_ids(&app, "SUP-1"),
        vec![ID.to_string(), kept_as.clone()]
    );
    assert_eq!(app.tickets().len(), 1);
    assert_eq!(outbox_rows(&app), acks, "no acknowledgement for the copy");

    // The copy again, and the original again: re-deliveries, nothing stored.
    let again = app.ingest_bytes("copy-again.eml", &copy);
    assert_eq!(str_of(&again, "decision"), "duplicate", "{again:#}");
    assert!(
        str_of(&again, "reason").contains(&format!("kept under the synthetic id <{kept_as}>")),
        "{again:#}"
    );
    let again = app.ingest_bytes("original-again.eml", &original);
    assert_eq!(str_of(&again, "decision"), "duplicate", "{again:#}");
    assert_eq!(message_ids(&app, "SUP-1").len(), 2);
    assert_eq!(outbox_rows(&app), acks);

    // An import holding both finds nothing new: both are re-deliveries.
    let path = app.dir().join("both.mbox");
    write_mbox(&path, &[original.clone(), copy.clone()]);
    let report = app.import(&path, &[]);
    assert_eq!(u64_of(&report, "read"), 2, "{report:#}");
    assert_eq!(u64_of(&report, "duplicates"), 2, "{report:#}");
    assert_report_balanced(&report);
    assert_eq!(message_ids(&app, "SUP-1").len(), 2);
}

#[test]
fn an_import_keeps_both_and_its_rerun_finds_nothing_new() {
    let app = App::with_config(CONFIG);
    let (original, copy) = original_and_copy();
    let path = app.dir().join("both.mbox");
    write_mbox(&path, &[original.clone(), copy.clone(), copy.clone()]);
    let report = app.import(&path, &[]);
    assert_eq!(
        (
            u64_of(&report, "created"),
            u64_of(&report, "threaded"),
            u64_of(&report, "duplicates")
        ),
        (1, 1, 1),
        "the copy twice in one run: kept once: {report:#}"
    );
    assert_eq!(
        message_ids(&app, "SUP-1"),
        vec![ID.to_string(), synthetic(&copy)]
    );
    let rerun = app.import(&path, &[]);
    assert_eq!(u64_of(&rerun, "read"), 3, "{rerun:#}");
    assert_eq!(u64_of(&rerun, "duplicates"), 3, "{rerun:#}");
    assert_report_balanced(&rerun);
    assert_eq!(message_ids(&app, "SUP-1").len(), 2);
    assert_eq!(app.tickets().len(), 1);
    assert!(outbox_rows(&app).is_empty(), "imports never notify");

    // A dry run of it on a fresh installation decides the same.
    let fresh = App::with_config(CONFIG);
    let dry = fresh.import(&path, &["--dry-run"]);
    assert_eq!(
        (
            u64_of(&dry, "created"),
            u64_of(&dry, "threaded"),
            u64_of(&dry, "duplicates")
        ),
        (1, 1, 1),
        "{dry:#}"
    );
}

/// `raw` delivered by another route: more trace headers in front, CRLF line ends.
fn by_another_route(raw: &[u8]) -> Vec<u8> {
    let routed = format!(
        "Received: from forwarder.test by mx.example.test; Mon, 04 Mar 2024 09:20:00 +0000\n\
         Delivered-To: help@example.test\nAuthentication-Results: mx.example.test; spf=pass\n\
         X-Forwarded-To: support@example.test\n{}",
        String::from_utf8_lossy(raw)
    );
    routed.replace('\n', "\r\n").into_bytes()
}

/// The same mail by another route (only trace headers and line ends differ) is a duplicate,
/// nothing stored, by `ingest` and by `import` (in the run that holds both, on re-runs, dry);
/// a copy with other content beside it is still kept.
#[test]
fn the_same_mail_with_other_trace_headers_is_a_duplicate() {
    let app = App::with_config(CONFIG);
    let (original, copy) = original_and_copy();
    let routed = by_another_route(&original);
    app.ingest_bytes("original.eml", &original);
    let d = app.ingest_bytes("routed.eml", &routed);
    assert_eq!(str_of(&d, "decision"), "duplicate", "{d:#}");
    assert_eq!(str_of(&d, "rule"), "duplicate", "{d:#}");
    assert_eq!(
        str_of(&d, "reason"),
        format!(
            "the same mail as <{ID}> (only its trace headers differ) was already processed \
             (on SUP-1)"
        )
    );
    assert_eq!(message_ids(&app, "SUP-1"), vec![ID.to_string()]);
    let d = app.ingest_bytes("copy.eml", &copy);
    assert_decision(&d, "threaded", "reused-message-id", Some("SUP-1"));
    assert_eq!(message_ids(&app, "SUP-1").len(), 2);

    // One import with the original, the routed copy and the list copy: one ticket, the list
    // copy kept, the routed one a duplicate; its re-run finds nothing new.
    let fresh = App::with_config(CONFIG);
    let path = fresh.dir().join("routes.mbox");
    write_mbox(&path, &[original.clone(), routed.clone(), copy.clone()]);
    let counts = |r: &Value| {
        (
            u64_of(r, "created"),
            u64_of(r, "threaded"),
            u64_of(r, "duplicates"),
        )
    };
    let dry = fresh.import(&path, &["--dry-run"]);
    assert_eq!(counts(&dry), (1, 1, 1), "{dry:#}");
    let report = fresh.import(&path, &[]);
    assert_eq!(counts(&report), (1, 1, 1), "{report:#}");
    assert_eq!(
        message_ids(&fresh, "SUP-1"),
        vec![ID.to_string(), synthetic(&copy)]
    );
    let logged = fresh.decisions().len();
    let rerun = fresh.import(&path, &[]);
    assert_eq!(counts(&rerun), (0, 0, 3), "{rerun:#}");
    assert_eq!(
        fresh.decisions().len(),
        logged,
        "a re-run logs nothing more"
    );
    let d = fresh.ingest_bytes("routed-again.eml", &routed);
    assert_eq!(str_of(&d, "decision"), "duplicate", "{d:#}");
    assert_eq!(
        fresh.decisions().len(),
        logged,
        "a re-delivery logs nothing more"
    );
    assert_report_balanced(&rerun);
    assert_eq!(message_ids(&fresh, "SUP-1").len(), 2);
    assert_eq!(fresh.tickets().len(), 1);
}

/// A mail reusing the Message-ID of mailgate's own stored reply is not a customer's message:
/// it stays a duplicate, nothing stored.
#[test]
fn other_bytes_under_our_own_stored_message_id_stay_a_duplicate() {
    let app = App::with_config(CONFIG);
    let (original, _) = original_and_copy();
    app.ingest_bytes("original.eml", &original);
    app.run(&["tickets", "reply", "SUP-1", "--body", "We are on it."])
        .expect_success();
    let ids = message_ids(&app, "SUP-1");
    assert_eq!(ids.len(), 2, "{ids:?}");
    let ours = &ids[1];
    let echo = format!(
        "From: Jane Doe <jane@acme.test>\nTo: support@example.test\nSubject: Re: [SUP-1] x\n\
         Message-ID: <{ours}>\n\nan echo of our reply\n"
    );
    let d = app.ingest_bytes("echo.eml", echo.as_bytes());
    assert_eq!(str_of(&d, "decision"), "duplicate", "{d:#}");
    assert_eq!(str_of(&d, "rule"), "duplicate", "{d:#}");
    assert_eq!(message_ids(&app, "SUP-1"), ids);
}

/// An agent's mail is relayed to the customers once; another copy of it (same Message-ID,
/// other bytes) is stored but never relayed again.
#[test]
fn another_copy_of_an_agents_mail_is_not_relayed_again() {
    let app = App::with_config(&format!(
        "{CONFIG}\n[notify]\nagents = [\"*@agents.example.test\"]\n\n\
         [security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n"
    ));
    let (original, _) = original_and_copy();
    app.ingest_bytes("original.eml", &original);
    let agent = |footer: &str| {
        format!(
            "Authentication-Results: mx.example.test; dkim=pass header.d=agents.example.test\n\
             From: Ann <ann@agents.example.test>\nTo: support@example.test\n\
             Subject: Re: [SUP-1] Printer on fire\nMessage-ID: <ann-1@agents.example.test>\n\
             In-Reply-To: <{ID}>\n\nPlease switch it off.{footer}\n"
        )
        .into_bytes()
    };
    let d = app.ingest_bytes("agent.eml", &agent(""));
    assert_decision(&d, "threaded", "in-reply-to", Some("SUP-1"));
    let relayed = |app: &App| {
        outbox_rows(app)
            .iter()
            .filter(|r| r["kind"] == "agent_reply")
            .count()
    };
    assert_eq!(relayed(&app), 1);
    let d = app.ingest_bytes("agent-copy.eml", &agent("\n-- \nlist footer"));
    assert_decision(&d, "threaded", "reused-message-id", Some("SUP-1"));
    assert_eq!(relayed(&app), 1, "{:#?}", outbox_rows(&app));
    assert_eq!(message_ids(&app, "SUP-1").len(), 3);
}
