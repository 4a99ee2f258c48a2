use super::*;
use crate::classify::classify_with;
use crate::config::Role;
use crate::domain::Classification;
use crate::domain::test_support::{addr, email};

fn own() -> OwnLists {
    let addresses = [addr("support@example.test"), addr("help@example.test")];
    OwnLists::new(&addresses, ["<helpdesk.lists.example.test>"])
}

/// A fixture of `fixtures/lists/`, parsed and classified for a support mailbox.
fn classified(name: &str) -> Classification {
    let path = format!("{}/fixtures/lists/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let email = crate::parse::parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
    classify_with(&email, Role::Support, &own())
}

#[test]
fn our_own_group_is_a_persons_mail_whatever_tool_runs_it() {
    for name in [
        "google-groups-own.eml",
        "mailman2-own.eml",
        "mailman3-own.eml",
        "m365-group-own.eml",
    ] {
        assert_eq!(classified(name), Classification::Plain, "{name}");
    }
}

#[test]
fn a_real_auto_reply_relayed_by_our_group_stays_automatic() {
    let c = classified("google-groups-own-auto-reply.eml");
    assert_eq!(
        c,
        Classification::Automatic("Auto-Submitted: auto-replied".into())
    );
}

#[test]
fn someone_elses_list_is_list_mail_named_by_its_id() {
    let cases = [
        ("google-groups-other.eml", "<dev-chat.partner.test>"),
        ("mailman2-other.eml", "<users.lists.project.test>"),
        ("mailman3-other.eml", "<devel.lists.project.test>"),
        ("m365-group-other.eml", "engineering@partner.test"),
    ];
    for (name, list) in cases {
        let Classification::Automatic(why) = classified(name) else {
            panic!("{name} is not automatic");
        };
        assert!(
            why.starts_with(&format!("list: mail of the discussion list {list} (")),
            "{name}: {why}"
        );
    }
}

#[test]
fn newsletters() {
    let Classification::Automatic(why) = classified("newsletter-list-unsubscribe.eml") else {
        panic!("not automatic");
    };
    assert!(
        why.starts_with("newsletter: bulk mail from news@vendor.test ("),
        "{why}"
    );
    assert!(why.contains("List-Unsubscribe"), "{why}");
    assert!(why.contains("is a list's bounce address"), "{why}");

    let mut e = email("news@vendor.test", "March update");
    e.headers.precedence = Some("bulk".into());
    e.headers.list_id = Some("Vendor product news <news.vendor.test>".into());
    e.headers.list_unsubscribe = Some("<mailto:unsubscribe@vendor.test>".into());
    assert_eq!(
        list_reason(&e).as_deref(),
        Some(
            "newsletter: bulk mail from <news.vendor.test> (Precedence: bulk, List-Id, \
             List-Unsubscribe)"
        )
    );
    // An announcement list: List-Post: NO.
    e.headers.list_post = Some("NO".into());
    assert!(list_reason(&e).unwrap().starts_with("newsletter: "));
}

#[test]
fn list_or_newsletter_by_what_the_headers_say() {
    type Case = (fn(&mut InboundEmail), Option<&'static str>);
    let cases: Vec<Case> = vec![
        (|_| {}, None),
        (|e| e.headers.precedence = Some("first-class".into()), None),
        (|e| e.headers.precedence = Some("list".into()), Some("list")),
        (
            |e| e.headers.precedence = Some("Bulk".into()),
            Some("newsletter"),
        ),
        (
            |e| e.headers.list_id = Some("<x.lists.test>".into()),
            Some("newsletter"),
        ),
        (
            |e| {
                e.headers.list_id = Some("<x.lists.test>".into());
                e.references = vec![crate::domain::MessageId::parse("a@b.test").unwrap()];
            },
            Some("list"),
        ),
        (
            |e| e.headers.list_post = Some("<mailto:x@lists.test>".into()),
            Some("list"),
        ),
        (
            |e| e.headers.x_been_there = Some("x@lists.test".into()),
            Some("list"),
        ),
        (
            |e| e.headers.return_path = Some("<users-bounces@lists.example>".into()),
            Some("newsletter"),
        ),
        (
            |e| e.headers.return_path = Some("<jane.bounce@acme.test>".into()),
            None,
        ),
    ];
    for (i, (set, kind)) in cases.into_iter().enumerate() {
        let mut e = email("jane@acme.test", "Printer");
        set(&mut e);
        let reason = list_reason(&e);
        let found = reason.as_deref().and_then(|r| r.split(':').next());
        assert_eq!(found, kind, "case {i}: {reason:?}");
    }
}

#[test]
fn own_group_by_list_id_list_post_been_there_or_configured_id() {
    let own = own();
    let mut h = ClassifyHeaders::default();
    assert_eq!(own.own_group(&h), None);
    h.list_id = Some("Support <SUPPORT.example.test>".into());
    assert_eq!(
        own.own_group(&h).as_deref(),
        Some("List-Id <support.example.test> is our own group")
    );
    h.list_id = Some("<help.example.test>".into());
    assert!(own.own_group(&h).is_some(), "an alias's group");
    h.list_id = Some("Desk <helpdesk.lists.example.test>".into());
    assert!(own.own_group(&h).is_some(), "a configured id");
    h.list_id = Some("<support.example.test.evil.test>".into());
    assert_eq!(own.own_group(&h), None);

    let mut h = ClassifyHeaders::default();
    for (post, ours) in [
        ("<mailto:support@example.test>", true),
        (
            "<https://groups.google.com/x/post>, <mailto:Support@Example.test>",
            true,
        ),
        ("<mailto:support@example.test?subject=x>", true),
        ("<mailto:my-support@example.test>", false),
        ("<mailto:support@example.test.evil.test>", false),
        ("<mailto:support-request@example.test>", false),
        ("NO", false),
    ] {
        h.list_post = Some(post.into());
        assert_eq!(own.own_group(&h).is_some(), ours, "{post}");
    }
    let h = ClassifyHeaders {
        x_been_there: Some("support@example.test".into()),
        ..Default::default()
    };
    assert!(own.own_group(&h).is_some());
    assert_eq!(OwnLists::default().own_group(&h), None);
}

#[test]
fn the_author_of_a_mail_our_group_rewrote_for_dmarc_is_its_reply_to() {
    let path = format!(
        "{}/fixtures/lists/google-groups-own-dmarc.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut e = crate::parse::parse(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(e.from.address.as_str(), "support@example.test");
    let author = own().rewritten_author(&e).unwrap();
    assert_eq!(author.address.as_str(), "jane@customer.test");
    assert_eq!(author.name.as_deref(), Some("Jane Customer"));
    // Not our group, or not From one of ours, or no other Reply-To: nothing is rewritten.
    assert_eq!(OwnLists::default().rewritten_author(&e), None);
    e.reply_to
        .retain(|m| m.address.as_str() != "jane@customer.test");
    assert_eq!(own().rewritten_author(&e), None);
    let mut other = email("jane@customer.test", "Hi");
    other.headers.list_id = Some("<support.example.test>".into());
    other.reply_to = vec![author];
    assert_eq!(own().rewritten_author(&other), None);
}
