//! Reply tokens for plus-addresses (`support+<token>@example.test`, SPEC 2.4.2): the token
//! names a ticket and carries an HMAC so that nobody can forge one for another ticket.
//!
//! Format: `<ticket number>.<first 12 bytes of HMAC-SHA256(key, "reply:<number>") in hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

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
}
