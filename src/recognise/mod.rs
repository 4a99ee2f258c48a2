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
) -> (Classification, Option<BounceReport>) {
    if let Some(r) = recognise(email, raw) {
        let report = r.classification.is_machine_generated().then_some(r.report);
        return (r.classification, report);
    }
    let classification = crate::classify::classify(email, role);
    let report = matches!(classification, Classification::Bounce(_)).then(|| read_bounce(raw));
    (classification, report)
}

/// The bounce or report `email` is, if any (see the module documentation).
pub fn recognise(email: &InboundEmail, raw: &[u8]) -> Option<Recognition> {
    let raw_headers = header_scan::scan(raw);
    let signals = signals::header_signals(email, &raw_headers);
    let subject_folded = text::folded(&email.subject);
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
    let worth_reading = report_content
        || sns
        || signals.strong.is_some()
        || signals.weak.is_some()
        || !raw_headers.failed_recipients.is_empty()
        || prose::subject_matches(&subject_folded);
    if !worth_reading {
        return None;
    }
    if sns && let Some(r) = ses::recognise(body) {
        return Some(r);
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
    let body_folded = text::folded(body);
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
