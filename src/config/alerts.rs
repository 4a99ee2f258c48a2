//! `[[alerts]]` → [`AlertSources`]: the monitoring systems whose alerts open tickets (SPEC 7).
//! Every mistake names its line.
//!
//! ```toml
//! [[alerts]]
//! name = "nagios"
//! senders = ["nagios@monitor.example.test"]
//! format = "nagios"                  # nagios (also Icinga) | zabbix | alertmanager | custom
//! on_recovery = "resolve"            # or "note"
//! priorities = { UNKNOWN = "high" }  # on top of the defaults (CRITICAL/DOWN → critical, WARNING → high)
//! # require_authentication = false   # DANGEROUS: anybody writing this From pages the technicians
//!
//! [[alerts]]
//! name = "checkmk"
//! senders = ["checkmk@monitor.example.test"]
//! format = "custom"
//! subject_regex = '^Check_MK: (?P<host>[^/]+)/(?P<service>.+) (?P<state>\w+)$'
//! problem_states = ["CRIT", "WARN"]  # defaults: CRITICAL, WARNING, DOWN, UNREACHABLE, UNKNOWN, PROBLEM, FIRING
//! recovery_states = ["OK"]           # defaults: OK, UP, RECOVERY, RESOLVED
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::alerts::{AlertFormat, AlertSource, AlertSources, CustomFormat, PriorityMap};
use crate::domain::{AddressPatterns, Priority};

const DEFAULT_PROBLEM_STATES: [&str; 7] = [
    "CRITICAL",
    "WARNING",
    "DOWN",
    "UNREACHABLE",
    "UNKNOWN",
    "PROBLEM",
    "FIRING",
];
const DEFAULT_RECOVERY_STATES: [&str; 4] = ["OK", "UP", "RECOVERY", "RESOLVED"];

/// One `[[alerts]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertFile {
    pub name: Spanned<String>,
    pub senders: Spanned<Vec<Spanned<String>>>,
    pub format: Spanned<String>,
    pub on_recovery: Option<Spanned<String>>,
    #[serde(default)]
    pub priorities: BTreeMap<String, Spanned<String>>,
    pub require_authentication: Option<Spanned<bool>>,
    pub subject_regex: Option<Spanned<String>>,
    pub body_regex: Option<Spanned<String>>,
    pub problem_states: Option<Vec<String>>,
    pub recovery_states: Option<Vec<String>>,
}

