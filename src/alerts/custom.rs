//! An admin's own alert format: a regex over the subject and/or one over the text, which
//! together name the groups `host`, `service` and `state` (and optionally `severity`), and the
//! states that mean a problem and a recovery. The `regex` crate matches in time linear in the
//! text (no backtracking), and only [`AlertText`]'s capped text is searched.
//!
//! ```toml
//! [[alerts]]
//! name = "checkmk"
//! senders = ["checkmk@monitor.example.test"]
//! format = "custom"
//! subject_regex = '^Check_MK: (?P<host>[^/]+)/(?P<service>.+) (?P<state>OK|WARN|CRIT)$'
//! problem_states = ["CRIT", "WARN"]
//! recovery_states = ["OK"]
//! ```

use regex::Regex;

use super::{Alert, AlertKind, AlertText, Parsed};

/// The groups the regexes of a custom format must name between them.
pub const REQUIRED_GROUPS: [&str; 3] = ["host", "service", "state"];

/// Compiled regexes are capped at this size (the `regex` crate's limit), so a config cannot
/// build a huge automaton.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct CustomFormat {
    subject: Option<Regex>,
    body: Option<Regex>,
    /// Upper case.
    problem_states: Vec<String>,
    /// Upper case.
    recovery_states: Vec<String>,
}

