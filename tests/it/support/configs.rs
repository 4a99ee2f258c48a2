//! Configs several test modules start from.

/// A support mailbox and an escalation mailbox to which tier 1 (`*@tier1.example.test`) may
/// write: the smallest config where the mailbox a mail arrives at decides what it is.
pub const ESCALATION_CONFIG: &str = r#"
[[mailboxes]]
name = "support"
role = "support"

[[mailboxes]]
name = "escalations"
role = "escalation"

[escalation]
allowed_senders = ["*@tier1.example.test"]
"#;
