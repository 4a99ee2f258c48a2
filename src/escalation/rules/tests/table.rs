//! The stories of the gate, one row each: evidence, forwarded original, attachments, verdict.

use super::*;

fn cases() -> Vec<Case> {
    vec![
        story(
            "no evidence at all: every required item is named",
            "Please have a look, thanks.",
            Reject(&[
                ("category", Missing),
                ("error", Missing),
                ("steps_taken", Missing),
                ("customer", Missing),
            ]),
        ),
        story(
            "no mail, without proof that mail was sent",
            NO_MAIL_UNPROVEN,
            Reject(&[("sent_mail_verified", Missing)]),
        ),
        story(
            "no mail, with the phrase in Steps-Taken",
            NO_MAIL_WITH_PHRASE,
            email_accept(Priority::Normal, false, None),
        ),
        Case {
            attachments: &["sent/Original.EML"],
            ..story(
                "no mail, with a .eml attached",
                NO_MAIL_UNPROVEN,
                email_accept(Priority::Normal, false, None),
            )
        },
        Case {
            attachments: &["screenshot.png"],
            ..story(
                "no mail, with an attachment that proves nothing",
                NO_MAIL_UNPROVEN,
                Reject(&[("sent_mail_verified", Missing)]),
            )
        },
        story(
            "critical for one customer",
            CRITICAL_FOR_ONE,
            Reject(&[("affected_customers", Gate)]),
        ),
        story(
            "critical without Affected-Customers",
            "Customer: jane@acme.test\nCategory: email\nPriority: Critical\nError: e\nSteps-Taken: confirmed mail was sent\n",
            Reject(&[("affected_customers", Gate)]),
        ),
        story(
            "the complete block of the design",
            COMPLETE,
            Accept {
                ticket: Some("SUP-1042"),
                customer: "jane@acme.test",
                category: "email",
                priority: Priority::High,
                downgraded: false,
                affected: Some(1),
            },
        ),
        Case {
            sender: "mallory@evil.example.test",
            ..story(
                "a stranger",
                COMPLETE,
                Unauthorised("not on escalation.allowed_senders"),
            )
        },
        story(
            "a resend with the evidence completed, quoting the refusal below",
            "Customer: jane@acme.test\nCategory: email\nError: no message received\nSteps-Taken:\n - checked the error log\n - confirmed mail was sent on 2026-11-13\n\nThanks, Bob\n\n> 1. Sent-Mail-Verified is missing.\n",
            email_accept(Priority::Normal, false, None),
        ),
        Case {
            forwarded: Some("carol@acme.test"),
            ..story(
                "the customer is the forwarded original's sender",
                "Category: email\nError: e\nSteps-Taken: confirmed mail was sent\n",
                Accept {
                    ticket: None,
                    customer: "carol@acme.test",
                    category: "email",
                    priority: Priority::Normal,
                    downgraded: false,
                    affected: None,
                },
            )
        },
        story(
            "the customer is the ticket's requester",
            "Ticket: [sup-1042]\nCategory: email\nError: e\nSteps-Taken: confirmed mail was sent\n",
            Accept {
                ticket: Some("SUP-1042"),
                customer: "jane@acme.test",
                category: "email",
                priority: Priority::Normal,
                downgraded: false,
                affected: None,
            },
        ),
        story(
            "a ticket without requester and no other customer",
            "Ticket: SUP-7\nCategory: network\nSite: Berlin\nAffected-Customers: 40\nError: e\nSteps-Taken: s\n",
            Reject(&[("customer", Missing)]),
        ),
        story(
            "a critical network outage for many customers",
            "Customer: it@acme.test\nCategory: NETWORK\nSite: Berlin\nAffected-Customers: 40\nError: e\nSteps-Taken: s\nPriority: critical\n",
            Accept {
                ticket: None,
                customer: "it@acme.test",
                category: "network",
                priority: Priority::Critical,
                downgraded: false,
                affected: Some(40),
            },
        ),
        story(
            "critical network outage without a count: one problem on the count",
            "Customer: it@acme.test\nCategory: network\nSite: Berlin\nError: e\nSteps-Taken: s\nPriority: critical\n",
            Reject(&[("affected_customers", Gate)]),
        ),
        story(
            "every invalid value is reported, with the missing ones",
            "Ticket: OPS-3\nCustomer: jane at acme\nCategory: mail\nAffected-Customers: many\nPriority: urgent\n",
            Reject(&[
                ("category", Invalid),
                ("error", Missing),
                ("steps_taken", Missing),
                ("ticket", Invalid),
                ("customer", Invalid),
                ("affected_customers", Invalid),
                ("priority", Invalid),
            ]),
        ),
        story(
            "a ticket that does not exist, and a blank Error",
            "Ticket: SUP-99\nCustomer: jane@acme.test\nCategory: network\nSite: HQ\nAffected-Customers: 0\nError:\nSteps-Taken: s\n",
            Reject(&[
                ("error", Missing),
                ("affected_customers", Invalid),
                ("ticket", Invalid),
            ]),
        ),
    ]
}

#[test]
fn the_stories_of_the_table() {
    let rules = rules();
    for case in cases() {
        check(&case, &run(&case, &rules, &[]));
    }
}
