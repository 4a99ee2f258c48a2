//! Zabbix mail, as its default Email media type writes it (message templates for problems,
//! recoveries and updates):
//!
//! ```text
//! Subject: Problem: High CPU utilization            Subject: Resolved in 5m 0s: High CPU utilization
//! Problem started at 16:24:04 on 2026.05.04         Problem has been resolved at 16:29:04 on 2026.05.04
//! Problem name: High CPU utilization                Problem name: High CPU utilization
//! Host: web1                                        Problem duration: 5m 0s
//! Severity: High                                    Host: web1
//! Operational data: 97 %                            Severity: High
//! Original problem ID: 1234                         Original problem ID: 1234
//! ```
//!
//! (Zabbix before 5.0 wrote `Resolved: …`.) The key is the host and the problem name; the state
//! of a problem is its severity (`Disaster`, `High`, `Average`, `Warning`, `Information`). An
//! update (`Updated problem in …`: acknowledged, commented) is machine mail that opens nothing.
//! The body's `Host:` and `Problem name:` lines are required: a subject alone (anybody may
//! write "Problem: cannot log in") is never a Zabbix alert.

use super::{Alert, AlertKind, AlertText, Parsed, field};

pub fn parse(text: &AlertText) -> Parsed {
    let subject = text.subject;
    let kind = if subject.starts_with("Problem: ") {
        Some(AlertKind::Problem)
    } else if subject.starts_with("Resolved: ") || subject.starts_with("Resolved in ") {
        Some(AlertKind::Recovery)
    } else if subject.starts_with("Updated problem") {
        None
    } else {
        return Parsed::No;
    };
    let (Some(host), Some(name)) = (field(text.body, "Host"), field(text.body, "Problem name"))
    else {
        return Parsed::No;
    };
    let severity = field(text.body, "Severity");
    let Some(kind) = kind else {
        return Parsed::Other("a Zabbix problem update".into());
    };
    let state = match kind {
        AlertKind::Problem => severity.unwrap_or("Problem"),
        AlertKind::Recovery => "Resolved",
    };
    match Alert::new(host, Some(name), state, kind, severity) {
        Some(alert) => Parsed::Alert(alert),
        None => Parsed::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBLEM: &str = "Problem started at 16:24:04 on 2026.05.04\nProblem name: High CPU utilization\n\
                           Host: web1\nSeverity: High\nOperational data: 97 %\nOriginal problem ID: 1234\n";
    const RESOLVED: &str = "Problem has been resolved at 16:29:04 on 2026.05.04\nProblem name: High CPU utilization\n\
                            Problem duration: 5m 0s\nHost: web1\nSeverity: High\nOriginal problem ID: 1234\n";

    fn alert(subject: &str, body: &str) -> Parsed {
        parse(&AlertText::new(subject, body))
    }

    #[test]
    fn problem_and_recovery_share_a_key() {
        let Parsed::Alert(p) = alert("Problem: High CPU utilization", PROBLEM) else {
            panic!()
        };
        assert_eq!(p.kind, AlertKind::Problem);
        assert_eq!(p.state, "High");
        assert_eq!(p.severity.as_deref(), Some("High"));
        assert_eq!(p.key().as_str(), "web1/high cpu utilization");
        for subject in [
            "Resolved in 5m 0s: High CPU utilization",
            "Resolved: High CPU utilization",
        ] {
            let Parsed::Alert(r) = alert(subject, RESOLVED) else {
                panic!("{subject}")
            };
            assert_eq!(r.kind, AlertKind::Recovery);
            assert_eq!(r.key(), p.key());
        }
    }

    #[test]
    fn updates_are_machine_mail() {
        assert!(matches!(
            alert("Updated problem in 10m: High CPU utilization", PROBLEM),
            Parsed::Other(_)
        ));
    }

    #[test]
    fn a_subject_alone_is_not_an_alert() {
        assert_eq!(
            alert(
                "Problem: cannot log in",
                "Hello, since Monday I cannot log in."
            ),
            Parsed::No
        );
        assert_eq!(alert("Problem: x", "Host: web1\n"), Parsed::No);
        assert_eq!(
            alert("Re: Problem: High CPU utilization", PROBLEM),
            Parsed::No
        );
    }
}
