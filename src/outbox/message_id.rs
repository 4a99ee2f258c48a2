//! Message-IDs that mailgate generates for its own mail and can verify when they come back
//! (in a bounce, an autoresponder's answer, or our own mail looping in).
//!
//! Format: `<PREFIX-n>.<nonce>.<mac>@<domain>`, for example
//! `SUP-12.n1700000000.42.3f9c…@example.test`, where `mac` is the first 16 bytes (32 hex digits)
//! of HMAC-SHA256(key, `"message-id:" + "<PREFIX-n>.<nonce>"`). The domain is not signed: an
//! installation that changes its support domain still recognises the ids it sent before. The
//! `"message-id:"` label keeps these MACs distinct from the reply tokens of
//! [`crate::reply_token`], which use the same key.
//!
//! The nonce makes each id unique; the caller provides it (for example `n<unix time>.<outbox
//! row id>`, see [`OwnMessageIds::nonce`]), so generating stays pure and testable.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::{MessageId, TicketRef};

/// Bytes of the HMAC kept in the Message-ID.
const MAC_BYTES: usize = 16;
/// Longest nonce accepted; keeps the whole id far below the 900-character limit of [`MessageId`].
const MAX_NONCE_LEN: usize = 64;

/// Why a Message-ID could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnMessageIdError {
    #[error("Message-ID nonce {0:?} must be 1 to 64 characters of A-Z a-z 0-9 . - _")]
    BadNonce(String),
    #[error("Message-ID domain {0:?} is empty or contains characters not allowed in a Message-ID")]
    BadDomain(String),
}

/// Generates and verifies mailgate's own Message-IDs with the installation's HMAC key.
#[derive(Clone)]
pub struct OwnMessageIds {
    key: Secret,
}

impl OwnMessageIds {
    pub fn new(key: Secret) -> Self {
        Self { key }
    }

    /// A nonce from a send time and a per-installation counter (such as the outbox row id).
    pub fn nonce(unix_seconds: i64, counter: u64) -> String {
        format!("n{unix_seconds}.{counter}")
    }

