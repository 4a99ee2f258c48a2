//! One `[[alerts]]` entry (a monitoring system mailgate trusts) and the verdict on a mail.
//!
//! A From address matching an entry's `senders` is a claim like any header: an alert opens a
//! ticket (and pages the technicians) only when our receiving server authenticated that From
//! (trusted DMARC or aligned DKIM pass, as for agents; see `crate::trust`), unless the entry
//! sets `require_authentication = false`, and never from a sender the server reports forged or
//! from a fallback sender. Mail from a configured sender that is not an alert to act on, and
//! alert-shaped mail from anyone else, is machine mail: it opens nothing and is never answered.

use crate::domain::{AddressPatterns, InboundEmail};
use crate::trust::SenderTrust;

use super::{Alert, AlertFormat, AlertText, OnRecovery, Parsed, PriorityMap};

#[derive(Debug, Clone)]
pub struct AlertSource {
    pub name: String,
    pub senders: AddressPatterns,
    pub format: AlertFormat,
    pub on_recovery: OnRecovery,
    pub priorities: PriorityMap,
    /// `false` only by the admin's explicit choice: anybody who writes the From address can
    /// then open critical tickets and page every technician.
    pub require_authentication: bool,
}

/// Every `[[alerts]]` entry, in the order of the file.
#[derive(Debug, Clone, Default)]
pub struct AlertSources(pub Vec<AlertSource>);

impl AlertSources {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &AlertSource> {
        self.0.iter()
    }
}

/// What a mail is, as far as monitoring goes.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertVerdict<'s> {
    /// An alert of a configured, authenticated monitoring system: it opens, threads onto or
    /// resolves a ticket.
    Alert {
        source: &'s AlertSource,
        alert: Alert,
    },
    /// Machine mail (`why`): monitoring mail that is not an alert to act on, an alert from a
    /// sender that is not authenticated, or alert-shaped mail from a sender not in `[[alerts]]`.
    Machine(String),
    /// Nothing to do with monitoring.
    NotAlert,
}