/// Why a custom format cannot be used (`config check` names the line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomFormatError {
    #[error("format \"custom\" needs subject_regex or body_regex (or both)")]
    NoRegex,
    #[error("{which} is not a valid regex: {error}")]
    BadRegex { which: &'static str, error: String },
    #[error("{which} names none of the groups (?P<host>…), (?P<service>…), (?P<state>…)")]
    NoGroup { which: &'static str },
    #[error("the regexes name no group (?P<{group}>…): host, service and state are required")]
    MissingGroup { group: &'static str },
    #[error("problem_states and recovery_states must not be empty")]
    NoStates,
}

impl CustomFormat {
    pub fn new(
        subject: Option<&str>,
        body: Option<&str>,
        problem_states: &[String],
        recovery_states: &[String],
    ) -> Result<CustomFormat, CustomFormatError> {
        if subject.is_none() && body.is_none() {
            return Err(CustomFormatError::NoRegex);
        }
        let subject = subject.map(|r| compile(r, "subject_regex")).transpose()?;
        let body = body.map(|r| compile(r, "body_regex")).transpose()?;
        for group in REQUIRED_GROUPS {
            let named = [&subject, &body]
                .into_iter()
                .flatten()
                .any(|r| r.capture_names().flatten().any(|n| n == group));
            if !named {
                return Err(CustomFormatError::MissingGroup { group });
            }
        }
        let upper = |states: &[String]| -> Vec<String> {
            states
                .iter()
                .map(|s| s.trim().to_uppercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (problem_states, recovery_states) = (upper(problem_states), upper(recovery_states));
        if problem_states.is_empty() || recovery_states.is_empty() {
            return Err(CustomFormatError::NoStates);
        }
        Ok(CustomFormat {
            subject,
            body,
            problem_states,
            recovery_states,
        })
    }

    pub fn parse(&self, text: &AlertText) -> Parsed {
        let mut found: [Option<&str>; 4] = [None; 4];
        let groups = ["host", "service", "state", "severity"];
        for (regex, haystack) in [(&self.subject, text.subject), (&self.body, text.body)] {
            let Some(regex) = regex else { continue };
            let Some(caps) = regex.captures(haystack) else {
                return Parsed::No;
            };
            for (slot, name) in found.iter_mut().zip(groups) {
                if slot.is_none() {
                    *slot = caps.name(name).map(|m| m.as_str());
                }
            }
        }
        let [Some(host), service, Some(state), severity] = found else {
            return Parsed::No;
        };
        let upper = state.trim().to_uppercase();
        let kind = if self.problem_states.contains(&upper) {
            AlertKind::Problem
        } else if self.recovery_states.contains(&upper) {
            AlertKind::Recovery
        } else {
            return Parsed::Other(format!("state {upper} is neither a problem nor a recovery"));
        };
        match Alert::new(host, service, state, kind, severity) {
            Some(alert) => Parsed::Alert(alert),
            None => Parsed::No,
        }
    }
}

fn compile(pattern: &str, which: &'static str) -> Result<Regex, CustomFormatError> {
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .multi_line(true)
        .build()
        .map_err(|e| CustomFormatError::BadRegex {
            which,
            // One line: the crate's message draws a caret under the pattern.
            error: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })?;
    if !regex
        .capture_names()
        .flatten()
        .any(|n| REQUIRED_GROUPS.contains(&n))
    {
        return Err(CustomFormatError::NoGroup { which });
    }
    Ok(regex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn checkmk() -> CustomFormat {
        CustomFormat::new(
            Some(r"^Check_MK: (?P<host>[^/]+)/(?P<service>.+) (?P<state>OK|WARN|CRIT)$"),
            None,
            &states(&["crit", "WARN"]),
            &states(&["OK"]),
        )
        .unwrap()
    }

    #[test]
    fn named_groups_give_the_alert() {
        let f = checkmk();
        let Parsed::Alert(a) = f.parse(&AlertText::new("Check_MK: db1/Disk / CRIT", "")) else {
            panic!()
        };
        assert_eq!(
            (a.host.as_str(), a.service.as_deref()),
            ("db1", Some("Disk /"))
        );
        assert_eq!(a.kind, AlertKind::Problem);
        let Parsed::Alert(r) = f.parse(&AlertText::new("Check_MK: db1/Disk / OK", "")) else {
            panic!()
        };
        assert_eq!(r.kind, AlertKind::Recovery);
        assert_eq!(f.parse(&AlertText::new("hello", "")), Parsed::No);
    }

    #[test]
    fn subject_and_body_regexes_combine() {
        let f = CustomFormat::new(
            Some(r"^ALERT (?P<state>\w+)$"),
            Some(r"^host=(?P<host>\S+)\nservice=(?P<service>.+)$"),
            &states(&["BAD"]),
            &states(&["GOOD"]),
        )
        .unwrap();
        let Parsed::Alert(a) = f.parse(&AlertText::new("ALERT BAD", "x\nhost=h1\nservice=s1\n"))
        else {
            panic!()
        };
        assert_eq!(a.key().as_str(), "h1/s1");
        assert!(matches!(
            f.parse(&AlertText::new("ALERT MEH", "host=h1\nservice=s1")),
            Parsed::Other(_)
        ));
        assert_eq!(f.parse(&AlertText::new("ALERT BAD", "nothing")), Parsed::No);
    }

    #[test]
    fn mistakes_are_named() {
        let s = states(&["X"]);
        assert_eq!(
            CustomFormat::new(None, None, &s, &s).unwrap_err(),
            CustomFormatError::NoRegex
        );
        assert!(matches!(
            CustomFormat::new(Some("(?P<host>"), None, &s, &s).unwrap_err(),
            CustomFormatError::BadRegex { .. }
        ));
        assert_eq!(
            CustomFormat::new(Some("(?P<host>.+) (?P<state>.+)"), Some("plain"), &s, &s)
                .unwrap_err(),
            CustomFormatError::NoGroup {
                which: "body_regex"
            }
        );
        assert_eq!(
            CustomFormat::new(Some("(?P<host>.+) (?P<state>.+)"), None, &s, &s).unwrap_err(),
            CustomFormatError::MissingGroup { group: "service" }
        );
        assert_eq!(
            CustomFormat::new(
                Some("(?P<host>.) (?P<service>.) (?P<state>.)"),
                None,
                &[],
                &s
            )
            .unwrap_err(),
            CustomFormatError::NoStates
        );
    }

    #[test]
    fn a_pathological_pattern_runs_in_linear_time() {
        let f = CustomFormat::new(
            Some(r"(?P<host>(a+)+)b (?P<service>x) (?P<state>y)"),
            None,
            &states(&["Y"]),
            &states(&["Z"]),
        )
        .unwrap();
        let subject = "a".repeat(1000);
        let started = std::time::Instant::now();
        assert_eq!(f.parse(&AlertText::new(&subject, "")), Parsed::No);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
