//! Who gets which notification (SPEC 6), as a pure function of the ticket's participants and
//! the configuration.
//!
//! The result keeps customers and staff apart: a notification that goes to both (the resolution
//! of a critical ticket) must not show staff addresses to customers, so the sender sends the
//! two groups separately (or puts staff in Bcc). Never a recipient: mailgate's own addresses
//! (the support address, its plus-addresses, polled mailboxes) and addresses marked bouncing on
//! the ticket. Addresses are normalised, so duplicates differing only in case collapse; the
//! order is stable (the order of the rules below, then the order of the participants).

use std::collections::{HashMap, HashSet};

use crate::domain::{AddressPatterns, EmailAddress, NotificationKind};

use super::OwnAddresses;

/// The people on one ticket, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Participants {
    pub requester: Option<EmailAddress>,
    /// Cc'd addresses of the first mail (customers).
    pub cc: Vec<EmailAddress>,
    /// Agents who took part in the ticket.
    pub agents: Vec<EmailAddress>,
    /// Technicians who took part in the ticket.
    pub technicians: Vec<EmailAddress>,
    /// Addresses whose mail about this ticket bounced.
    pub bouncing: Vec<EmailAddress>,
    /// The agent or technician the ticket is assigned to (SPEC 7), if any.
    pub assignee: Option<EmailAddress>,
}

/// The configuration that decides recipients (from `[notify]`).
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    /// Customer domain (lower case) → primary contact.
    pub primary_contacts: &'a HashMap<String, EmailAddress>,
    /// Every configured technician (critical alerts).
    pub technicians: &'a [EmailAddress],
    /// Agent address patterns: these addresses are staff, never shown to customers.
    pub agents: &'a AddressPatterns,
    pub own: &'a OwnAddresses,
}

/// Recipients of one notification, customers and staff apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    pub customers: Vec<EmailAddress>,
    pub staff: Vec<EmailAddress>,
}

impl Recipients {
    /// Customers then staff.
    pub fn all(&self) -> Vec<EmailAddress> {
        self.customers.iter().chain(&self.staff).cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.customers.is_empty() && self.staff.is_empty()
    }
}

