//! `EmailAddress`: an addr-spec that has been checked and normalised (lower case), and
//! `Mailbox`: an address with its optional display name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("empty address")]
    Empty,
    #[error("address is longer than 254 characters")]
    TooLong,
    #[error("address {0:?} has no single '@' between a local part and a domain")]
    NoAt(String),
    #[error("address {0:?} contains whitespace, control characters or brackets")]
    BadCharacter(String),
    #[error("address {0:?} has an invalid domain")]
    BadDomain(String),
}

/// A normalised email address (`local@domain`, lower case). Comparison is exact on the
/// normalised form, so `Jane@ACME.test` and `jane@acme.test` are the same participant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.len() > 254 {
            return Err(AddressError::TooLong);
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        {
            return Err(AddressError::BadCharacter(s.to_string()));
        }
        let (local, domain) = s
            .rsplit_once('@')
            .filter(|(l, d)| !l.is_empty() && !d.is_empty())
            .ok_or_else(|| AddressError::NoAt(s.to_string()))?;
        let domain_ok = !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !domain_ok {
            return Err(AddressError::BadDomain(s.to_string()));
        }
        Ok(Self(format!(
            "{}@{}",
            local.to_lowercase(),
            domain.to_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or(&self.0)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    /// For a plus-address `support+token@host`: the base address and the token.
    pub fn plus_token(&self) -> Option<(EmailAddress, &str)> {
        let (base, token) = self.local_part().split_once('+')?;
        if base.is_empty() || token.is_empty() {
            return None;
        }
        Some((EmailAddress(format!("{base}@{}", self.domain())), token))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

/// An address with the display name it was written with (`Jane Doe <jane@acme.test>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

impl Mailbox {
    /// The address under the reserved `.invalid` domain (RFC 2606) that stands for "no
    /// sender" (`SenderOrigin::Missing`): it never names anyone and can never be mailed.
    pub const NO_SENDER: &str = "no-sender@sender.invalid";

    /// The sender of a mail that names none: [`Mailbox::NO_SENDER`], without a name.
    pub fn no_sender() -> Mailbox {
        Mailbox {
            name: None,
            address: EmailAddress(Self::NO_SENDER.to_string()),
        }
    }

    /// Parses `Name <addr>` or a bare address.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let input = input.trim();
        match (input.rfind('<'), input.rfind('>')) {
            (Some(open), Some(close)) if open < close => {
                let name = input[..open].trim().trim_matches('"').trim();
                Ok(Self {
                    name: (!name.is_empty()).then(|| name.to_string()),
                    address: EmailAddress::parse(&input[open + 1..close])?,
                })
            }
            _ => Ok(Self {
                name: None,
                address: EmailAddress::parse(input)?,
            }),
        }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "\"{}\" <{}>", name.replace('"', "'"), self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_brackets() {
        let a = EmailAddress::parse(" <Jane.Doe@ACME.Test> ").unwrap();
        assert_eq!(a.as_str(), "jane.doe@acme.test");
        assert_eq!(a.domain(), "acme.test");
        assert_eq!(a.local_part(), "jane.doe");
    }

    #[test]
    fn non_ascii_addresses_are_accepted_and_lower_cased() {
        // RFC 6531/6532 addresses arrive in UTF-8 headers; IDNA A-labels are plain ASCII.
        for (input, local, domain) in [
            ("José@Exämple.TEST", "josé", "exämple.test"),
            ("用户@例子.test", "用户", "例子.test"),
            ("jose@xn--exmple-cua.test", "jose", "xn--exmple-cua.test"),
            ("<ÉLODIE@bücher.test>", "élodie", "bücher.test"),
        ] {
            let a = EmailAddress::parse(input).unwrap();
            assert_eq!((a.local_part(), a.domain()), (local, domain), "{input}");
        }
        assert!(Mailbox::parse("José <josé@exämple.test>").is_ok());
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(EmailAddress::parse(""), Err(AddressError::Empty));
        assert!(matches!(
            EmailAddress::parse("no-at-sign"),
            Err(AddressError::NoAt(_))
        ));
        assert!(matches!(
            EmailAddress::parse("@acme.test"),
            Err(AddressError::NoAt(_))
        ));
        assert!(matches!(
            EmailAddress::parse("a b@acme.test"),
            Err(AddressError::BadCharacter(_))
        ));
        assert!(matches!(
            EmailAddress::parse("a@acme..test"),
            Err(AddressError::BadDomain(_))
        ));
        assert!(matches!(
            EmailAddress::parse("a@acme/test"),
            Err(AddressError::BadDomain(_))
        ));
        let long = format!("{}@acme.test", "x".repeat(300));
        assert_eq!(EmailAddress::parse(&long), Err(AddressError::TooLong));
    }

    #[test]
    fn plus_token() {
        let a = EmailAddress::parse("support+abc123@example.test").unwrap();
        let (base, token) = a.plus_token().unwrap();
        assert_eq!(base.as_str(), "support@example.test");
        assert_eq!(token, "abc123");
        assert!(
            EmailAddress::parse("support@example.test")
                .unwrap()
                .plus_token()
                .is_none()
        );
    }

    #[test]
    fn mailbox_with_name() {
        let m = Mailbox::parse("\"Jane Doe\" <Jane@acme.test>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Jane Doe"));
        assert_eq!(m.address.as_str(), "jane@acme.test");
        assert_eq!(m.to_string(), "\"Jane Doe\" <jane@acme.test>");
        let bare = Mailbox::parse("bob@acme.test").unwrap();
        assert_eq!(bare.name, None);
    }
}
