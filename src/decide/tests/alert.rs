//! Monitoring alerts (`decide::alert`): problem, repeat, recovery and the machine mail that
//! opens nothing, decided against a fake store.

use super::*;
use crate::alerts::{AlertFormat, AlertSource, AlertSources, OnRecovery, PriorityMap};
use crate::domain::AlertKey;
use crate::trust::{Attestation, AuthMethod, SenderTrust};

const NAGIOS: &str = "nagios@monitor.example.test";

fn sources(on_recovery: OnRecovery) -> AlertSources {
    AlertSources(vec![AlertSource {
        name: "nagios".into(),
        senders: AddressPatterns::new(&[NAGIOS]).unwrap(),
        format: AlertFormat::Nagios,
        on_recovery,
        priorities: PriorityMap::default(),
        require_authentication: true,
    }])
}

fn decide(subject: &str, f: &Fake, on_recovery: OnRecovery, authenticated: bool) -> Evaluation {
    let e = email(NAGIOS, subject);
    let agents = AddressPatterns::empty();
    let rules = crate::escalation::rules::EscalationRules::default();
    let alerts = sources(on_recovery);
    let ctx = DecideContext {
        thread: ThreadContext {
            prefix: "SUP",
            agents: &agents,
            reply_tokens: None,
        },
        archive: false,
        escalation: &rules,
        technicians: &[],
        alerts: &alerts,
    };
    let trust = SenderTrust {
        origin: crate::domain::SenderOrigin::From,
        attestation: if authenticated {
            Attestation::Pass {
                authserv_id: "mx.example.test".into(),
                method: AuthMethod::Dkim,
            }
        } else {
            Attestation::Absent
        },
    };
    let classification = crate::classify::classify(&e, Role::Support);
    evaluate(&e, &trust, "sha", None, classification, f, &ctx)
}

const PROBLEM: &str = "** PROBLEM Service Alert: db1/Disk is CRITICAL **";
const RECOVERY: &str = "** RECOVERY Service Alert: db1/Disk is OK **";

fn with_ticket(status: Status) -> Fake {
    let mut f = Fake::default();
    f.tickets.insert(7, (status, vec![addr(NAGIOS)]));
    f.alert_tickets
        .insert(AlertKey::new("db1", Some("disk")), 7);
    f
}

#[test]
fn a_problem_opens_a_critical_ticket_keyed_by_host_and_service() {
    let ev = decide(PROBLEM, &Fake::default(), OnRecovery::Resolve, true);
    assert_eq!(ev.decision.rule, Rule::AlertProblem);
    assert!(matches!(
        ev.decision.action,
        Action::CreateTicket {
            priority: Priority::Critical,
            status: Status::Open,
            escalation: false
        }
    ));
    assert!(ev.decision.classification.is_machine_generated());
    assert!(
        ev.decision.reason.contains("key db1/disk"),
        "{}",
        ev.decision.reason
    );
    assert_eq!(ev.alert.unwrap().key.as_str(), "db1/disk");
}

#[test]
fn a_repeat_threads_onto_the_open_ticket() {
    let ev = decide(
        PROBLEM,
        &with_ticket(Status::Open),
        OnRecovery::Resolve,
        true,
    );
    assert_eq!(ev.decision.rule, Rule::AlertRepeat);
    assert_eq!(ev.ticket, Some(7));
    assert!(matches!(
        ev.decision.action,
        Action::AppendToTicket {
            new_status: None,
            ..
        }
    ));
}

#[test]
fn a_problem_after_the_resolution_opens_a_new_ticket() {
    let ev = decide(
        PROBLEM,
        &with_ticket(Status::Resolved),
        OnRecovery::Resolve,
        true,
    );
    assert_eq!(ev.decision.rule, Rule::AlertProblem);
}

#[test]
fn a_recovery_resolves_or_notes() {
    let ev = decide(
        RECOVERY,
        &with_ticket(Status::Open),
        OnRecovery::Resolve,
        true,
    );
    assert_eq!(ev.decision.rule, Rule::AlertRecovery);
    assert!(matches!(
        ev.decision.action,
        Action::AppendToTicket {
            new_status: Some(Status::Resolved),
            ..
        }
    ));
    let ev = decide(
        RECOVERY,
        &with_ticket(Status::Pending),
        OnRecovery::Note,
        true,
    );
    assert!(matches!(
        ev.decision.action,
        Action::AppendToTicket {
            new_status: None,
            ..
        }
    ));
    let ev = decide(RECOVERY, &Fake::default(), OnRecovery::Resolve, true);
    assert_eq!(ev.decision.rule, Rule::AlertRecovery);
    assert!(matches!(ev.decision.action, Action::Ignore { .. }));
}

#[test]
fn an_unauthenticated_alert_is_machine_mail_that_opens_nothing() {
    let ev = decide(PROBLEM, &Fake::default(), OnRecovery::Resolve, false);
    assert_eq!(ev.decision.rule, Rule::Unthreaded);
    assert!(
        ev.decision.reason.contains("not authenticated"),
        "{}",
        ev.decision.reason
    );
    assert!(ev.alert.is_none());
}

const WARNING: &str = "** PROBLEM Service Alert: db1/Disk is WARNING **";

#[test]
fn a_repeat_at_a_higher_state_raises_the_priority() {
    let mut f = with_ticket(Status::Open);
    f.priorities.insert(7, Priority::High);
    let ev = decide(PROBLEM, &f, OnRecovery::Resolve, true);
    assert_eq!(ev.decision.rule, Rule::AlertRepeat);
    let note = ev.alert.as_ref().unwrap();
    assert_eq!(note.raise, Some(Priority::Critical));
    assert!(
        ev.decision
            .reason
            .contains("priority raised from high to critical, every technician is alerted"),
        "{}",
        ev.decision.reason
    );
    // The same or a lower state raises nothing.
    f.priorities.insert(7, Priority::Critical);
    for subject in [PROBLEM, WARNING] {
        let ev = decide(subject, &f, OnRecovery::Resolve, true);
        assert_eq!(ev.alert.as_ref().unwrap().raise, None, "{subject}");
        assert!(
            !ev.decision.reason.contains("raised"),
            "{}",
            ev.decision.reason
        );
    }
}

#[test]
fn a_recovery_that_resolves_a_critical_ticket_tells_the_technicians() {
    let mut f = with_ticket(Status::Open);
    f.priorities.insert(7, Priority::Critical);
    let ev = decide(RECOVERY, &f, OnRecovery::Resolve, true);
    assert!(ev.alert.as_ref().unwrap().resolves_critical);
    assert!(
        ev.decision.reason.contains("every technician is told"),
        "{}",
        ev.decision.reason
    );
    // Stored as a note, or on a ticket that is not critical: nobody is told.
    let ev = decide(RECOVERY, &f, OnRecovery::Note, true);
    assert!(!ev.alert.as_ref().unwrap().resolves_critical);
    f.priorities.insert(7, Priority::High);
    let ev = decide(RECOVERY, &f, OnRecovery::Resolve, true);
    assert!(!ev.alert.as_ref().unwrap().resolves_critical);
}