/// Converts every entry; `authenticating`: whether `[security] trusted_authserv_ids` is set
/// (without it no sender is ever authenticated).
pub(super) fn alert_sources(
    raw: &[AlertFile],
    authenticating: bool,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> AlertSources {
    let mut out: Vec<AlertSource> = Vec::new();
    for entry in raw {
        let name = entry.name.get_ref().trim().to_string();
        if name.is_empty() {
            issue(
                Some(entry.name.span()),
                "alerts.name must not be empty".into(),
            );
        } else if out.iter().any(|s| s.name == name) {
            issue(
                Some(entry.name.span()),
                format!("alerts: the name {name:?} is used twice"),
            );
        }
        let what = format!("alerts entry {name:?}");
        if let Some(source) = alert_source(entry, &what, authenticating, issue) {
            out.push(AlertSource { name, ..source });
        }
    }
    AlertSources(out)
}

fn alert_source(
    entry: &AlertFile,
    what: &str,
    authenticating: bool,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<AlertSource> {
    let mut ok = true;
    let mut globs = Vec::new();
    for glob in entry.senders.get_ref() {
        match AddressPatterns::new(&[glob.get_ref()]) {
            Ok(_) => globs.push(glob.get_ref().as_str()),
            Err(e) => {
                issue(Some(glob.span()), format!("{what}: senders: {e}"));
                ok = false;
            }
        }
    }
    if entry.senders.get_ref().is_empty() {
        issue(
            Some(entry.senders.span()),
            format!(
                "{what}: senders is empty: name the addresses the monitoring system writes from"
            ),
        );
        ok = false;
    }
    let senders = AddressPatterns::new(&globs).unwrap_or_else(|_| AddressPatterns::empty());
    let format = format(entry, what, issue);
    ok &= format.is_some();
    let on_recovery = match &entry.on_recovery {
        None => Default::default(),
        Some(r) => match r.get_ref().parse() {
            Ok(r) => r,
            Err(e) => {
                issue(Some(r.span()), format!("{what}: {e}"));
                ok = false;
                Default::default()
            }
        },
    };
    let mut overrides = Vec::new();
    for (state, priority) in &entry.priorities {
        match priority.get_ref().parse::<Priority>() {
            Ok(p) => overrides.push((state.as_str(), p)),
            Err(e) => {
                issue(
                    Some(priority.span()),
                    format!("{what}: priorities.{state}: {e}"),
                );
                ok = false;
            }
        }
    }
    let require_authentication = entry
        .require_authentication
        .as_ref()
        .is_none_or(|r| *r.get_ref());
    if require_authentication && !authenticating {
        issue(
            Some(entry.name.span()),
            format!(
                "{what}: its senders can only be authenticated with [security] \
                 trusted_authserv_ids (the receiving server whose Authentication-Results are \
                 believed); without it no alert would ever open a ticket. Set it, or set \
                 require_authentication = false on this entry (see SECURITY.md for the risk)"
            ),
        );
        ok = false;
    }
    ok.then(|| AlertSource {
        name: String::new(),
        senders,
        format: format.unwrap_or(AlertFormat::Nagios),
        on_recovery,
        priorities: PriorityMap::with(overrides),
        require_authentication,
    })
}

fn format(
    entry: &AlertFile,
    what: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<AlertFormat> {
    let f = &entry.format;
    let built_in = match f.get_ref().trim() {
        "nagios" | "icinga" => Some(AlertFormat::Nagios),
        "zabbix" => Some(AlertFormat::Zabbix),
        "alertmanager" => Some(AlertFormat::Alertmanager),
        "custom" => None,
        other => {
            issue(
                Some(f.span()),
                format!(
                    "{what}: unknown format {other:?}: use \"nagios\" (also Icinga), \
                     \"zabbix\", \"alertmanager\" or \"custom\""
                ),
            );
            return None;
        }
    };
    if let Some(format) = built_in {
        for r in [&entry.subject_regex, &entry.body_regex]
            .into_iter()
            .flatten()
        {
            issue(
                Some(r.span()),
                format!(
                    "{what}: subject_regex and body_regex are only read with format = \"custom\""
                ),
            );
        }
        return if entry.subject_regex.is_some() || entry.body_regex.is_some() {
            None
        } else {
            Some(format)
        };
    }
    let states = |given: &Option<Vec<String>>, defaults: &[&str]| -> Vec<String> {
        given
            .clone()
            .unwrap_or_else(|| defaults.iter().map(|s| s.to_string()).collect())
    };
    let custom = CustomFormat::new(
        entry.subject_regex.as_ref().map(|r| r.get_ref().as_str()),
        entry.body_regex.as_ref().map(|r| r.get_ref().as_str()),
        &states(&entry.problem_states, &DEFAULT_PROBLEM_STATES),
        &states(&entry.recovery_states, &DEFAULT_RECOVERY_STATES),
    );
    match custom {
        Ok(c) => Some(AlertFormat::Custom(Box::new(c))),
        Err(e) => {
            use crate::alerts::CustomFormatError as E;
            let span = match &e {
                E::BadRegex { which, .. } | E::NoGroup { which } => {
                    if *which == "subject_regex" {
                        entry.subject_regex.as_ref().map(|r| r.span())
                    } else {
                        entry.body_regex.as_ref().map(|r| r.span())
                    }
                }
                E::NoRegex | E::MissingGroup { .. } | E::NoStates => None,
            };
            issue(
                Some(span.unwrap_or_else(|| f.span())),
                format!("{what}: {e}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        alerts: Vec<AlertFile>,
    }

    fn check(text: &str, authenticating: bool) -> (AlertSources, Vec<(usize, String)>) {
        let raw: Wrapper = toml::from_str(text).unwrap();
        let mut problems = Vec::new();
        let sources = alert_sources(&raw.alerts, authenticating, &mut |span, m| {
            let line = span.map(|s| text[..s.start].matches('\n').count() + 1);
            problems.push((line.unwrap_or(0), m));
        });
        (sources, problems)
    }

    #[test]
    fn a_good_entry() {
        let (s, problems) = check(
            "[[alerts]]\nname = \"nagios\"\nsenders = [\"nagios@mon.test\"]\nformat = \"nagios\"\n\
             on_recovery = \"note\"\npriorities = { UNKNOWN = \"high\" }\n",
            true,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.0.len(), 1);
        assert_eq!(s.0[0].on_recovery, crate::alerts::OnRecovery::Note);
        assert!(s.0[0].require_authentication);
    }

    #[test]
    fn each_mistake_names_its_line() {
        let text = "[[alerts]]\nname = \"a\"\nsenders = [\"no-at-sign\"]\nformat = \"nagois\"\n\
                    on_recovery = \"close\"\npriorities = { DOWN = \"urgent\" }\n\n\
                    [[alerts]]\nname = \"b\"\nsenders = [\"x@y.test\"]\nformat = \"custom\"\n\
                    subject_regex = '(?P<host>\\S+) (?P<state>\\S+)'\n\n\
                    [[alerts]]\nname = \"c\"\nsenders = [\"x@y.test\"]\nformat = \"custom\"\n\
                    subject_regex = '(?P<host>\\S+) (?P<service>\\S+) (?P<state>\\S+)'\nbody_regex = '(unclosed'\n\n\
                    [[alerts]]\nname = \"d\"\nsenders = [\"x@y.test\"]\nformat = \"custom\"\n";
        let (s, problems) = check(text, true);
        assert!(s.0.is_empty());
        let lines: Vec<usize> = problems.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 11, 19, 24], "{problems:?}");
        assert!(problems[1].1.contains("unknown format"), "{problems:?}");
        assert!(problems[4].1.contains("(?P<service>"), "{problems:?}");
        assert!(
            problems[6].1.contains("subject_regex or body_regex"),
            "{problems:?}"
        );
    }

    #[test]
    fn authentication_needs_trusted_ids_unless_turned_off() {
        let text = "[[alerts]]\nname = \"a\"\nsenders = [\"n@m.test\"]\nformat = \"zabbix\"\n";
        let (_, problems) = check(text, false);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("trusted_authserv_ids"));
        let (s, problems) = check(&format!("{text}require_authentication = false\n"), false);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!s.0[0].require_authentication);
    }
}
