//! What a mailbox is for (SPEC 10, `[[mailboxes]] role`): the support desk's own mail, or
//! escalations judged by the gate (SPEC 4). Its own file so that the file format
//! (`config::file`) and the escalation rules (`config::escalation`) both use it without
//! importing each other.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Customers' mail: tickets are created and threaded (the default).
    #[default]
    Support,
    /// Escalations from first-line support, judged by the escalation gate.
    Escalation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        role: Role,
    }

    #[test]
    fn a_mailbox_without_a_role_is_a_support_mailbox() {
        let entry: Entry = toml::from_str("").unwrap();
        assert_eq!(entry.role, Role::Support);
        let entry: Entry = toml::from_str("role = \"escalation\"").unwrap();
        assert_eq!(entry.role, Role::Escalation);
        assert!(toml::from_str::<Entry>("role = \"Escalation\"").is_err());
    }
}