impl PartialEq for AlertSource {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// The verdict on `email`, whose sender is as proven as `trust` says.
pub fn judge<'s>(
    email: &InboundEmail,
    trust: &SenderTrust,
    sources: &'s AlertSources,
) -> AlertVerdict<'s> {
    let text = AlertText::of(email);
    let sender = &email.from.address;
    let mut first_reason = None;
    for source in sources.iter().filter(|s| s.senders.matches(sender)) {
        let why_not = if !trust.may_authorise() {
            Some(format!(
                "{}: it authorises nothing",
                trust
                    .unverified_because()
                    .unwrap_or_else(|| "the sender is unverified".into())
            ))
        } else if source.require_authentication && !trust.authenticated() {
            Some(format!(
                "the From address is not authenticated ({}); an alert opens a ticket only from \
                 an authenticated sender (or set require_authentication = false)",
                trust.describe()
            ))
        } else {
            None
        };
        let reason = match (source.format.parse(&text), why_not) {
            (Parsed::Alert(alert), None) => return AlertVerdict::Alert { source, alert },
            (Parsed::Alert(alert), Some(why)) => format!(
                "monitoring alert ({}) from {sender} (alerts entry {:?}) not acted on: {why}",
                alert.describe(),
                source.name
            ),
            (Parsed::Other(what), _) => format!(
                "monitoring mail from {sender} (alerts entry {:?}): {what}, neither a problem \
                 nor a recovery",
                source.name
            ),
            (Parsed::No, _) => format!(
                "mail from monitoring sender {sender} (alerts entry {:?}) that is not a {} alert",
                source.name,
                source.format.name()
            ),
        };
        first_reason.get_or_insert(reason);
    }
    if let Some(reason) = first_reason {
        return AlertVerdict::Machine(reason);
    }
    for format in &AlertFormat::BUILT_IN {
        let what = match format.parse(&text) {
            Parsed::Alert(alert) => alert.describe(),
            Parsed::Other(what) => what,
            Parsed::No => continue,
        };
        return AlertVerdict::Machine(format!(
            "monitoring alert in {} format ({what}) from {sender}, a sender not in [[alerts]]",
            format.name()
        ));
    }
    AlertVerdict::NotAlert
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SenderOrigin;
    use crate::trust::{Attestation, AuthMethod};

    fn sources(require_authentication: bool) -> AlertSources {
        AlertSources(vec![AlertSource {
            name: "nagios".into(),
            senders: AddressPatterns::new(&["nagios@monitor.example.test"]).unwrap(),
            format: AlertFormat::Nagios,
            on_recovery: OnRecovery::Resolve,
            priorities: PriorityMap::default(),
            require_authentication,
        }])
    }

    fn mail(from: &str, subject: &str) -> InboundEmail {
        crate::domain::test_support::email(from, subject)
    }

    fn trust(attestation: Attestation) -> SenderTrust {
        SenderTrust {
            origin: SenderOrigin::From,
            attestation,
        }
    }

    fn pass() -> SenderTrust {
        trust(Attestation::Pass {
            authserv_id: "mx.example.test".into(),
            method: AuthMethod::Dmarc,
        })
    }

    const PROBLEM: &str = "** PROBLEM Service Alert: web1/HTTP is CRITICAL **";

    #[test]
    fn an_authenticated_configured_sender_raises_an_alert() {
        let s = sources(true);
        let v = judge(&mail("nagios@monitor.example.test", PROBLEM), &pass(), &s);
        assert!(
            matches!(v, AlertVerdict::Alert { ref alert, .. } if alert.key().as_str() == "web1/http")
        );
    }

    #[test]
    fn a_from_header_alone_raises_nothing() {
        let s = sources(true);
        for t in [
            trust(Attestation::Absent),
            trust(Attestation::NotConfigured),
        ] {
            let v = judge(&mail("nagios@monitor.example.test", PROBLEM), &t, &s);
            let AlertVerdict::Machine(why) = v else {
                panic!("{v:?}")
            };
            assert!(why.contains("not authenticated"), "{why}");
        }
    }

    #[test]
    fn without_required_authentication_a_forged_from_still_raises_nothing() {
        let s = sources(false);
        let v = judge(
            &mail("nagios@monitor.example.test", PROBLEM),
            &trust(Attestation::Absent),
            &s,
        );
        assert!(matches!(v, AlertVerdict::Alert { .. }), "{v:?}");
        let forged = trust(Attestation::Fail {
            authserv_id: "mx.example.test".into(),
        });
        let v = judge(&mail("nagios@monitor.example.test", PROBLEM), &forged, &s);
        assert!(matches!(v, AlertVerdict::Machine(_)), "{v:?}");
        let fallback = SenderTrust {
            origin: SenderOrigin::ReplyTo,
            attestation: Attestation::Absent,
        };
        let v = judge(&mail("nagios@monitor.example.test", PROBLEM), &fallback, &s);
        assert!(matches!(v, AlertVerdict::Machine(_)), "{v:?}");
    }

    #[test]
    fn strangers_alerts_and_other_monitoring_mail_are_machine_mail() {
        let s = sources(true);
        let v = judge(&mail("someone@else.test", PROBLEM), &pass(), &s);
        let AlertVerdict::Machine(why) = v else {
            panic!("{v:?}")
        };
        assert!(why.contains("not in [[alerts]]"), "{why}");
        let v = judge(
            &mail("nagios@monitor.example.test", "weekly report"),
            &pass(),
            &s,
        );
        assert!(matches!(v, AlertVerdict::Machine(_)), "{v:?}");
        let v = judge(&mail("jane@customer.test", "my site is down"), &pass(), &s);
        assert_eq!(v, AlertVerdict::NotAlert);
        let none = AlertSources::default();
        let v = judge(&mail("jane@customer.test", PROBLEM), &pass(), &none);
        assert!(matches!(v, AlertVerdict::Machine(_)), "{v:?}");
    }
}
