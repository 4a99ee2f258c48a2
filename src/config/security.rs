//! `[security]`: whose word mailgate takes (SPEC 2, Trust; SECURITY.md).
//!
//! ```toml
//! [security]
//! trusted_authserv_ids = ["mx.example.test"]   # the authserv-id our receiving server writes
//! ```
//!
//! Only the topmost `Authentication-Results` header of one of these ids is believed (see
//! `crate::trust`). With none, no such header is believed at all, so
//! `escalation.require_dmarc_pass` cannot be satisfied and is a configuration error.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityFile {
    #[serde(default)]
    pub trusted_authserv_ids: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecuritySettings {
    /// Lower case host names (authserv-ids) of our own receiving servers.
    pub trusted_authserv_ids: Vec<String>,
}

pub(super) fn security_settings(
    raw: &SecurityFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> SecuritySettings {
    let mut trusted_authserv_ids = Vec::new();
    for id in &raw.trusted_authserv_ids {
        let text = id.get_ref().trim();
        if !valid_authserv_id(text) {
            issue(
                Some(id.span()),
                format!(
                    "security.trusted_authserv_ids: {text:?} is not an authserv-id (the host \
                     name the receiving server writes first in Authentication-Results, e.g. \
                     \"mx.example.test\")"
                ),
            );
            continue;
        }
        trusted_authserv_ids.push(text.to_ascii_lowercase());
    }
    SecuritySettings {
        trusted_authserv_ids,
    }
}

/// A host-name-like token: no spaces, no `;`, `=`, quotes or parentheses.
fn valid_authserv_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_lower_cased() {
        let raw: SecurityFile =
            toml::from_str("trusted_authserv_ids = [\"MX.Example.test\", \"a b\", \"x;y\", \"\"]")
                .unwrap();
        let mut problems = Vec::new();
        let s = security_settings(&raw, &mut |_, m| problems.push(m));
        assert_eq!(s.trusted_authserv_ids, ["mx.example.test"]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("\"a b\""), "{problems:?}");
    }
}
