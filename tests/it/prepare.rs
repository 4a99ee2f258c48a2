//! One batch preparer for every source (issue 19, item 3): each mail of a batch is classified
//! once, for the role of the mailbox it arrives at, and a mail that cannot be used is
//! quarantined with its reason while the rest of its batch is stored.

use serde_json::Value;

use crate::support::*;

/// A mail without any sender address: it cannot be used (`unparseable`).
const NO_SENDER: &[u8] = b"To: support@example.test\nSubject: who wrote this?\n\
    Message-ID: <nobody-1@acme.test>\n\nNo From, Sender, Reply-To nor Return-Path.\n";

/// The classification and rule of the decision taken for `file` of the import.
fn decided(decisions: &[Value], file: &str) -> (String, String, String) {
    let d = decisions
        .iter()
        .find(|d| str_of(d, "source").ends_with(file))
        .unwrap_or_else(|| panic!("no decision for {file}: {decisions:#?}"));
    (
        str_of(d, "decision").to_string(),
        str_of(d, "classification").to_string(),
        str_of(d, "rule").to_string(),
    )
}

#[test]
fn one_import_batch_is_classified_for_its_mailbox_and_outlives_a_bad_mail() {
    let app = App::with_config(ESCALATION_CONFIG);
    let folder = app.dir().join("mail");
    write_eml_dir(
        &folder,
        &[
            fixture("escalation-with-evidence.eml"),
            NO_SENDER.to_vec(),
            fixture("auto-reply-unthreaded.eml"),
            fixture("bounce-dsn.eml"),
        ],
    );
    let report = app.import(&folder, &["--format", "eml", "--mailbox", "escalations"]);
    assert_eq!(u64_of(&report, "read"), 4, "{report:#}");
    assert_eq!(u64_of(&report, "created"), 1, "{report:#}");
    assert_eq!(u64_of(&report, "quarantined"), 1, "{report:#}");
    assert_eq!(u64_of(&report, "ignored"), 2, "{report:#}");
    let decisions = app.decisions();
    assert_eq!(decisions.len(), 4, "{decisions:#?}");
    let (decision, classification, _) = decided(&decisions, "001.eml");
    assert_eq!(
        (decision.as_str(), classification.as_str()),
        ("created", "escalation")
    );
    let (decision, classification, rule) = decided(&decisions, "002.eml");
    assert_eq!(
        (decision.as_str(), classification.as_str(), rule.as_str()),
        ("quarantined", "plain", "unparseable")
    );
    // Machine mail is machine mail at any mailbox, classified as such once.
    assert_eq!(decided(&decisions, "003.eml").1, "automatic");
    assert_eq!(decided(&decisions, "004.eml").1, "bounce");
    assert!(bool_of(&app.tickets()[0], "escalation"));
    let held = array(
        app.ok_json(&["quarantine", "list", "--json"]),
        "quarantine list",
    );
    assert_eq!(held.len(), 1, "{held:#?}");
    assert!(
        str_of(&held[0], "reason")
            .starts_with("unparseable: cannot be used as a mail: no usable sender"),
        "{held:#?}"
    );

    // The same mail at the support mailbox: the escalation is a plain customer mail there.
    let support = App::with_config(ESCALATION_CONFIG);
    let report = support.import(&folder, &["--format", "eml", "--mailbox", "support"]);
    assert_eq!(u64_of(&report, "created"), 1, "{report:#}");
    let decisions = support.decisions();
    assert_eq!(decided(&decisions, "001.eml").1, "plain");
    assert!(!bool_of(&support.tickets()[0], "escalation"));
}
