//! Recognising bounces and reports by what a mail says, not only its headers (SPEC 2.3; pure).
//!
//! Only mail with a machine signal or a report's content type is read further (so a customer's
//! mail costs one header scan and a subject match): a report content type, a null Return-Path,
//! no sender, a mailer daemon or a filter as sender, `Auto-Submitted`, `X-Failed-Recipients`,
//! Amazon SNS, or a subject phrase of the table. Then, in order, the first that matches:
//!
//! 1. `ses`: an Amazon SES notification through SNS (JSON body) → bounce, report or automatic;
//! 2. `arf`: a feedback report (RFC 5965) → report;
//! 3. `dsn`: a delivery status notification (RFC 3464) → bounce;
//! 4. `X-Failed-Recipients` (Exim and others) → bounce;
//! 5. `vendor`: a phrase of the table (`phrases`, matched by `prose`) with a machine signal
//!    (`signals`) → bounce or report;
//! 6. a mailer daemon that says nothing the table knows → bounce.
//!
//! The classification's reason names the signal: `DSN`, `ARF, feedback-type abuse`,
//! `SES bounce, Permanent`, `X-Failed-Recipients`, `vendor prose: Postfix; null Return-Path`.
//! Each also yields a [`BounceReport`]: the failed recipients and the Message-IDs it refers to.
//! Every cost is linear and capped: the header block is bounded by the parser's budget, the
//! text read by [`text::MAX_TEXT_BYTES`].

mod arf;
mod dsn;
pub mod header_scan;
mod parts;
pub mod phrases;
mod prose;
mod ses;
pub mod signals;
pub mod text;
mod vendor;

use mail_parser::MessageParser;

use crate::bounce::{BounceReport, read_bounce, read_bounce_message};
use crate::classify::OwnLists;
use crate::config::Role;
use crate::domain::{Classification, EmailAddress, InboundEmail};

/// A mail recognised as a bounce or a report (or, for SES deliveries, automatic mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognition {
    pub classification: Classification,
    pub report: BounceReport,
}

/// Classifies a parsed mail (`raw`: its bytes) arriving at a mailbox of `role`: a bounce or a
/// report when [`recognise`] finds one, else by [`crate::classify::classify`]. A bounce comes
/// with what it says ([`BounceReport`]).
pub fn classify(
    email: &InboundEmail,
    raw: &[u8],
    role: Role,
    own: &OwnLists,
) -> (Classification, Option<BounceReport>) {
    if let Some(r) = recognise(email, raw) {
        let report = r.classification.is_machine_generated().then_some(r.report);
        return (r.classification, report);
    }
    let classification = crate::classify::classify_with(email, role, own);
    let report = matches!(classification, Classification::Bounce(_)).then(|| read_bounce(raw));
    (classification, report)
}

