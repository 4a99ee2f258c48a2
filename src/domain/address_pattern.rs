//! `AddressPatterns`: a list of address globs such as `*@tier1.example.test`, used for agents,
//! allowed escalation senders and the like. Matching is case-insensitive.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::EmailAddress;

#[derive(Debug, Clone)]
pub struct AddressPatterns {
    patterns: Vec<String>,
    set: GlobSet,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address pattern {pattern:?}: {error}")]
pub struct PatternError {
    pub pattern: String,
    pub error: String,
}

impl AddressPatterns {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            let p = p.as_ref().trim();
            let glob = GlobBuilder::new(&p.to_lowercase())
                .literal_separator(false)
                .build()
                .map_err(|e| PatternError {
                    pattern: p.to_string(),
                    error: e.kind().to_string(),
                })?;
            if !p.contains('@') {
                return Err(PatternError {
                    pattern: p.to_string(),
                    error: "an address pattern needs an '@' (for a whole domain: *@domain)".into(),
                });
            }
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| PatternError {
            pattern: String::new(),
            error: e.to_string(),
        })?;
        Ok(Self {
            patterns: patterns
                .iter()
                .map(|p| p.as_ref().trim().to_string())
                .collect(),
            set,
        })
    }

    pub fn empty() -> Self {
        Self {
            patterns: Vec::new(),
            set: GlobSet::empty(),
        }
    }

    pub fn matches(&self, address: &EmailAddress) -> bool {
        !self.patterns.is_empty() && self.set.is_match(address.as_str())
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn domain_glob_case_insensitive() {
        let p = AddressPatterns::new(&["*@Agents.Example.test", "boss@acme.test"]).unwrap();
        assert!(p.matches(&addr("ann@agents.example.test")));
        assert!(p.matches(&addr("BOSS@acme.test")));
        assert!(!p.matches(&addr("ann@evil-agents.example.test.attacker")));
        assert!(!p.matches(&addr("ann@sub.agents.example.test.evil")));
        assert!(!p.matches(&addr("other@acme.test")));
    }

    #[test]
    fn rejects_patterns_without_at() {
        assert!(AddressPatterns::new(&["agents.example.test"]).is_err());
        assert!(AddressPatterns::new(&["[*@x"]).is_err());
    }

    #[test]
    fn empty_matches_nothing() {
        assert!(!AddressPatterns::empty().matches(&addr("a@b.test")));
    }
}
