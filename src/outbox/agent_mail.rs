//! Agent replies by mail (SPEC 6), the pure part: an agent (an address matching `[notify]
//! agents`) answers ticket mail from their own mail client; the answer is stored on the ticket
//! like any mail and relayed to the customer from the support address.
//!
//! [`agent_relay`] decides whether a mail is relayed and what the customer reads: the reply
//! text the parser already trimmed (quoted history and a `-- ` signature removed, see
//! `crate::parse::reply`), minus every line that shows the agent's address, minus the sign-off
//! block that names the agent (their name, first name or address) at the end. The relay is
//! never made for machine mail (bounces, auto-replies) and never for mail that leaves nothing
//! to say. Recipients are those of an `agent_reply` (requester, Cc, primary contact; never
//! staff, see `recipients`), In-Reply-To the newest customer mail of the ticket. The agent's
//! files go with it, never the images of their signature (see `super::attachments`).

use crate::domain::{AddressPatterns, Classification, EmailAddress, InboundEmail};

/// An agent's mail that is to be relayed to the ticket's customers.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRelay {
    pub ticket: i64,
    pub agent: EmailAddress,
    /// What the customer reads (see [`relay_body`]).
    pub body: String,
    /// The agent's files, signature images included: which are sent is decided with the size
    /// limit when the relay is enqueued (`super::attachments::relayed`).
    pub attachments: Vec<crate::domain::Attachment>,
}

/// The sign-off block looked at: at most this many lines at the end of the text.
const SIGN_OFF_LINES: usize = 8;

/// Whether `email` (threaded onto `ticket` as `classification`) is relayed, and with which body.
pub fn agent_relay(
    email: &InboundEmail,
    classification: &Classification,
    ticket: i64,
    agents: &AddressPatterns,
) -> Option<AgentRelay> {
    let agent = &email.from.address;
    if !agents.matches(agent) || classification.is_machine_generated() {
        return None;
    }
    let body = relay_body(&email.reply_text, agent, email.from.name.as_deref());
    if body.trim().is_empty() {
        return None;
    }
    Some(AgentRelay {
        ticket,
        agent: agent.clone(),
        body,
        attachments: email.attachments.clone(),
    })
}

/// `reply_text` without the agent's address anywhere and without the sign-off that names the
/// agent at its end (from the first line of the last lines that names them).
pub fn relay_body(reply_text: &str, agent: &EmailAddress, name: Option<&str>) -> String {
    let address = agent.as_str().to_ascii_lowercase();
    let local = agent.local_part().to_ascii_lowercase();
    let names = names_of(name, &local);
    let mut lines: Vec<&str> = reply_text
        .lines()
        .filter(|l| !l.to_ascii_lowercase().contains(&address))
        .collect();
    // The sign-off: the first line naming the agent among the last few lines.
    let start = lines.len().saturating_sub(SIGN_OFF_LINES);
    if let Some(i) = (start..lines.len()).find(|&i| names_agent(lines[i], &names)) {
        lines.truncate(i);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    lines.join("\n")
}

/// The names a sign-off may use: the display name and the name spelt in the local part
/// (`ann.smith` → `ann smith`), each also by its first word, all lower case.
fn names_of(name: Option<&str>, local: &str) -> Vec<String> {
    let spelt = local.replace(['.', '_', '-'], " ");
    let mut names = Vec::new();
    for name in name.map(str::trim).into_iter().chain([spelt.as_str()]) {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.chars().count() < 2 {
            continue;
        }
        let name = name.to_lowercase();
        if let Some(first) = name.split(' ').next()
            && first.chars().count() >= 2
        {
            names.push(first.to_string());
        }
        names.push(name);
    }
    names
}

/// A line that is the agent's name (possibly after a dash or with a title after a comma).
fn names_agent(line: &str, names: &[String]) -> bool {
    let line = line
        .trim()
        .trim_start_matches(['-', '–', '—', '~', ' '])
        .to_lowercase();
    let head = line
        .split([',', '|', '('])
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches(['.', '!']);
    !head.is_empty() && names.iter().any(|n| head == n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{addr, email};
    use crate::domain::{Mailbox, test_support::mid};

    fn agents() -> AddressPatterns {
        AddressPatterns::new(&["*@agents.example.test"]).unwrap()
    }

    #[test]
    fn address_and_sign_off_are_removed() {
        let agent = addr("ann.smith@agents.example.test");
        let text = "Hello Jane,\n\nplease restart the printer.\n\nBest regards,\nAnn Smith\n\
                    Second-level support\nann.smith@agents.example.test | +1 555 0100";
        assert_eq!(
            relay_body(text, &agent, Some("Ann Smith")),
            "Hello Jane,\n\nplease restart the printer.\n\nBest regards,"
        );
        // First name only, with a dash; no display name at all (spelt in the local part).
        let text = "Fixed now.\n\nCheers\n- Ann";
        assert_eq!(
            relay_body(text, &agent, Some("Ann Smith")),
            "Fixed now.\n\nCheers"
        );
        let text = "Fixed now.\nAnn Smith, Acme Support";
        assert_eq!(relay_body(text, &agent, None), "Fixed now.");
        assert_eq!(relay_body("Fixed now.\n\nAnn", &agent, None), "Fixed now.");
        // Mentions of the address inside the text go too, other text stays.
        let text = "Write to ANN.SMITH@agents.example.test if it recurs.\nAnnie will call.";
        assert_eq!(
            relay_body(text, &agent, Some("Ann Smith")),
            "Annie will call."
        );
        // A name in the middle of a long answer is not a sign-off.
        let long = format!("Ann\n{}", "line\n".repeat(12));
        assert!(relay_body(&long, &agent, Some("Ann Smith")).starts_with("Ann\n"));
    }

    #[test]
    fn relayed_only_for_a_persons_mail_from_an_agent() {
        let mut e = email("ann@agents.example.test", "Re: [SUP-1] Printer");
        e.from = Mailbox::parse("Ann <ann@agents.example.test>").unwrap();
        e.in_reply_to = vec![mid("c1@acme.test")];
        e.reply_text = "Try again now.\n\nAnn\nann@agents.example.test".into();
        let r = agent_relay(&e, &Classification::Plain, 1, &agents()).unwrap();
        assert_eq!(r.body, "Try again now.");
        assert_eq!(r.ticket, 1);
        assert_eq!(r.agent, addr("ann@agents.example.test"));
        for machine in [
            Classification::Automatic("Auto-Submitted: auto-replied".into()),
            Classification::Bounce("multipart/report".into()),
        ] {
            assert_eq!(agent_relay(&e, &machine, 1, &agents()), None, "{machine:?}");
        }
        let mut customer = e.clone();
        customer.from = Mailbox::parse("jane@acme.test").unwrap();
        assert_eq!(
            agent_relay(&customer, &Classification::Plain, 1, &agents()),
            None
        );
        let mut empty = e.clone();
        empty.reply_text = "Ann\nann@agents.example.test".into();
        assert_eq!(
            agent_relay(&empty, &Classification::Plain, 1, &agents()),
            None,
            "nothing left to say"
        );
    }
}
