//! Loop protection (SPEC 2.3, 5), pure: whether an automatic mail may go out, and whether an
//! incoming mail is mailgate's own mail coming back.
//!
//! - Never answer a bounce or an automatic mail (an autoresponder answering us would otherwise
//!   start a ping-pong).
//! - Never answer a mail that does not name one of our addresses as a recipient (RFC 3834
//!   section 2: it reached us by Bcc, a list or a spam run; answering it is backscatter).
//! - At most [`RateCap::max`] automatic mails per recipient per window (default 10 per hour);
//!   beyond that mail is held, with a reason for the log. Counting what was sent in the window
//!   is the outbox's job; this module only judges the count.
//! - Our own mail seen again (by a Message-ID that verifies with our key, or a From that is one
//!   of our addresses) is recognised so it is never ingested as a customer's message.

use crate::config::RateCap;
use crate::domain::{Classification, EmailAddress, MessageId};

use super::{OwnAddresses, OwnMessageIds};

/// Why an automatic mail is held instead of sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldReason {
    #[error("the mail that triggered it is a bounce ({0}); bounces are never answered")]
    AnsweringBounce(String),
    #[error("the mail that triggered it is automatic ({0}); automatic mail is never answered")]
    AnsweringAutomatic(String),
    #[error(
        "{recipient} already got {sent} automatic mails in the last {window_secs} s (cap {max})"
    )]
    RateCapped {
        recipient: EmailAddress,
        sent: u32,
        max: u32,
        window_secs: i64,
    },
    #[error("{0} is one of mailgate's own addresses")]
    OwnAddress(EmailAddress),
    #[error(
        "the mail that triggered it names none of mailgate's addresses in To, Cc, Delivered-To \
         or X-Original-To (Bcc, list or spam); not answered automatically (RFC 3834)"
    )]
    NotAddressedToUs,
}

/// The mail an automatic mail would answer, as the loop guard sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger<'a> {
    pub classification: &'a Classification,
    /// One of our addresses (support, an alias, a polled mailbox, a plus-address of one) is
    /// among its recipients.
    pub addressed_to_us: bool,
}

/// Send the mail, or hold it and log why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Send,
    Hold { reason: HoldReason },
}

/// May an automatic mail to `recipient` go out? `answering` is the mail that triggered it
/// (`None` when no mail did, such as a status change by an agent); `sent_in_window` counts the
/// automatic mails already sent to `recipient` in the cap's window.
pub fn may_send_automatic(
    answering: Option<Trigger<'_>>,
    recipient: &EmailAddress,
    own: &OwnAddresses,
    sent_in_window: u32,
    cap: RateCap,
) -> Verdict {
    let hold = |reason| Verdict::Hold { reason };
    if let Some(trigger) = answering {
        match trigger.classification {
            Classification::Bounce(why) | Classification::Report(why) => {
                return hold(HoldReason::AnsweringBounce(why.clone()));
            }
            Classification::Automatic(why) => {
                return hold(HoldReason::AnsweringAutomatic(why.clone()));
            }
            Classification::Plain | Classification::Escalation => {}
        }
        if !trigger.addressed_to_us {
            return hold(HoldReason::NotAddressedToUs);
        }
    }
    if own.contains(recipient) {
        return hold(HoldReason::OwnAddress(recipient.clone()));
    }
    if sent_in_window >= cap.max {
        return hold(HoldReason::RateCapped {
            recipient: recipient.clone(),
            sent: sent_in_window,
            max: cap.max,
            window_secs: cap.window_secs,
        });
    }
    Verdict::Send
}

/// How an incoming mail was recognised as our own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnMail {
    /// Its Message-ID is one we generated (verified with our key) for this ticket number.
    OurMessageId { ticket: i64 },
    /// Its From is one of our addresses.
    FromOwnAddress(EmailAddress),
}

