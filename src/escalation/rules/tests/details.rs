//! The gate beyond the table: downgrades, DMARC, the default rules, the exact wording of
//! problems, and a resend of the refusal's pre-filled block.

use super::*;

#[test]
fn critical_for_one_customer_is_downgraded_when_configured() {
    let rules = rules_with("downgrade", "");
    let case = story("critical for one", CRITICAL_FOR_ONE, Reject(&[]));
    let GateVerdict::Accept(accepted) = run(&case, &rules, &[]) else {
        panic!("not accepted")
    };
    assert_eq!(accepted.priority, Priority::High);
    assert_eq!(accepted.requested_priority, Priority::Critical);
    assert_eq!(
        accepted.downgraded.as_deref(),
        Some(
            "Priority critical needs at least 10 affected customers, and Affected-Customers \
             is 1: escalated as high."
        )
    );
    assert_eq!(
        accepted.summary,
        "escalation accepted: new ticket for jane@acme.test, category email, priority high \
         (downgraded from critical), 1 affected customer"
    );
}

#[test]
fn dmarc_pass_is_required_when_configured() {
    // `run` trusts the authserv-id mx.example.test (see `tests.rs`).
    let rules = rules_with("reject", "require_dmarc_pass = true");
    let case = story("dmarc", COMPLETE, Unauthorised("no dmarc=pass"));
    let refused: [&[&str]; 6] = [
        &[],
        &["mx.example.test; spf=pass smtp.mailfrom=tier1.example.test; dmarc=fail"],
        // Another authserv-id: written by anybody.
        &["evil.test; dmarc=pass header.from=tier1.example.test"],
        // Our id, but a pass for another domain, or for no domain at all.
        &["mx.example.test; dmarc=pass header.from=evil.test"],
        &["mx.example.test;\r\n dkim=pass; DMARC=Pass"],
        // The sender's own header of our id sits below the receiving server's.
        &[
            "mx.example.test; dmarc=none header.from=tier1.example.test",
            "mx.example.test; dmarc=pass header.from=tier1.example.test",
        ],
    ];
    for headers in refused {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        check(&case, &run(&case, &rules, &headers));
    }
    // A forged pass above our server's fail: the From is forged, whatever the rules.
    let forged = [
        "evil.test; dmarc=pass header.from=tier1.example.test".to_string(),
        "mx.example.test; dmarc=fail header.from=tier1.example.test".to_string(),
    ];
    for rules in [rules_with("reject", ""), rules.clone()] {
        let GateVerdict::Unauthorised { reason } = run(&case, &rules, &forged) else {
            panic!("a forged From was accepted")
        };
        assert!(reason.contains("dmarc=fail"), "{reason}");
    }
    let passing =
        ["mx.example.test;\r\n dkim=pass; DMARC=Pass header.from=Tier1.Example.Test".to_string()];
    assert!(matches!(
        run(&case, &rules, &passing),
        GateVerdict::Accept(_)
    ));
}

#[test]
fn without_configured_senders_nobody_may_escalate() {
    let case = story(
        "complete",
        COMPLETE,
        Unauthorised("allowed_senders is empty"),
    );
    let verdict = run(&case, &EscalationRules::default(), &[]);
    let GateVerdict::Unauthorised { reason } = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(
        reason,
        "bob@tier1.example.test may not escalate: escalation.allowed_senders is empty"
    );
}

#[test]
fn problems_say_what_is_wrong_and_the_line_to_add() {
    let rules = rules();
    let case = |evidence| story("messages", evidence, Reject(&[]));
    let problems = |evidence| match run(&case(evidence), &rules, &[]) {
        GateVerdict::Reject { problems, .. } => problems,
        other => panic!("{other:?}"),
    };
    let sent = &problems(NO_MAIL_UNPROVEN)[0];
    assert_eq!(
        sent.message,
        "Sent-Mail-Verified is missing: give it, or attach a file matching *.eml or \
         sent-mail*.log, or write 'confirmed mail was sent' in Steps-Taken."
    );
    assert_eq!(sent.line_to_add, "Sent-Mail-Verified: <what you found>");
    let gate = &problems(CRITICAL_FOR_ONE)[0];
    assert_eq!(
        gate.message,
        "Priority critical needs at least 10 affected customers, and Affected-Customers is 1; \
         give the count or lower the Priority."
    );
    assert_eq!(
        gate.line_to_add,
        "Affected-Customers: <how many customers are affected, e.g. 12>"
    );
    let invalid = problems("Category: printers\nTicket: OPS-3\nPriority: asap\n");
    let messages: Vec<&str> = invalid.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages[..1],
        ["Category \"printers\" is not a known category: use one of email, network."]
    );
    assert!(messages.contains(
        &"Ticket \"OPS-3\" is not a ticket of this installation (references here look like SUP-1042)."
    ));
    assert!(messages.contains(&"Priority \"asap\" is not one of low, normal, high, critical."));
    assert_eq!(invalid[0].line_to_add, "Category: <one of: email, network>");
}

#[test]
fn a_resend_of_the_prefilled_block_completed_is_accepted() {
    let rules = rules();
    let first = story(
        "first mail",
        NO_MAIL_UNPROVEN,
        Reject(&[("sent_mail_verified", Missing)]),
    );
    let verdict = run(&first, &rules, &[]);
    check(&first, &verdict);
    let GateVerdict::Reject { category, .. } = verdict else {
        unreachable!()
    };
    assert_eq!(category.as_deref(), Some("email"));
    let evidence = parse_evidence(first.evidence);
    let block =
        crate::escalation::refusal::prefilled_block(&evidence, &rules, category.as_deref(), None);
    // Tier 1 fills in the one missing line and leaves the optional placeholders as they are.
    let completed: String = block
        .lines()
        .map(|line| match line.split_once(": <") {
            Some(("Sent-Mail-Verified", _)) => {
                "Sent-Mail-Verified: sent-mail.log shows 3 mails to her on 2026-11-13".to_string()
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(completed.contains("Ticket: <"), "{completed}");
    let resend = Case {
        name: "resend",
        evidence: completed.leak(),
        expect: email_accept(Priority::Normal, false, None),
        ..first
    };
    check(&resend, &run(&resend, &rules, &[]));
}
