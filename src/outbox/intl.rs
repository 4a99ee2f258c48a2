//! Non-ASCII addresses on outgoing mail (pure): how one address goes into the SMTP envelope and
//! the header of a notification, given whether the server offers SMTPUTF8 (RFC 6531).
//!
//! - An ASCII address goes as it is.
//! - An address whose only non-ASCII part is its domain goes with the domain's IDNA A-label
//!   (`jose@xn--exmple-cua.test`): plain SMTP and a 7-bit header carry that to any server.
//! - An address with a non-ASCII local part has no ASCII form at all (RFC 2047 does not apply
//!   to addresses): it travels as UTF-8, in the envelope with `MAIL FROM:<…> SMTPUTF8` and in a
//!   UTF-8 header (RFC 6532), only to a server whose EHLO offers SMTPUTF8. To any other server it
//!   is refused for that recipient, with the reason, like a recipient the server refused.

use crate::domain::EmailAddress;

/// How one address can go to a given server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressForm {
    /// All ASCII: as it is.
    Ascii(EmailAddress),
    /// Only the domain is non-ASCII: this is the address with the domain's A-label, which
    /// needs no SMTPUTF8.
    ALabel(EmailAddress),
    /// The local part is non-ASCII and the server offers SMTPUTF8: the address as it is, in
    /// UTF-8 (the mail then needs `SMTPUTF8`).
    Utf8(EmailAddress),
    /// It cannot go to this server: why (a sentence naming the address).
    Refused(String),
}

impl AddressForm {
    /// The address to write in the envelope and the header; `None` when refused.
    pub fn wire(&self) -> Option<&EmailAddress> {
        match self {
            AddressForm::Ascii(a) | AddressForm::ALabel(a) | AddressForm::Utf8(a) => Some(a),
            AddressForm::Refused(_) => None,
        }
    }
}

/// How `address` goes to a server that offers SMTPUTF8 (`smtputf8`) or not.
pub fn address_form(address: &EmailAddress, smtputf8: bool) -> AddressForm {
    if address.as_str().is_ascii() {
        return AddressForm::Ascii(address.clone());
    }
    let (local, domain) = (address.local_part(), address.domain());
    let a_label = if domain.is_ascii() {
        domain.to_string()
    } else {
        match idna::domain_to_ascii_strict(domain) {
            Ok(ascii) => ascii,
            Err(_) => {
                return AddressForm::Refused(format!(
                    "recipient {address}: the domain {domain} is not a valid internationalised \
                     domain name (IDNA), so it has no A-label to send to"
                ));
            }
        }
    };
    if !local.is_ascii() {
        return if smtputf8 {
            AddressForm::Utf8(address.clone())
        } else {
            AddressForm::Refused(format!(
                "recipient {address} needs SMTPUTF8, which the server does not offer"
            ))
        };
    }
    match EmailAddress::parse(&format!("{local}@{a_label}")) {
        Ok(encoded) => AddressForm::ALabel(encoded),
        Err(e) => AddressForm::Refused(format!("recipient {address}: its A-label form {e}")),
    }
}

/// The envelope address (`RCPT TO`) of one recipient of an outbox row, or why it cannot go to
/// this server.
pub fn envelope_address(recipient: &str, smtputf8: bool) -> Result<lettre::Address, String> {
    let undeliverable = |e: &dyn std::fmt::Display| format!("not a deliverable address: {e}");
    let address = EmailAddress::parse(recipient).map_err(|e| undeliverable(&e))?;
    match address_form(&address, smtputf8) {
        AddressForm::Refused(why) => Err(why),
        AddressForm::Ascii(a) | AddressForm::ALabel(a) | AddressForm::Utf8(a) => {
            a.as_str().parse().map_err(|e| undeliverable(&e))
        }
    }
}

