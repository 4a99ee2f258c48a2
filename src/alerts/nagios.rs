//! Nagios and Icinga notification mail, as their default commands write it.
//!
//! - Nagios and Icinga 1 (`commands.cfg`, `notify-service-by-email` / `notify-host-by-email`):
//!   `** PROBLEM Service Alert: web1/HTTP is CRITICAL **`, `** RECOVERY Host Alert: web1 is UP **`;
//! - Icinga 2 (`mail-service-notification.sh` / `mail-host-notification.sh`):
//!   `[PROBLEM] HTTP on web1 is CRITICAL!`, `[RECOVERY] Host web1 is UP!`; its body names the
//!   host and service objects (`Host:    web1`, `Service: http`), which are preferred to the
//!   display names of the subject.
//!
//! The notification type decides: `PROBLEM` is a problem, `RECOVERY` a recovery; any other
//! (`ACKNOWLEDGEMENT`, `FLAPPINGSTART`, `DOWNTIMESTART`, `CUSTOM`) is machine mail that opens
//! nothing.

use super::{Alert, AlertKind, AlertText, Parsed, field};

pub fn parse(text: &AlertText) -> Parsed {
    let Some(subject) = Subject::read(text.subject) else {
        return Parsed::No;
    };
    let kind = match subject.kind {
        "PROBLEM" => AlertKind::Problem,
        "RECOVERY" => AlertKind::Recovery,
        other => return Parsed::Other(format!("a Nagios/Icinga {other} notification")),
    };
    let (host, service) = if subject.icinga2 {
        // Icinga 2's body names the objects; the subject has their display names.
        let host = field(text.body, "Host").unwrap_or(subject.host);
        let service = match subject.service {
            Some(s) => Some(field(text.body, "Service").unwrap_or(s)),
            None => None,
        };
        (host, service)
    } else {
        (subject.host, subject.service)
    };
    match Alert::new(host, service, subject.state, kind, None) {
        Some(alert) => Parsed::Alert(alert),
        None => Parsed::No,
    }
}

/// What the subject line says.
struct Subject<'s> {
    kind: &'s str,
    host: &'s str,
    service: Option<&'s str>,
    state: &'s str,
    icinga2: bool,
}

