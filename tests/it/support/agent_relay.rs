//! A [`PollerTest`] set up as a support desk that relays an agent's mail to customers over
//! the real stack (the end-to-end tests of agent relays, their trust and their files).

use super::{MailStack, MailboxToml, PollerTest, RunningGate};

impl PollerTest {
    /// Configures this installation as a support desk that relays its agent's mail: the
    /// user's address as the support address, plus-address tokens signed with `secret`, the
    /// stack's SMTP for the outbox, `agent` as the one agent, and the stack's
    /// Authentication-Results (`mx.example.test`) trusted. Then starts `mailgate run`.
    pub async fn start_relaying_for(&self, agent: &str, secret: &[u8]) -> RunningGate {
        let stack = MailStack::get();
        let s = |v: &str| toml::Value::String(v.to_string()).to_string();
        let key = self.app.write_file("hmac.key", secret);
        let tickets = format!(
            "support_address = {}\nsecret_file = {}\n",
            s(&format!("Support <{}>", self.user.address)),
            s(&key.display().to_string())
        );
        let extra = format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 5\n\
             retry_base_secs = 1\nretry_max_secs = 1\n\n[notify]\nagents = [{}]\n\n\
             [security]\ntrusted_authserv_ids = [\"mx.example.test\"]\n",
            stack.smtp_port,
            s(agent),
        );
        let mailbox = MailboxToml::for_user(stack, &self.user);
        self.configure_with(std::slice::from_ref(&mailbox), &tickets, &extra);
        self.start_connected().await
    }
}