/// Who gets a notification of `kind` about a ticket with `participants`.
pub fn recipients(
    kind: NotificationKind,
    participants: &Participants,
    audience: &Audience<'_>,
) -> Recipients {
    let mut out = Recipients::default();
    // Sets, so that a ticket with thousands of participants costs one pass.
    let staff_addresses: HashSet<&EmailAddress> = audience
        .technicians
        .iter()
        .chain(&participants.agents)
        .chain(&participants.technicians)
        .collect();
    let bouncing: HashSet<&EmailAddress> = participants.bouncing.iter().collect();
    let mut chosen: HashSet<&EmailAddress> = HashSet::new();
    let is_staff = |a: &EmailAddress| audience.agents.matches(a) || staff_addresses.contains(a);
    let allowed = |a: &EmailAddress| !audience.own.contains(a) && !bouncing.contains(a);
    let primary = participants.requester.as_ref().and_then(|r| {
        audience
            .primary_contacts
            .get(&r.domain().to_ascii_lowercase())
    });

    let (customers, staff): (Vec<&EmailAddress>, Vec<&EmailAddress>) = match kind {
        NotificationKind::Acknowledgement
        | NotificationKind::AgentReply
        | NotificationKind::StatusChange
        | NotificationKind::PendingReminder
        | NotificationKind::AutoClose => (
            participants
                .requester
                .iter()
                .chain(&participants.cc)
                .chain(primary)
                .collect(),
            Vec::new(),
        ),
        NotificationKind::CriticalAlert => (Vec::new(), audience.technicians.iter().collect()),
        NotificationKind::Assignment => (Vec::new(), participants.assignee.iter().collect()),
        NotificationKind::SlaReminder => (
            Vec::new(),
            match &participants.assignee {
                Some(a) => vec![a],
                None => audience
                    .technicians
                    .iter()
                    .chain(&participants.agents)
                    .collect(),
            },
        ),
        // Addressed to the escalation's sender by `outbox::escalation_mail`, never to a
        // ticket's people.
        NotificationKind::EscalationAccepted | NotificationKind::EscalationRefused => {
            (Vec::new(), Vec::new())
        }
        NotificationKind::CriticalResolution => (
            participants.requester.iter().chain(primary).collect(),
            participants
                .agents
                .iter()
                .chain(&participants.technicians)
                .collect(),
        ),
    };
    for a in customers {
        // Staff never appear among the customers: their addresses stay hidden.
        if !is_staff(a) && allowed(a) && chosen.insert(a) {
            out.customers.push(a.clone());
        }
    }
    for a in staff {
        if allowed(a) && chosen.insert(a) {
            out.staff.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::addr;

    #[test]
    fn every_kind_has_a_default_template() {
        let templates = crate::templates::Templates::default();
        let sample = crate::templates::TemplateContext::sample();
        for kind in NotificationKind::ALL {
            let rendered = templates.render(kind.as_str(), &sample);
            assert!(rendered.is_ok(), "{kind:?}: {rendered:?}");
        }
    }

    struct Fixture {
        primary_contacts: HashMap<String, EmailAddress>,
        technicians: Vec<EmailAddress>,
        agents: AddressPatterns,
        own: OwnAddresses,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                primary_contacts: HashMap::from([
                    ("acme.test".to_string(), addr("boss@acme.test")),
                    ("globex.test".to_string(), addr("it@globex.test")),
                ]),
                technicians: vec![addr("tech1@example.test"), addr("tech2@example.test")],
                agents: AddressPatterns::new(&["*@example.test"]).unwrap(),
                own: OwnAddresses::new(
                    &addr("support@example.test"),
                    [addr("escalations@example.test")],
                ),
            }
        }

        fn audience(&self) -> Audience<'_> {
            Audience {
                primary_contacts: &self.primary_contacts,
                technicians: &self.technicians,
                agents: &self.agents,
                own: &self.own,
            }
        }
    }

    fn addrs(list: &[&str]) -> Vec<EmailAddress> {
        list.iter().map(|a| addr(a)).collect()
    }

    fn ticket() -> Participants {
        Participants {
            requester: Some(addr("Jane@ACME.test")),
            cc: addrs(&["bob@acme.test", "carol@other.test"]),
            agents: addrs(&["agent@example.test"]),
            technicians: addrs(&["tech1@example.test"]),
            bouncing: Vec::new(),
            assignee: None,
        }
    }

    #[test]
    fn an_assignment_goes_to_the_assignee_alone() {
        let f = Fixture::new();
        let mut p = ticket();
        assert!(recipients(NotificationKind::Assignment, &p, &f.audience()).is_empty());
        p.assignee = Some(addr("tech2@example.test"));
        let r = recipients(NotificationKind::Assignment, &p, &f.audience());
        assert_eq!(r.staff, addrs(&["tech2@example.test"]));
        assert!(r.customers.is_empty());
        // Never to a bouncing address or one of mailgate's own.
        p.bouncing = addrs(&["tech2@example.test"]);
        assert!(recipients(NotificationKind::Assignment, &p, &f.audience()).is_empty());
        p.bouncing.clear();
        p.assignee = Some(addr("support@example.test"));
        assert!(recipients(NotificationKind::Assignment, &p, &f.audience()).is_empty());
    }

    #[test]
    fn customer_facing_table() {
        let f = Fixture::new();
        let cases: Vec<(&str, Participants, Vec<&str>)> = vec![
            (
                "requester, cc, primary contact",
                ticket(),
                vec![
                    "jane@acme.test",
                    "bob@acme.test",
                    "carol@other.test",
                    "boss@acme.test",
                ],
            ),
            (
                "support address and its plus-address in Cc are dropped",
                Participants {
                    cc: addrs(&[
                        "SUPPORT@example.test",
                        "support+1.ab@example.test",
                        "bob@acme.test",
                    ]),
                    ..ticket()
                },
                vec!["jane@acme.test", "bob@acme.test", "boss@acme.test"],
            ),
            (
                "an agent in Cc is not shown to the customer",
                Participants {
                    cc: addrs(&["agent@example.test", "other.agent@example.test"]),
                    ..ticket()
                },
                vec!["jane@acme.test", "boss@acme.test"],
            ),
            (
                "duplicates collapse, first position kept",
                Participants {
                    cc: addrs(&[
                        "BOSS@acme.test",
                        "jane@acme.test",
                        "Bob@Acme.Test",
                        "bob@acme.test",
                    ]),
                    ..ticket()
                },
                vec!["jane@acme.test", "boss@acme.test", "bob@acme.test"],
            ),
            (
                "bouncing addresses are skipped",
                Participants {
                    bouncing: addrs(&["jane@acme.test", "carol@other.test"]),
                    ..ticket()
                },
                vec!["bob@acme.test", "boss@acme.test"],
            ),
            (
                "no primary contact for the domain",
                Participants {
                    requester: Some(addr("x@nowhere.test")),
                    cc: Vec::new(),
                    ..ticket()
                },
                vec!["x@nowhere.test"],
            ),
            (
                "primary contact of another domain is used by its own domain only",
                Participants {
                    requester: Some(addr("ann@globex.test")),
                    cc: addrs(&["jane@acme.test"]),
                    ..ticket()
                },
                vec!["ann@globex.test", "jane@acme.test", "it@globex.test"],
            ),
            ("no requester, nobody", Participants::default(), vec![]),
            (
                "a requester who is mailgate itself (a loop) gets nothing",
                Participants {
                    requester: Some(addr("escalations@example.test")),
                    cc: Vec::new(),
                    ..ticket()
                },
                vec![],
            ),
        ];
        for kind in [
            NotificationKind::Acknowledgement,
            NotificationKind::AgentReply,
            NotificationKind::StatusChange,
            NotificationKind::PendingReminder,
        ] {
            for (name, participants, expected) in &cases {
                let r = recipients(kind, participants, &f.audience());
                assert_eq!(r.customers, addrs(expected), "{kind:?}: {name}");
                assert!(r.staff.is_empty(), "{kind:?}: {name}");
            }
        }
    }

    #[test]
    fn critical_alert_goes_to_every_technician() {
        let mut f = Fixture::new();
        let r = recipients(NotificationKind::CriticalAlert, &ticket(), &f.audience());
        assert!(r.customers.is_empty());
        assert_eq!(
            r.staff,
            addrs(&["tech1@example.test", "tech2@example.test"])
        );

        f.technicians = addrs(&[
            "tech1@example.test",
            "TECH1@example.test",
            "support@example.test",
        ]);
        let bouncing = Participants {
            bouncing: addrs(&["tech1@example.test"]),
            ..ticket()
        };
        let r = recipients(NotificationKind::CriticalAlert, &bouncing, &f.audience());
        assert!(r.is_empty(), "{r:?}");
    }

    #[test]
    fn critical_resolution_keeps_staff_apart() {
        let f = Fixture::new();
        let r = recipients(
            NotificationKind::CriticalResolution,
            &ticket(),
            &f.audience(),
        );
        assert_eq!(r.customers, addrs(&["jane@acme.test", "boss@acme.test"]));
        assert_eq!(
            r.staff,
            addrs(&["agent@example.test", "tech1@example.test"])
        );
        assert_eq!(
            r.all(),
            addrs(&[
                "jane@acme.test",
                "boss@acme.test",
                "agent@example.test",
                "tech1@example.test"
            ])
        );

        let overlapping = Participants {
            agents: addrs(&[
                "agent@example.test",
                "Agent@Example.test",
                "support@example.test",
            ]),
            technicians: addrs(&["agent@example.test"]),
            ..ticket()
        };
        let r = recipients(
            NotificationKind::CriticalResolution,
            &overlapping,
            &f.audience(),
        );
        assert_eq!(r.staff, addrs(&["agent@example.test"]));
    }

    #[test]
    fn a_ticket_with_a_hundred_thousand_participants_takes_one_pass() {
        let f = Fixture::new();
        let cc: Vec<EmailAddress> = (0..100_000)
            .map(|i| addr(&format!("cc{}@customer.test", i % 50_000)))
            .collect();
        let many = Participants {
            cc,
            agents: (0..50_000)
                .map(|i| addr(&format!("a{i}@agents.test")))
                .collect(),
            bouncing: (0..50_000)
                .map(|i| addr(&format!("cc{}@customer.test", i * 2)))
                .collect(),
            ..ticket()
        };
        let started = std::time::Instant::now();
        let r = recipients(NotificationKind::Acknowledgement, &many, &f.audience());
        // The requester, its primary contact, and the half of the Cc that is not bouncing.
        assert_eq!(r.customers.len(), 2 + 25_000);
        assert_eq!(r.customers[1], addr("cc1@customer.test"));
        // Quadratic checks took minutes here.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
