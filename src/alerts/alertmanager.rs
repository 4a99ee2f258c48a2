//! Prometheus Alertmanager mail, as its default e-mail template (`default.tmpl`:
//! `email.default.subject`, `email.default.html`) writes it. The subject is
//! `[FIRING:2] HighLatency api (critical)` or `[RESOLVED] HighLatency api (critical)`; the HTML
//! body (read as text) lists each alert's labels as `name = value` lines under `Labels`, firing
//! alerts first (`[2] Firing`), then resolved ones (`[1] Resolved`).
//!
//! One mail carries a group of alerts; it is keyed by its first alert: the host is its
//! `instance` label (else `host`, `hostname`, `node`, `job`), the service its `alertname`. A
//! firing mail is a problem whose severity is that alert's `severity` label; `[RESOLVED]` (all
//! of the group resolved) is a recovery.

use super::{Alert, AlertKind, AlertText, Parsed};

/// Labels read as the host, in order of preference.
const HOST_LABELS: [&str; 5] = ["instance", "host", "hostname", "node", "job"];

pub fn parse(text: &AlertText) -> Parsed {
    let Some(kind) = subject_kind(text.subject) else {
        return Parsed::No;
    };
    let labels = first_labels(text.body);
    let label = |name: &str| {
        labels
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let Some(alertname) = label("alertname") else {
        return Parsed::No;
    };
    let Some(host) = HOST_LABELS.iter().find_map(|l| label(l)) else {
        return Parsed::No;
    };
    let state = match kind {
        AlertKind::Problem => "firing",
        AlertKind::Recovery => "resolved",
    };
    match Alert::new(host, Some(alertname), state, kind, label("severity")) {
        Some(alert) => Parsed::Alert(alert),
        None => Parsed::No,
    }
}

/// `[FIRING:n] …` → problem, `[RESOLVED] …` → recovery.
fn subject_kind(subject: &str) -> Option<AlertKind> {
    if let Some(rest) = subject.strip_prefix("[FIRING:") {
        let (n, _) = rest.split_once(']')?;
        return (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .then_some(AlertKind::Problem);
    }
    subject
        .starts_with("[RESOLVED]")
        .then_some(AlertKind::Recovery)
}

/// The `name = value` lines of the first `Labels` block of `body`.
fn first_labels(body: &str) -> Vec<(&str, &str)> {
    let mut lines = body.lines().map(str::trim);
    if !lines.any(|l| l == "Labels" || l == "**Labels**" || l.starts_with("Labels")) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in lines {
        let line = line.trim_start_matches(['-', '*', ' ']);
        let Some((name, value)) = line.split_once(" = ") else {
            if out.is_empty() && line.is_empty() {
                continue;
            }
            break;
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            break;
        }
        out.push((name, value.trim()));
        if out.len() >= 64 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRING: &str = "1 alert for alertname=DiskFull\n\nView in AlertManager\n\n[1] Firing\n\n\
                          Labels\nalertname = DiskFull\ninstance = db1:9100\nseverity = critical\n\
                          Annotations\nsummary = disk full\nSource\n";

    fn alert(subject: &str, body: &str) -> Parsed {
        parse(&AlertText::new(subject, body))
    }

    #[test]
    fn firing_and_resolved() {
        let Parsed::Alert(a) = alert("[FIRING:1] DiskFull (db1:9100 critical)", FIRING) else {
            panic!()
        };
        assert_eq!(a.kind, AlertKind::Problem);
        assert_eq!(a.key().as_str(), "db1:9100/diskfull");
        assert_eq!(a.severity.as_deref(), Some("critical"));
        let resolved = FIRING.replace("[1] Firing", "[1] Resolved");
        let Parsed::Alert(r) = alert("[RESOLVED] DiskFull (db1:9100 critical)", &resolved) else {
            panic!()
        };
        assert_eq!(r.kind, AlertKind::Recovery);
        assert_eq!(r.key(), a.key());
    }

    #[test]
    fn labels_may_be_listed_as_in_the_text_template() {
        let body = "Labels:\n - alertname = Down\n - job = node\nAnnotations:\n";
        let Parsed::Alert(a) = alert("[FIRING:3] Down", body) else {
            panic!()
        };
        assert_eq!(a.key().as_str(), "node/down");
        assert_eq!(a.severity, None);
    }

    #[test]
    fn without_labels_or_subject_it_is_not_alertmanager() {
        assert_eq!(alert("[FIRING:1] DiskFull", "the disk is full"), Parsed::No);
        assert_eq!(alert("[FIRING:x] DiskFull", FIRING), Parsed::No);
        assert_eq!(alert("DiskFull", FIRING), Parsed::No);
        assert_eq!(alert("Fwd: [FIRING:1] DiskFull", FIRING), Parsed::No);
    }
}