/// The bounce or report `email` is, if any (see the module documentation).
pub fn recognise(email: &InboundEmail, raw: &[u8]) -> Option<Recognition> {
    let raw_headers = header_scan::scan(raw);
    let body = text::capped(&email.body_text);
    let report_type = raw_headers
        .report_type
        .clone()
        .or_else(|| email.headers.report_type.clone());
    let report_content = email.headers.content_type == "multipart/report"
        || email.headers.has_delivery_status
        || report_type.is_some();
    let sns = raw_headers.sns
        || email.from.address.domain().ends_with("amazonaws.com")
        || ses::looks_like(body);
    if sns && let Some(r) = ses::recognise(body) {
        return Some(r);
    }
    let structured = report_content || !raw_headers.failed_recipients.is_empty();
    let signals = signals::header_signals(email, &raw_headers);
    let subject_folded = text::folded(&email.subject);
    let mut body_folded = None;
    if !structured {
        // Prose only: nothing is parsed again unless a phrase of the table is there.
        let subject_phrase = prose::subject_matches(&subject_folded);
        if !(subject_phrase || signals.strong.is_some() || signals.weak.is_some()) {
            return None;
        }
        let folded = text::folded(body);
        let body_phrase = prose::find(&folded, phrases::Place::Body).is_some();
        if !(subject_phrase || body_phrase || signals.mailer_daemon) {
            return None;
        }
        body_folded = Some(folded);
    }
    let message = MessageParser::default().parse(raw);
    let leaves = message.as_ref().map(parts::leaves).unwrap_or_default();
    if let Some(m) = &message {
        if let Some(r) = arf::recognise(m, &leaves, report_type.as_deref()) {
            return Some(r);
        }
        if let Some(r) = dsn::recognise(m, &leaves, report_type.as_deref()) {
            return Some(r);
        }
    }
    let returned = || {
        message
            .as_ref()
            .map(|m| read_bounce_message(m))
            .unwrap_or_default()
    };
    if !raw_headers.failed_recipients.is_empty() {
        let mut report = returned();
        for a in raw_headers
            .failed_recipients
            .iter()
            .flat_map(|v| v.split([',', ' ']))
            .filter_map(|a| EmailAddress::parse(a).ok())
            .take(100)
        {
            if !report.failed.contains(&a) {
                report.failed.push(a);
            }
        }
        return Some(Recognition {
            classification: Classification::Bounce("X-Failed-Recipients".into()),
            report,
        });
    }
    let body_folded = body_folded.unwrap_or_else(|| text::folded(body));
    let input = vendor::Input {
        subject: &email.subject,
        subject_folded: &subject_folded,
        body_folded: &body_folded,
        signals: &signals,
        returns_original: message.as_ref().is_some_and(parts::returns_original),
    };
    if let Some(r) = vendor::recognise(&input, returned()) {
        return Some(r);
    }
    if signals.mailer_daemon {
        let why = signals.strong.clone().unwrap_or_default();
        return Some(Recognition {
            classification: Classification::Bounce(why),
            report: returned(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(raw: &str) -> Option<Recognition> {
        let email = crate::parse::parse_any_sender_with(raw.as_bytes(), &Default::default())
            .expect("parses");
        recognise(&email, raw.as_bytes())
    }

    fn why(raw: &str) -> Option<String> {
        run(raw).map(|r| {
            format!(
                "{}: {}",
                r.classification.as_str(),
                r.classification.why().unwrap_or_default()
            )
        })
    }

    #[test]
    fn x_failed_recipients() {
        let r = run("From: Mail Delivery System <Mailer-Daemon@mx.test>\r\n\
            X-Failed-Recipients: gone@x.test, other@x.test\r\nSubject: hi\r\n\r\nsorry\r\n")
        .unwrap();
        assert_eq!(
            r.classification,
            Classification::Bounce("X-Failed-Recipients".into())
        );
        let failed: Vec<&str> = r.report.failed.iter().map(EmailAddress::as_str).collect();
        assert_eq!(failed, ["gone@x.test", "other@x.test"]);
    }

    #[test]
    fn no_from_and_empty_from_are_recognised() {
        let dsn = "Subject: Undelivered Mail Returned to Sender\r\n\
            Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
            --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n\
            Final-Recipient: rfc822; a@x.test\r\nAction: failed\r\n\r\n--b--\r\n";
        assert_eq!(why(dsn).as_deref(), Some("bounce: DSN"));
        let prose = "From: MAILER-DAEMON (Mail Delivery System)\r\nSubject: Returned mail: see transcript\r\n\r\n\
            The original message was received at Mon\r\n";
        assert_eq!(
            why(prose).as_deref(),
            Some(
                "bounce: vendor prose: sendmail; no sender address (From: MAILER-DAEMON (Mail Delivery System))"
            )
        );
        let odd = "From: MAILER-DAEMON <>\r\nSubject: x\r\n\r\nsomething unknown\r\n";
        assert_eq!(
            why(odd).as_deref(),
            Some("bounce: no sender address (From: MAILER-DAEMON <>)")
        );
    }

    #[test]
    fn ses_through_sns_mail() {
        let raw = "From: AWS Notifications <no-reply@sns.amazonaws.com>\r\nSubject: AWS Notification Message\r\n\r\n\
            {\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Transient\",\"bouncedRecipients\":[{\"emailAddress\":\"a@x.test\"}]},\
            \"mail\":{\"commonHeaders\":{\"messageId\":\"<m1@example.test>\"}}}\r\n--\r\nIf you wish to stop receiving notifications\r\n";
        let r = run(raw).unwrap();
        assert_eq!(
            r.classification,
            Classification::Bounce("SES bounce, Transient".into())
        );
        assert!(
            r.report.failed.is_empty(),
            "a transient bounce marks nobody"
        );
        assert_eq!(r.report.referenced[0].as_str(), "m1@example.test");
    }

    #[test]
    fn people_talking_about_bounces_are_not_recognised() {
        for raw in [
            "From: Jane <jane@acme.test>\r\nSubject: Undelivered mail\r\n\r\n\
             Hello,\r\nmy mail to you was returned undelivered, can you check?\r\n",
            "From: Jane <jane@acme.test>\r\nSubject: Fwd: Undelivered Mail Returned to Sender\r\n\r\n\
             See below.\r\n\r\nThis is the mail system at host mx.\r\n<a@x.test>: 550 5.1.1 unknown\r\n\
             Received: from x by y\r\n",
            "From: Jane <jane@acme.test>\r\nSubject: Printer\r\n\r\nIt jams.\r\n",
        ] {
            assert!(run(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn a_huge_automatic_mail_is_read_only_so_far() {
        let mut raw = String::from(
            "From: robot@app.test\r\nAuto-Submitted: auto-generated\r\nSubject: Report\r\n\r\n",
        );
        while raw.len() < 8 << 20 {
            raw.push_str("this line says nothing a notice would say\r\n");
        }
        let started = std::time::Instant::now();
        assert!(run(&raw).is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}

#[cfg(test)]
mod cost_tests {
    /// The recogniser's cost on ordinary mail, next to parsing it: run with
    /// `cargo test --lib recognise::cost_tests -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn cost_next_to_parsing() {
        let mut mbox = Vec::new();
        mailgate_test_support::write_mbox(
            &mailgate_test_support::ArchiveSpec::new(5000, 42),
            &mut mbox,
        )
        .unwrap();
        let text = String::from_utf8_lossy(&mbox);
        let mails: Vec<&str> = text.split("\nFrom ").skip(1).collect();
        let parsed: Vec<_> = mails
            .iter()
            .filter_map(|m| {
                let body = m.split_once('\n')?.1;
                Some((
                    crate::parse::parse_any_sender_with(body.as_bytes(), &Default::default())
                        .ok()?,
                    body,
                ))
            })
            .collect();
        let t = std::time::Instant::now();
        for (_, body) in &parsed {
            let _ = crate::parse::parse_any_sender_with(body.as_bytes(), &Default::default());
        }
        let parse = t.elapsed();
        let t = std::time::Instant::now();
        let mut gated = 0;
        for (email, body) in &parsed {
            if super::recognise(email, body.as_bytes()).is_some() {
                gated += 1;
            }
        }
        let recognise = t.elapsed();
        let t = std::time::Instant::now();
        let scans: Vec<_> = parsed
            .iter()
            .map(|(_, body)| super::header_scan::scan(body.as_bytes()))
            .collect();
        eprintln!("scan {:?}", t.elapsed());
        let t = std::time::Instant::now();
        for ((email, _), h) in parsed.iter().zip(&scans) {
            let _ = super::signals::header_signals(email, h);
        }
        eprintln!("signals {:?}", t.elapsed());
        let t = std::time::Instant::now();
        for (email, _) in &parsed {
            let s = super::text::folded(&email.subject);
            let _ = super::prose::subject_matches(&s);
        }
        eprintln!("subject {:?}", t.elapsed());
        let t = std::time::Instant::now();
        for (email, _) in &parsed {
            let _ = crate::classify::classify(email, crate::config::Role::Support);
        }
        let classify = t.elapsed();
        eprintln!(
            "{} mails: parse {parse:?}, recognise {recognise:?} ({gated} recognised), classify {classify:?}",
            parsed.len()
        );
    }
}
