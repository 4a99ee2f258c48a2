//! The priority of an alert's ticket, from its state (SPEC 7): by default `CRITICAL`, `DOWN`,
//! Zabbix's `Disaster` and Alertmanager's `severity=critical` are critical; `WARNING`,
//! `UNREACHABLE`, Zabbix's `High` and `Average` are high; anything else normal. An entry's
//! `priorities = { UNKNOWN = "high" }` adds to or overrides these (names ignore case).

use std::collections::BTreeMap;

use crate::domain::Priority;

use super::Alert;

/// State (or severity) word, lower case → priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityMap(BTreeMap<String, Priority>);

const DEFAULTS: [(&str, Priority); 7] = [
    ("critical", Priority::Critical),
    ("down", Priority::Critical),
    ("disaster", Priority::Critical),
    ("warning", Priority::High),
    ("unreachable", Priority::High),
    ("high", Priority::High),
    ("average", Priority::High),
];

impl Default for PriorityMap {
    fn default() -> Self {
        PriorityMap(
            DEFAULTS
                .iter()
                .map(|(word, p)| (word.to_string(), *p))
                .collect(),
        )
    }
}

impl PriorityMap {
    /// The defaults with `overrides` (state → priority) on top.
    pub fn with<'a>(overrides: impl IntoIterator<Item = (&'a str, Priority)>) -> PriorityMap {
        let mut map = PriorityMap::default();
        for (word, p) in overrides {
            map.0.insert(word.trim().to_lowercase(), p);
        }
        map
    }

    /// The alert's severity decides when it maps to a priority, else its state; else normal.
    pub fn priority_of(&self, alert: &Alert) -> Priority {
        let look = |w: &str| self.0.get(&w.trim().to_lowercase()).copied();
        alert
            .severity
            .as_deref()
            .and_then(look)
            .or_else(|| look(&alert.state))
            .unwrap_or(Priority::Normal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;

    fn alert(state: &str, severity: Option<&str>) -> Alert {
        Alert::new("h", Some("s"), state, AlertKind::Problem, severity).unwrap()
    }

    #[test]
    fn defaults() {
        let m = PriorityMap::default();
        assert_eq!(m.priority_of(&alert("CRITICAL", None)), Priority::Critical);
        assert_eq!(m.priority_of(&alert("DOWN", None)), Priority::Critical);
        assert_eq!(m.priority_of(&alert("WARNING", None)), Priority::High);
        assert_eq!(m.priority_of(&alert("UNKNOWN", None)), Priority::Normal);
        assert_eq!(
            m.priority_of(&alert("firing", Some("critical"))),
            Priority::Critical
        );
        assert_eq!(
            m.priority_of(&alert("firing", Some("warning"))),
            Priority::High
        );
        assert_eq!(m.priority_of(&alert("firing", None)), Priority::Normal);
        assert_eq!(
            m.priority_of(&alert("Disaster", Some("Disaster"))),
            Priority::Critical
        );
        assert_eq!(
            m.priority_of(&alert("Information", Some("Information"))),
            Priority::Normal
        );
    }

    #[test]
    fn overrides_win() {
        let m = PriorityMap::with([("UNKNOWN", Priority::High), ("Warning", Priority::Low)]);
        assert_eq!(m.priority_of(&alert("unknown", None)), Priority::High);
        assert_eq!(m.priority_of(&alert("WARNING", None)), Priority::Low);
        assert_eq!(m.priority_of(&alert("CRITICAL", None)), Priority::Critical);
    }
}
