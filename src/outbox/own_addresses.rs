//! `OwnAddresses`: the addresses that are mailgate itself — the support address, its
//! plus-addresses (`support+<token>@…`) and the addresses of the mailboxes it polls. Mail is
//! never sent to them, and mail from them is never taken for a customer's.

use crate::domain::EmailAddress;

/// mailgate's own addresses. Comparison is on normalised (lower-case) addresses; a plus-address
/// of an own address is own too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnAddresses {
    addresses: Vec<EmailAddress>,
}

impl OwnAddresses {
    /// The support address first, then any other own addresses (mailbox logins that are
    /// addresses, escalation mailboxes …). Duplicates are dropped.
    pub fn new(support: &EmailAddress, others: impl IntoIterator<Item = EmailAddress>) -> Self {
        let mut addresses = vec![support.clone()];
        for a in others {
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
        Self { addresses }
    }

    /// Mailbox usernames that are addresses become own addresses; other logins are ignored.
    pub fn from_logins<'a>(
        support: &EmailAddress,
        logins: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::new(
            support,
            logins
                .into_iter()
                .filter(|l| l.contains('@'))
                .filter_map(|l| EmailAddress::parse(l).ok()),
        )
    }

    /// The installation's own addresses: the support address, its aliases
    /// (`tickets.aliases`), every mailbox's known address (`address`, else a login that is an
    /// address) and every mailbox login that is an address.
    pub fn of(settings: &crate::config::Settings) -> Self {
        let mut own = Self::from_logins(
            &settings.tickets.support_address.address,
            settings
                .mailboxes
                .iter()
                .filter_map(|m| m.username.as_deref()),
        );
        for known in settings.mailboxes.iter().filter_map(|m| m.address.as_ref()) {
            if !own.addresses.contains(known) {
                own.addresses.push(known.clone());
            }
        }
        for alias in &settings.tickets.aliases {
            if !own.addresses.contains(alias) {
                own.addresses.push(alias.clone());
            }
        }
        own
    }

    /// True for an own address or a plus-address of one (`support+anything@domain`).
    pub fn contains(&self, address: &EmailAddress) -> bool {
        if self.addresses.contains(address) {
            return true;
        }
        match address.plus_token() {
            Some((base, _)) => self.addresses.contains(&base),
            None => false,
        }
    }

    pub fn addresses(&self) -> &[EmailAddress] {
        &self.addresses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::addr;

    #[test]
    fn recognises_own_addresses() {
        let own = OwnAddresses::from_logins(
            &addr("support@example.test"),
            [
                "escalations@example.test",
                "imap-user",
                "SUPPORT@example.test",
            ],
        );
        assert_eq!(own.addresses().len(), 2, "{own:?}");
        let cases = [
            ("support@example.test", true),
            ("SUPPORT@Example.Test", true),
            ("support+12.abcdef@example.test", true),
            ("Support+x@EXAMPLE.test", true),
            ("escalations@example.test", true),
            ("escalations+tag@example.test", true),
            ("support@example.org", false),
            ("support2@example.test", false),
            ("my-support@example.test", false),
            ("jane+support@example.test", false),
            ("imap-user@example.test", false),
        ];
        for (address, expected) in cases {
            assert_eq!(own.contains(&addr(address)), expected, "{address}");
        }
    }

    #[test]
    fn default_is_empty() {
        assert!(!OwnAddresses::default().contains(&addr("support@example.test")));
    }
}
