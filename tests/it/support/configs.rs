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

/// The `[smtp]` of the test mail stack (fast retries) and `[notify]` with one technician:
/// what a `mailgate run` needs to deliver staff mail into a stack user's INBOX. `extra` is
/// appended.
pub fn stack_sender_config(smtp_port: u16, technician: &str, extra: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout_secs = 5\n\
         retry_base_secs = 1\nretry_max_secs = 1\n\n\
         [notify]\ntechnicians = [{}]\n\n{extra}",
        toml::Value::String(technician.to_string())
    )
}
