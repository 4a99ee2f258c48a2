//! Monitoring alerts (SPEC 7, issue 14), the pure core: what a monitoring system's mail says
//! (host, service, state, problem or recovery), the key its ticket is found by, the priority
//! its state maps to, and whether it may open a ticket at all.
//!
//! - [`text`]: the part of a mail an alert is read from, capped (subject, first 64 KB of text);
//! - [`nagios`], [`zabbix`], [`alertmanager`]: the built-in formats, each read from its tool's
//!   default notification template; [`custom`]: an admin's regexes (the `regex` crate: linear
//!   time, whatever the mail says);
//! - [`source`]: one `[[alerts]]` entry and the verdict on a mail ([`judge`]): an alert of a
//!   trusted, authenticated sender, or machine mail that opens nothing;
//! - [`priority`]: state → priority; [`outcome`]: problem, repeat or recovery, given the open
//!   ticket of the key.
//!
//! Nothing here mails anyone: the monitoring system is never answered (`pipeline::plan`).

pub mod alertmanager;
pub mod custom;
pub mod nagios;
pub mod outcome;
pub mod priority;
pub mod source;
pub mod text;
pub mod zabbix;

pub use custom::{CustomFormat, CustomFormatError};
pub use outcome::{AlertOutcome, OnRecovery, outcome};
pub use priority::PriorityMap;
pub use source::{AlertSource, AlertSources, AlertVerdict, judge};
pub use text::AlertText;

pub use crate::domain::AlertKey;

/// The longest host or service name kept (longer ones are cut): keys stay small.
pub const MAX_NAME_CHARS: usize = 200;

/// Whether an alert says something is wrong or that it is fine again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    Problem,
    Recovery,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Problem => "problem",
            AlertKind::Recovery => "recovery",
        }
    }
}

/// One alert, as its mail states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub host: String,
    /// `None` for a host alert (the host itself is down or up).
    pub service: Option<String>,
    /// The state as the tool writes it: `CRITICAL`, `DOWN`, `OK`, `firing`, a Zabbix severity.
    pub state: String,
    pub kind: AlertKind,
    /// A severity besides the state (Alertmanager's `severity` label, Zabbix's Severity).
    pub severity: Option<String>,
}

impl Alert {
    /// Builds an alert, trimming and capping the names; `None` when the host is empty.
    pub fn new(
        host: &str,
        service: Option<&str>,
        state: &str,
        kind: AlertKind,
        severity: Option<&str>,
    ) -> Option<Alert> {
        let host = cap(host);
        if host.is_empty() {
            return None;
        }
        Some(Alert {
            host,
            service: service.map(cap).filter(|s| !s.is_empty()),
            state: cap(state),
            kind,
            severity: severity.map(cap).filter(|s| !s.is_empty()),
        })
    }

    pub fn key(&self) -> AlertKey {
        AlertKey::new(&self.host, self.service.as_deref())
    }

    /// `db1/disk is CRITICAL` (for reasons).
    pub fn describe(&self) -> String {
        let severity = self
            .severity
            .as_ref()
            .map(|s| format!(", severity {s}"))
            .unwrap_or_default();
        format!(
            "{} of {} is {}{severity}",
            self.kind.as_str(),
            self.key(),
            self.state
        )
    }
}

/// Trimmed, control characters dropped, at most [`MAX_NAME_CHARS`] characters.
fn cap(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The built-in formats and an admin's custom one.
#[derive(Debug, Clone)]
pub enum AlertFormat {
    /// Nagios and Icinga (1 and 2): `** PROBLEM Service Alert: host/service is CRITICAL **`,
    /// `[PROBLEM] service on host is CRITICAL!`.
    Nagios,
    /// Zabbix's default media type: `Problem: …` / `Resolved: …`.
    Zabbix,
    /// Alertmanager's default e-mail template: `[FIRING:n] …` / `[RESOLVED] …`.
    Alertmanager,
    Custom(Box<CustomFormat>),
}

/// What a format makes of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Alert(Alert),
    /// Written in this format, but neither a problem nor a recovery (an acknowledgement, a
    /// flapping or downtime notice): machine mail, `what` says which.
    Other(String),
    /// Not this format.
    No,
}

impl AlertFormat {
    pub fn name(&self) -> &'static str {
        match self {
            AlertFormat::Nagios => "nagios",
            AlertFormat::Zabbix => "zabbix",
            AlertFormat::Alertmanager => "alertmanager",
            AlertFormat::Custom(_) => "custom",
        }
    }

    pub fn parse(&self, text: &AlertText) -> Parsed {
        match self {
            AlertFormat::Nagios => nagios::parse(text),
            AlertFormat::Zabbix => zabbix::parse(text),
            AlertFormat::Alertmanager => alertmanager::parse(text),
            AlertFormat::Custom(c) => c.parse(text),
        }
    }

    /// The built-in formats, to recognise alert-shaped mail from senders not configured.
    pub const BUILT_IN: [AlertFormat; 3] = [
        AlertFormat::Nagios,
        AlertFormat::Zabbix,
        AlertFormat::Alertmanager,
    ];
}

/// The value of a `Name: value` line of `body` whose name is `name` (any case), trimmed.
pub(crate) fn field<'t>(body: &'t str, name: &str) -> Option<&'t str> {
    body.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_capped_and_need_a_host() {
        let long = "h".repeat(5000);
        let a = Alert::new(&long, Some("s\u{7}x"), "CRITICAL", AlertKind::Problem, None).unwrap();
        assert_eq!(a.host.chars().count(), MAX_NAME_CHARS);
        assert_eq!(a.service.as_deref(), Some("sx"));
        assert!(Alert::new("  ", None, "DOWN", AlertKind::Problem, None).is_none());
    }

    #[test]
    fn fields_are_found_by_name() {
        let body = "Host: db1\nSERVICE:  disk \nState: CRITICAL";
        assert_eq!(field(body, "host"), Some("db1"));
        assert_eq!(field(body, "service"), Some("disk"));
        assert_eq!(field(body, "address"), None);
    }
}