impl<'s> Subject<'s> {
    fn read(subject: &'s str) -> Option<Subject<'s>> {
        Subject::classic(subject).or_else(|| Subject::icinga2(subject))
    }

    /// `** TYPE Service Alert: host/service is STATE **`, `** TYPE Host Alert: host is STATE **`.
    fn classic(subject: &'s str) -> Option<Subject<'s>> {
        let inner = subject.strip_prefix("**")?.strip_suffix("**")?.trim();
        let (head, rest) = inner
            .split_once(" Service Alert: ")
            .map(|(h, r)| (h, (r, true)))
            .or_else(|| {
                inner
                    .split_once(" Host Alert: ")
                    .map(|(h, r)| (h, (r, false)))
            })?;
        let (rest, is_service) = rest;
        let (object, state) = rest.rsplit_once(" is ")?;
        let (host, service) = if is_service {
            let (h, s) = object.split_once('/')?;
            (h, Some(s))
        } else {
            (object, None)
        };
        Some(Subject {
            kind: one_of(head, &TYPES)?,
            host,
            service,
            state: one_of(state, &STATES)?,
            icinga2: false,
        })
    }

    /// `[TYPE] service on host is STATE!`, `[TYPE] Host host is STATE!`.
    fn icinga2(subject: &'s str) -> Option<Subject<'s>> {
        let rest = subject.strip_prefix('[')?;
        let (kind, rest) = rest.split_once(']')?;
        let rest = rest.trim().strip_suffix('!')?;
        let (object, state) = rest.rsplit_once(" is ")?;
        let (host, service) = match object.strip_prefix("Host ") {
            Some(host) => (host, None),
            None => {
                let (s, h) = object.rsplit_once(" on ")?;
                (h, Some(s))
            }
        };
        Some(Subject {
            kind: one_of(kind, &TYPES)?,
            host,
            service,
            state: one_of(state, &STATES)?,
            icinga2: true,
        })
    }
}

/// The notification types Nagios and Icinga write.
const TYPES: [&str; 10] = [
    "PROBLEM",
    "RECOVERY",
    "ACKNOWLEDGEMENT",
    "FLAPPINGSTART",
    "FLAPPINGSTOP",
    "FLAPPINGDISABLED",
    "DOWNTIMESTART",
    "DOWNTIMEEND",
    "DOWNTIMECANCELLED",
    "CUSTOM",
];

/// The host and service states.
const STATES: [&str; 8] = [
    "OK",
    "WARNING",
    "CRITICAL",
    "UNKNOWN",
    "UP",
    "DOWN",
    "UNREACHABLE",
    "PENDING",
];

/// `s` trimmed when it is one of `words` (as the tools write them: capitals).
fn one_of<'s>(s: &'s str, words: &[&str]) -> Option<&'s str> {
    let s = s.trim();
    words.contains(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(subject: &str, body: &str) -> Parsed {
        parse(&AlertText::new(subject, body))
    }

    fn expect(subject: &str, body: &str) -> Alert {
        match alert(subject, body) {
            Parsed::Alert(a) => a,
            other => panic!("{subject}: {other:?}"),
        }
    }

    #[test]
    fn nagios_service_and_host_alerts() {
        let a = expect("** PROBLEM Service Alert: web1/HTTP is CRITICAL **", "");
        assert_eq!(
            (a.host.as_str(), a.service.as_deref(), a.state.as_str()),
            ("web1", Some("HTTP"), "CRITICAL")
        );
        assert_eq!(a.kind, AlertKind::Problem);
        let a = expect("** RECOVERY Service Alert: web1/HTTP is OK **", "");
        assert_eq!(a.kind, AlertKind::Recovery);
        assert_eq!(
            a.key(),
            expect("** PROBLEM Service Alert: web1/HTTP is WARNING **", "").key()
        );
        let a = expect("** PROBLEM Host Alert: web1 is DOWN **", "");
        assert_eq!((a.service, a.state.as_str()), (None, "DOWN"));
        let a = expect("** RECOVERY Host Alert: web1 is UP **", "");
        assert_eq!(a.kind, AlertKind::Recovery);
    }

    #[test]
    fn a_service_name_may_hold_slashes_and_is() {
        let a = expect(
            "** PROBLEM Service Alert: db1/Disk /var is full is CRITICAL **",
            "",
        );
        assert_eq!(a.service.as_deref(), Some("Disk /var is full"));
        assert_eq!(a.state, "CRITICAL");
    }

    #[test]
    fn icinga2_subjects_with_object_names_from_the_body() {
        let body = "***** Service Monitoring on icinga *****\n\nHTTP check on Web 1 is CRITICAL!\n\n\
                    Info:    connection refused\n\nWhen:    2026-05-04\nService: http\nHost:    web1\n";
        let a = expect("[PROBLEM] HTTP check on Web 1 is CRITICAL!", body);
        assert_eq!(
            (a.host.as_str(), a.service.as_deref()),
            ("web1", Some("http"))
        );
        let a = expect("[RECOVERY] Host web1 is UP!", "Host:    web1\n");
        assert_eq!((a.kind, a.service), (AlertKind::Recovery, None));
        let a = expect("[PROBLEM] HTTP on web2 is WARNING!", "");
        assert_eq!(
            (a.host.as_str(), a.service.as_deref()),
            ("web2", Some("HTTP"))
        );
    }

    #[test]
    fn other_notification_types_are_machine_mail() {
        assert!(matches!(
            alert(
                "** ACKNOWLEDGEMENT Service Alert: web1/HTTP is CRITICAL **",
                ""
            ),
            Parsed::Other(_)
        ));
        assert!(matches!(
            alert("[FLAPPINGSTART] HTTP on web1 is OK!", ""),
            Parsed::Other(_)
        ));
    }

    #[test]
    fn people_and_forwards_are_not_alerts() {
        for subject in [
            "Fwd: ** PROBLEM Service Alert: web1/HTTP is CRITICAL **",
            "Re: [PROBLEM] HTTP on web1 is CRITICAL!",
            "[SUP-4] my web server is down!",
            "[URGENT] printer on floor 2 is BROKEN!",
            "[PROBLEM] printer on floor 2 is BROKEN!",
            "** PROBLEM Service Alert: web1 is CRITICAL **",
            "** PROBLEM Service Alert: web1/HTTP is critical **",
            "",
            "**",
            "[",
        ] {
            assert_eq!(alert(subject, ""), Parsed::No, "{subject}");
        }
    }
}