/// The address a header or the envelope names for one of mailgate's own addresses (the support
/// address): its A-label form when its domain is non-ASCII; as it is otherwise (a non-ASCII
/// local part of our own address is the configuration's to avoid).
pub fn own_address_form(address: &EmailAddress, smtputf8: bool) -> EmailAddress {
    address_form(address, smtputf8)
        .wire()
        .cloned()
        .unwrap_or_else(|| address.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn each_kind_of_address_with_and_without_smtputf8() {
        let refused = |s: &str| {
            AddressForm::Refused(format!(
                "recipient {s} needs SMTPUTF8, which the server does not offer"
            ))
        };
        let cases = [
            (
                "jane@acme.test",
                true,
                AddressForm::Ascii(a("jane@acme.test")),
            ),
            (
                "jane@acme.test",
                false,
                AddressForm::Ascii(a("jane@acme.test")),
            ),
            (
                "jose@exämple.test",
                false,
                AddressForm::ALabel(a("jose@xn--exmple-cua.test")),
            ),
            (
                "jose@exämple.test",
                true,
                AddressForm::ALabel(a("jose@xn--exmple-cua.test")),
            ),
            (
                "info@例子.test",
                false,
                AddressForm::ALabel(a("info@xn--fsqu00a.test")),
            ),
            (
                "josé@example.test",
                true,
                AddressForm::Utf8(a("josé@example.test")),
            ),
            ("josé@example.test", false, refused("josé@example.test")),
            (
                "josé@exämple.test",
                true,
                AddressForm::Utf8(a("josé@exämple.test")),
            ),
            ("josé@exämple.test", false, refused("josé@exämple.test")),
            (
                "用户@例子.test",
                true,
                AddressForm::Utf8(a("用户@例子.test")),
            ),
            ("用户@例子.test", false, refused("用户@例子.test")),
            // Already an A-label: plain ASCII.
            (
                "jose@xn--exmple-cua.test",
                false,
                AddressForm::Ascii(a("jose@xn--exmple-cua.test")),
            ),
        ];
        for (input, smtputf8, expected) in cases {
            assert_eq!(
                address_form(&a(input), smtputf8),
                expected,
                "{input} smtputf8={smtputf8}"
            );
        }
        assert_eq!(
            refused("josé@example.test"),
            AddressForm::Refused(
                "recipient josé@example.test needs SMTPUTF8, which the server does not offer"
                    .into()
            )
        );
    }

    #[test]
    fn a_domain_idna_refuses_is_refused_with_the_reason() {
        // U+2488 (DIGIT ONE FULL STOP) is alphanumeric to EmailAddress but not allowed in a
        // host name by IDNA; a label may not end with a hyphen.
        for input in ["jose@ex\u{2488}mple.test", "josé@exämple-.test"] {
            let address = EmailAddress::parse(input).unwrap();
            let form = address_form(&address, true);
            match &form {
                AddressForm::Refused(why) => assert!(
                    why.starts_with(&format!("recipient {address}: the domain "))
                        && why.contains("is not a valid internationalised domain name"),
                    "{why}"
                ),
                other => panic!("{input}: {other:?}"),
            }
            assert_eq!(form.wire(), None);
        }
    }

    #[test]
    fn own_address_gets_its_a_label() {
        assert_eq!(
            own_address_form(&a("support@exämple.test"), false),
            a("support@xn--exmple-cua.test")
        );
        assert_eq!(
            own_address_form(&a("support@example.test"), false),
            a("support@example.test")
        );
    }

    #[test]
    fn envelope_addresses_per_recipient() {
        let to = |r: &str, smtputf8| envelope_address(r, smtputf8).map(|a| a.to_string());
        assert_eq!(to("Jane@ACME.test", false), Ok("jane@acme.test".into()));
        assert_eq!(
            to("jose@exämple.test", false),
            Ok("jose@xn--exmple-cua.test".into())
        );
        assert_eq!(to("用户@例子.test", true), Ok("用户@例子.test".into()));
        assert_eq!(
            to("用户@例子.test", false),
            Err("recipient 用户@例子.test needs SMTPUTF8, which the server does not offer".into())
        );
        let bad = to("not an address", true).unwrap_err();
        assert!(bad.starts_with("not a deliverable address: "), "{bad}");
    }
}
