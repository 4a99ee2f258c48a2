//! `MessageId`: the id-left@id-right of a Message-ID header, without angle brackets.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageIdError {
    #[error("empty Message-ID")]
    Empty,
    #[error("Message-ID longer than 900 characters")]
    TooLong,
    #[error("Message-ID {0:?} contains whitespace or control characters")]
    BadCharacter(String),
}

/// A Message-ID as stored and compared: trimmed, without `<` `>`, case preserved (the left
/// part of a Message-ID is case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    pub fn parse(input: &str) -> Result<Self, MessageIdError> {
        let s = input.trim();
        let s = s.strip_prefix('<').unwrap_or(s);
        let s = s.strip_suffix('>').unwrap_or(s).trim();
        if s.is_empty() {
            return Err(MessageIdError::Empty);
        }
        if s.len() > 900 {
            return Err(MessageIdError::TooLong);
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(MessageIdError::BadCharacter(s.to_string()));
        }
        Ok(Self(s.to_string()))
    }

    /// The stable id given to a message that has none: a hash of its raw bytes, so that the
    /// same message imported twice gets the same id and is recognised as a duplicate.
    pub fn synthetic(raw: &[u8]) -> Self {
        let digest = Sha256::digest(raw);
        Self(format!(
            "{}@synthetic.mailgate.invalid",
            hex::encode(&digest[..16])
        ))
    }

    /// [`MessageId::synthetic`] of the bytes whose SHA-256 is `raw_sha256` (lower-case hex, as
    /// stored): the same id, from the hash alone.
    pub fn synthetic_for_sha256(raw_sha256: &str) -> Self {
        let prefix = raw_sha256.get(..32).unwrap_or(raw_sha256);
        Self(format!("{prefix}@synthetic.mailgate.invalid"))
    }

    pub fn is_synthetic(&self) -> bool {
        self.0.ends_with("@synthetic.mailgate.invalid")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The header form, `<id>`.
    pub fn bracketed(&self) -> String {
        format!("<{}>", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MessageId {
    type Error = MessageIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MessageId> for String {
    fn from(value: MessageId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_brackets_keeps_case() {
        let id = MessageId::parse(" <AbC.123@Mail.Example> ").unwrap();
        assert_eq!(id.as_str(), "AbC.123@Mail.Example");
        assert_eq!(id.bracketed(), "<AbC.123@Mail.Example>");
    }

    #[test]
    fn rejects_empty_and_spaces() {
        assert_eq!(MessageId::parse("<>"), Err(MessageIdError::Empty));
        assert!(matches!(
            MessageId::parse("a b@c"),
            Err(MessageIdError::BadCharacter(_))
        ));
    }

    #[test]
    fn synthetic_is_stable_and_distinct() {
        let a = MessageId::synthetic(b"Subject: x\r\n\r\nbody");
        let b = MessageId::synthetic(b"Subject: x\r\n\r\nbody");
        let c = MessageId::synthetic(b"Subject: y\r\n\r\nbody");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.is_synthetic());
        assert!(MessageId::parse(a.as_str()).is_ok());
        let raw = b"Subject: x\r\n\r\nbody";
        let sha = hex::encode(Sha256::digest(raw));
        assert_eq!(
            MessageId::synthetic_for_sha256(&sha),
            a,
            "from the hash alone"
        );
    }
}