    /// The signed Message-ID of one outgoing mail about `ticket`.
    pub fn generate(
        &self,
        ticket: &TicketRef,
        nonce: &str,
        domain: &str,
    ) -> Result<MessageId, OwnMessageIdError> {
        let nonce_ok = !nonce.is_empty()
            && nonce.len() <= MAX_NONCE_LEN
            && nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !nonce_ok {
            return Err(OwnMessageIdError::BadNonce(nonce.to_string()));
        }
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':')
            });
        if !domain_ok {
            return Err(OwnMessageIdError::BadDomain(domain.to_string()));
        }
        let left = format!("{ticket}.{nonce}");
        let mac = hex::encode(self.mac(&left));
        MessageId::parse(&format!("{left}.{mac}@{}", domain.to_ascii_lowercase()))
            .map_err(|_| OwnMessageIdError::BadDomain(domain.to_string()))
    }

    /// The ticket number named by one of our Message-IDs, when its MAC verifies (constant-time
    /// comparison). Foreign, truncated or tampered ids give `None`.
    pub fn verify(&self, id: &MessageId) -> Option<i64> {
        let (left, _domain) = id.as_str().rsplit_once('@')?;
        let (signed, mac_hex) = left.rsplit_once('.')?;
        if mac_hex.len() != MAC_BYTES * 2 {
            return None;
        }
        let given = hex::decode(mac_hex).ok()?;
        let (ticket, nonce) = signed.split_once('.')?;
        if nonce.is_empty() {
            return None;
        }
        let (_prefix, number) = ticket.rsplit_once('-')?;
        if number.is_empty() || number.len() > 15 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
        let mut mac = self.hmac()?;
        mac.update(b"message-id:");
        mac.update(signed.as_bytes());
        mac.verify_truncated_left(&given).ok()?;
        Some(number)
    }

    fn mac(&self, signed: &str) -> Vec<u8> {
        match self.hmac() {
            Some(mut mac) => {
                mac.update(b"message-id:");
                mac.update(signed.as_bytes());
                mac.finalize().into_bytes()[..MAC_BYTES].to_vec()
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

    fn ids(key: &str) -> OwnMessageIds {
        OwnMessageIds::new(Secret::new(key))
    }

    fn sup(n: i64) -> TicketRef {
        TicketRef::new("SUP", n)
    }

    #[test]
    fn generated_ids_have_the_documented_shape() {
        let id = ids("k1")
            .generate(
                &sup(12),
                &OwnMessageIds::nonce(1_700_000_000, 42),
                "Example.TEST",
            )
            .unwrap();
        let s = id.as_str();
        assert!(s.starts_with("SUP-12.n1700000000.42."), "{s}");
        assert!(s.ends_with("@example.test"), "{s}");
        let mac = s.rsplit_once('@').unwrap().0.rsplit_once('.').unwrap().1;
        assert_eq!(mac.len(), 32);
        assert!(MessageId::parse(&id.bracketed()).is_ok());
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let g = ids("k1");
        for (n, nonce, domain) in [
            (1, "a", "example.test"),
            (12, "n1700000000.1", "mail.example.test"),
            (999_999, "x-y_z.1.2.3", "[192.0.2.1]"),
        ] {
            let id = g.generate(&sup(n), nonce, domain).unwrap();
            assert_eq!(g.verify(&id), Some(n), "{id}");
            assert_eq!(g.generate(&sup(n), nonce, domain).unwrap(), id);
        }
        let a = g.generate(&sup(1), "n1.1", "example.test").unwrap();
        let b = g.generate(&sup(1), "n1.2", "example.test").unwrap();
        assert_ne!(a, b, "different nonces give different ids");
    }

    #[test]
    fn rejects_bad_input() {
        let g = ids("k1");
        for nonce in ["", "a b", "a\r\nb", "a@b", "<x>", "ä", &"x".repeat(65)] {
            assert!(
                matches!(
                    g.generate(&sup(1), nonce, "example.test"),
                    Err(OwnMessageIdError::BadNonce(_))
                ),
                "{nonce:?}"
            );
        }
        for domain in ["", "exa mple.test", "example.test>", "a@b", "x\n"] {
            assert!(
                matches!(
                    g.generate(&sup(1), "n", domain),
                    Err(OwnMessageIdError::BadDomain(_))
                ),
                "{domain:?}"
            );
        }
    }

    #[test]
    fn tampered_and_foreign_ids_do_not_verify() {
        let g = ids("k1");
        let id = g
            .generate(&sup(12), "n1700000000.7", "example.test")
            .unwrap();
        let s = id.as_str().to_string();
        let mac = s.rsplit_once('@').unwrap().0.rsplit_once('.').unwrap().1;
        let mut flipped = mac.to_string();
        let last = if flipped.ends_with('0') { "1" } else { "0" };
        flipped.replace_range(31.., last);
        let cases = [
            s.replacen("SUP-12.", "SUP-13.", 1),
            s.replacen("SUP-12.", "OPS-12.", 1),
            s.replacen("n1700000000.7", "n1700000000.8", 1),
            s.replacen(mac, &flipped, 1),
            s.replacen(mac, &mac[..30], 1),
            s.replacen(mac, &format!("{mac}00"), 1),
            s.replacen(mac, "zz", 1),
            "CAF3=x+y@mail.gmail.com".to_string(),
            "SUP-12@example.test".to_string(),
            "SUP-12..0123456789abcdef0123456789abcdef@example.test".to_string(),
            "12.n.0123456789abcdef0123456789abcdef@example.test".to_string(),
            "no-at-sign".to_string(),
        ];
        for case in cases {
            let id = MessageId::parse(&case).unwrap();
            assert_eq!(g.verify(&id), None, "{case}");
        }
        assert_eq!(ids("k2").verify(&id), None, "another installation's key");
    }

    #[test]
    fn domain_is_not_signed() {
        let g = ids("k1");
        let id = g.generate(&sup(5), "n1", "old.example.test").unwrap();
        let moved = MessageId::parse(&id.as_str().replace("old.example.test", "new.test")).unwrap();
        assert_eq!(g.verify(&moved), Some(5));
    }

    #[test]
    fn macs_differ_from_reply_tokens() {
        // Same key, different label: a reply token's MAC never appears in a Message-ID.
        let key = Secret::new("k1");
        let token = crate::reply_token::ReplyTokens::new(key.clone()).token_for(12);
        let id = OwnMessageIds::new(key)
            .generate(&sup(12), "n1", "example.test")
            .unwrap();
        let token_mac = token.split_once('.').unwrap().1;
        assert!(!id.as_str().contains(token_mac));
    }
}
