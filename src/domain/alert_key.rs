//! `AlertKey`: what the ticket of a monitoring alert is found by (SPEC 7): host and service,
//! normalised, so that the pure core (`alerts`), the pipeline and the store speak of one value.

use std::fmt;

/// What the ticket of an alert is found by: host and service, lower case (`db1/disk`; a host
/// alert: `db1`). Two mails about the same host and service have the same key, whatever the
/// case or spacing their tool wrote.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey(String);

impl AlertKey {
    pub fn new(host: &str, service: Option<&str>) -> AlertKey {
        let host = normalise(host);
        match service.map(normalise).filter(|s| !s.is_empty()) {
            Some(service) => AlertKey(format!("{host}/{service}")),
            None => AlertKey(host),
        }
    }

    /// A key as stored (`alert_keys.key`).
    pub fn from_stored(key: String) -> AlertKey {
        AlertKey(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower case, inner whitespace collapsed to one space, trimmed.
fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_spacing() {
        assert_eq!(
            AlertKey::new(" DB1 ", Some("Disk  Usage")),
            AlertKey::new("db1", Some("disk usage"))
        );
        assert_eq!(AlertKey::new("db1", None).as_str(), "db1");
        assert_eq!(AlertKey::new("db1", Some(" ")).as_str(), "db1");
        assert_eq!(AlertKey::new("db1", Some("disk")).as_str(), "db1/disk");
    }
}
