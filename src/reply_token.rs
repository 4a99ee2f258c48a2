//! Reply tokens for plus-addresses (`support+<token>@example.test`, SPEC 2.4.2): the token
//! names a ticket and carries an HMAC so that nobody can forge one for another ticket.
//!
//! Format: `<ticket number>.<first 12 bytes of HMAC-SHA256(key, "reply:<number>") in hex>`.
//!
//! Agent tokens (`<number>.a<hex>`, HMAC over `agent:<number>:<address>`) are signed for one
//! agent and one ticket: mail to such an address from that agent is authenticated as theirs
//! (SPEC 6: an agent's mail is relayed to customers only when authenticated).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::EmailAddress;

/// What an agent token signs: the ticket and the agent's address (in lower case).
fn agent_message(ticket_number: i64, agent: &EmailAddress) -> String {
    format!(
        "agent:{ticket_number}:{}",
        agent.as_str().to_ascii_lowercase()
    )
}

#[derive(Clone)]
pub struct ReplyTokens {
    key: Secret,
}

impl ReplyTokens {
    pub fn new(key: Secret) -> Self {
        Self { key }
    }

    pub fn token_for(&self, ticket_number: i64) -> String {
        format!("{ticket_number}.{}", hex::encode(self.mac(ticket_number)))
    }

    /// The ticket number a token names, when its MAC verifies (in constant time).
    pub fn verify(&self, token: &str) -> Option<i64> {
        let (number, mac_hex) = token.split_once('.')?;
        let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
        let given = hex::decode(mac_hex.to_ascii_lowercase()).ok()?;
        let mut mac = self.hmac()?;
        mac.update(format!("reply:{number}").as_bytes());
        mac.verify_truncated_left(&given).ok()?;
        (given.len() == 12).then_some(number)
    }

    /// The token of the reply address given to `agent` for ticket `ticket_number`.
    pub fn agent_token_for(&self, ticket_number: i64, agent: &EmailAddress) -> String {
        let mac = self
            .hmac()
            .map(|mut mac| {
                mac.update(agent_message(ticket_number, agent).as_bytes());
                mac.finalize().into_bytes()[..12].to_vec()
            })
            .unwrap_or_default();
        format!("{ticket_number}.a{}", hex::encode(mac))
    }

    /// The ticket an agent token names, when it was signed for `sender` (constant time).
    pub fn verify_agent(&self, token: &str, sender: &EmailAddress) -> Option<i64> {
        let (number, rest) = token.split_once('.')?;
        let mac_hex = rest.strip_prefix(['a', 'A'])?;
        let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
        let given = hex::decode(mac_hex.to_ascii_lowercase()).ok()?;
        if given.len() != 12 {
            return None;
        }
        let mut mac = self.hmac()?;
        mac.update(agent_message(number, sender).as_bytes());
        mac.verify_truncated_left(&given).ok()?;
        Some(number)
    }

    fn mac(&self, ticket_number: i64) -> Vec<u8> {
        match self.hmac() {
            Some(mut mac) => {
                mac.update(format!("reply:{ticket_number}").as_bytes());
                mac.finalize().into_bytes()[..12].to_vec()
            }
            None => Vec::new(),
        }
    }

    fn hmac(&self) -> Option<Hmac<Sha256>> {
        Hmac::<Sha256>::new_from_slice(self.key.expose().as_bytes()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forgery() {
        let t = ReplyTokens::new(Secret::new("k1"));
        let token = t.token_for(42);
        assert_eq!(t.verify(&token), Some(42));
        assert_eq!(
            t.verify(&token.to_uppercase()),
            Some(42),
            "mail systems may change case"
        );
        let other = ReplyTokens::new(Secret::new("k2"));
        assert_eq!(other.verify(&token), None);
        let forged = token.replacen("42.", "43.", 1);
        assert_eq!(t.verify(&forged), None);
        assert_eq!(t.verify("42"), None);
        assert_eq!(t.verify("42.00"), None, "a truncated MAC does not verify");
        assert_eq!(t.verify("x.abcdef"), None);
    }

    #[test]
    fn agent_tokens_are_for_one_agent_and_one_ticket() {
        let t = ReplyTokens::new(Secret::new("k1"));
        let ann = EmailAddress::parse("ann@agents.example.test").unwrap();
        let bob = EmailAddress::parse("bob@agents.example.test").unwrap();
        let token = t.agent_token_for(7, &ann);
        assert!(token.starts_with("7.a"), "{token}");
        assert_eq!(t.verify_agent(&token, &ann), Some(7));
        let upper = EmailAddress::parse("ANN@Agents.Example.Test").unwrap();
        assert_eq!(t.verify_agent(&token.to_uppercase(), &upper), Some(7));
        assert_eq!(t.verify_agent(&token, &bob), None, "another agent");
        assert_eq!(t.verify_agent(&token.replacen("7.", "8.", 1), &ann), None);
        assert_eq!(t.verify(&token), None, "not a customer token");
        assert_eq!(
            t.verify_agent(&t.token_for(7), &ann),
            None,
            "not an agent token"
        );
        let other = ReplyTokens::new(Secret::new("k2"));
        assert_eq!(other.verify_agent(&token, &ann), None);
        assert_eq!(t.verify_agent(&token[..token.len() - 2], &ann), None);
    }

    #[test]
    fn ticket_zero_and_negative_numbers_never_verify() {
        let t = ReplyTokens::new(Secret::new("k1"));
        let ann = EmailAddress::parse("ann@agents.example.test").unwrap();
        for n in [0, -1] {
            assert_eq!(t.verify(&t.token_for(n)), None, "{n}");
            assert_eq!(
                t.verify_agent(&t.agent_token_for(n, &ann), &ann),
                None,
                "{n}"
            );
        }
        assert_eq!(t.verify(&t.token_for(1)), Some(1));
        assert_eq!(t.verify_agent(&t.agent_token_for(1, &ann), &ann), Some(1));
    }
}