/// Recognises mailgate's own outgoing mail coming back in. `ids` is `None` when no secret is
/// configured (then only the From address can tell).
pub fn recognise_own_mail(
    message_id: &MessageId,
    from: &EmailAddress,
    ids: Option<&OwnMessageIds>,
    own: &OwnAddresses,
) -> Option<OwnMail> {
    if let Some(ticket) = ids.and_then(|ids| ids.verify(message_id)) {
        return Some(OwnMail::OurMessageId { ticket });
    }
    own.contains(from)
        .then(|| OwnMail::FromOwnAddress(from.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::TicketRef;
    use crate::domain::test_support::{addr, mid};

    fn own() -> OwnAddresses {
        OwnAddresses::new(
            &addr("support@example.test"),
            [addr("escalations@example.test")],
        )
    }

    #[test]
    fn may_send_automatic_table() {
        let own = own();
        let jane = addr("jane@acme.test");
        let bounce = Classification::Bounce("multipart/report".into());
        let auto = Classification::Automatic("Auto-Submitted: auto-replied".into());
        let cap = RateCap::default();
        let to_us = |classification| {
            Some(Trigger {
                classification,
                addressed_to_us: true,
            })
        };
        let bcc = Some(Trigger {
            classification: &Classification::Plain,
            addressed_to_us: false,
        });
        let cases: Vec<(Option<Trigger>, &str, u32, Option<&str>)> = vec![
            (None, "jane@acme.test", 0, None),
            (to_us(&Classification::Plain), "jane@acme.test", 0, None),
            (
                to_us(&Classification::Escalation),
                "jane@acme.test",
                9,
                None,
            ),
            (
                to_us(&Classification::Plain),
                "jane@acme.test",
                10,
                Some("cap 10"),
            ),
            (None, "jane@acme.test", 11, Some("already got 11")),
            (to_us(&bounce), "jane@acme.test", 0, Some("bounce")),
            (to_us(&auto), "jane@acme.test", 0, Some("automatic")),
            (to_us(&bounce), "jane@acme.test", 50, Some("bounce")),
            (bcc, "jane@acme.test", 0, Some("RFC 3834")),
            (None, "SUPPORT@example.test", 0, Some("own addresses")),
            (None, "support+3.ab@example.test", 0, Some("own addresses")),
            (None, "escalations@example.test", 0, Some("own addresses")),
        ];
        for (answering, recipient, sent, hold) in cases {
            let verdict = may_send_automatic(answering, &addr(recipient), &own, sent, cap);
            match (hold, verdict) {
                (None, Verdict::Send) => {}
                (Some(needle), Verdict::Hold { reason }) => {
                    let text = reason.to_string();
                    assert!(text.contains(needle), "{recipient} {sent}: {text}");
                }
                (hold, verdict) => {
                    panic!("{answering:?} {recipient} {sent}: {verdict:?}, wanted {hold:?}")
                }
            }
        }
        let verdict = may_send_automatic(
            None,
            &jane,
            &own,
            3,
            RateCap {
                max: 3,
                window_secs: 60,
            },
        );
        assert_eq!(
            verdict,
            Verdict::Hold {
                reason: HoldReason::RateCapped {
                    recipient: jane.clone(),
                    sent: 3,
                    max: 3,
                    window_secs: 60
                }
            }
        );
        let zero = RateCap {
            max: 0,
            window_secs: 3600,
        };
        assert!(matches!(
            may_send_automatic(None, &jane, &own, 0, zero),
            Verdict::Hold { .. }
        ));
    }

    #[test]
    fn two_autoresponders_cannot_loop() {
        // An out-of-office answers every mail we send; we never answer it back, and the mails
        // caused by plain customer mail stop at the cap.
        let own = own();
        let ooo = addr("ooo@acme.test");
        let auto = Classification::Automatic("X-Autoreply: yes".into());
        let mut sent = 0;
        for round in 0..100 {
            let classification = if round % 2 == 0 {
                Classification::Plain
            } else {
                auto.clone()
            };
            let trigger = Trigger {
                classification: &classification,
                addressed_to_us: true,
            };
            if may_send_automatic(Some(trigger), &ooo, &own, sent, RateCap::default())
                == Verdict::Send
            {
                sent += 1;
            }
        }
        assert_eq!(sent, RateCap::default().max);
    }

    #[test]
    fn recognises_own_mail() {
        let ids = OwnMessageIds::new(Secret::new("k1"));
        let ours = ids
            .generate(&TicketRef::new("SUP", 7), "n1700000000.1", "example.test")
            .unwrap();
        let other_key = OwnMessageIds::new(Secret::new("k2"))
            .generate(&TicketRef::new("SUP", 7), "n1700000000.1", "example.test")
            .unwrap();
        let own = own();
        let jane = addr("jane@acme.test");
        let cases: Vec<(&MessageId, &EmailAddress, bool, Option<OwnMail>)> = vec![
            (
                &ours,
                &jane,
                true,
                Some(OwnMail::OurMessageId { ticket: 7 }),
            ),
            (&ours, &jane, false, None),
            (&other_key, &jane, true, None),
        ];
        for (id, from, with_key, expected) in cases {
            let got = recognise_own_mail(id, from, with_key.then_some(&ids), &own);
            assert_eq!(got, expected, "{id} {from} {with_key}");
        }
        let foreign = mid("CAF3x@mail.gmail.com");
        for (from, expected) in [
            ("support@example.test", true),
            ("Support@EXAMPLE.test", true),
            ("support+7.abc@example.test", true),
            ("escalations@example.test", true),
            ("jane@acme.test", false),
            ("mailer-daemon@example.test", false),
        ] {
            assert_eq!(
                recognise_own_mail(&foreign, &addr(from), Some(&ids), &own).is_some(),
                expected,
                "{from}"
            );
            assert_eq!(
                recognise_own_mail(&foreign, &addr(from), None, &own).is_some(),
                expected,
                "{from}"
            );
        }
        assert_eq!(
            recognise_own_mail(&foreign, &addr("SUPPORT@example.test"), None, &own),
            Some(OwnMail::FromOwnAddress(addr("support@example.test")))
        );
    }
}
