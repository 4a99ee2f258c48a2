use super::*;
use crate::domain::test_support::email;

fn mail(from: &str, results: &[&str]) -> InboundEmail {
    let mut e = email(from, "Hello");
    e.headers.authentication_results = results.iter().map(|s| s.to_string()).collect();
    e
}

fn trusted() -> Vec<String> {
    vec!["mx.example.test".to_string()]
}

fn trust(from: &str, results: &[&str]) -> SenderTrust {
    SenderTrust::of(&mail(from, results), &trusted())
}

#[test]
fn dmarc_pass_of_the_from_domain_by_our_server_is_believed() {
    let t = trust(
        "tom@tier1.example.test",
        &["mx.example.test; dmarc=pass header.from=tier1.example.test"],
    );
    assert!(t.dmarc_pass());
    assert!(t.authenticated());
    assert!(t.may_authorise());
    assert_eq!(t.unverified_because(), None);
}

#[test]
fn a_forged_pass_above_our_servers_fail_is_not_believed() {
    // The receiving server's header is the topmost of its id; a sender's header that claims
    // another id sits above it only if the sender wrote it, and is ignored.
    let t = trust(
        "tom@tier1.example.test",
        &[
            "evil.test; dmarc=pass header.from=tier1.example.test",
            "mx.example.test; dmarc=fail header.from=tier1.example.test",
            "mx.example.test; dmarc=pass header.from=tier1.example.test",
        ],
    );
    assert!(!t.dmarc_pass());
    assert!(!t.may_authorise(), "dmarc=fail: the From is forged");
    assert!(t.unverified_because().unwrap().contains("dmarc=fail"));
}

#[test]
fn only_the_topmost_trusted_header_counts() {
    let t = trust(
        "tom@tier1.example.test",
        &[
            "mx.example.test; spf=pass smtp.mailfrom=tier1.example.test",
            "mx.example.test; dmarc=pass header.from=tier1.example.test",
        ],
    );
    assert!(
        !t.dmarc_pass(),
        "a second header of our id was written by the sender"
    );
    assert!(matches!(t.attestation, Attestation::Neutral { .. }));
}

#[test]
fn a_pass_for_another_domain_is_not_a_pass_for_from() {
    for header in [
        "mx.example.test; dmarc=pass header.from=attacker.test",
        "mx.example.test; dmarc=pass",
        "mx.example.test; dmarc=pass header.from=example.test",
        "mx.example.test; dkim=pass header.d=attacker.test",
        "mx.example.test; dkim=pass header.d=test",
        "mx.example.test; dkim=fail header.d=tier1.example.test",
        "mx.example.test; spf=pass smtp.mailfrom=tier1.example.test",
    ] {
        let t = trust("tom@tier1.example.test", &[header]);
        assert!(!t.authenticated(), "{header}");
        assert!(t.may_authorise(), "{header}: a claim, not a forgery");
    }
}

#[test]
fn aligned_dkim_authenticates_but_is_not_dmarc() {
    let t = trust(
        "ann@agents.example.test",
        &["mx.example.test; dkim=pass header.d=agents.example.test"],
    );
    assert!(t.authenticated());
    assert!(!t.dmarc_pass());
    let parent = trust(
        "ann@eu.agents.example.test",
        &["MX.EXAMPLE.TEST; DKIM=Pass header.d=Agents.Example.Test"],
    );
    assert!(parent.authenticated(), "relaxed alignment, any case");
    assert!(
        parent.describe().contains("dkim=pass"),
        "{}",
        parent.describe()
    );
}

#[test]
fn nothing_is_believed_without_configured_ids() {
    let m = mail(
        "tom@tier1.example.test",
        &["mx.example.test; dmarc=pass header.from=tier1.example.test"],
    );
    let t = SenderTrust::of(&m, &[]);
    assert_eq!(t.attestation, Attestation::NotConfigured);
    assert!(!t.dmarc_pass());
    assert!(t.may_authorise());
    let absent = trust("tom@tier1.example.test", &["other.test; dmarc=pass"]);
    assert_eq!(absent.attestation, Attestation::Absent);
}

#[test]
fn a_fallback_sender_never_authorises() {
    for origin in [
        SenderOrigin::MangledFrom,
        SenderOrigin::Sender,
        SenderOrigin::ReplyTo,
        SenderOrigin::ReturnPath,
        SenderOrigin::OtherHeader,
    ] {
        let mut m = mail(
            "tom@tier1.example.test",
            &["mx.example.test; dmarc=pass header.from=tier1.example.test"],
        );
        m.sender_origin = origin;
        let t = SenderTrust::of(&m, &trusted());
        assert!(!t.may_authorise(), "{origin:?}");
        assert!(!t.authenticated(), "{origin:?}");
        assert!(!t.dmarc_pass(), "{origin:?}");
        let why = t.unverified_because().unwrap();
        assert!(why.contains(origin.header()), "{why}");
    }
}
