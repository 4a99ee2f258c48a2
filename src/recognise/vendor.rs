//! Bounces and reports in prose (pure): a phrase of the table (`super::phrases`) in the
//! subject or the top of the text, **and** a machine signal (`super::signals`):
//!
//! - a strong signal (null Return-Path, no sender, a mailer daemon, Auto-Submitted) is enough;
//! - a weak one (`postmaster@`, a filter's name) counts when the mail is no reply or forward,
//!   with a vendor's own phrase, or with a generic one when it does not read like a person's;
//! - without either, a signal in the body (an SMTP status code, delivery-status fields, a
//!   returned original) counts only when the phrase opens the text (a notice says what it is
//!   in its first lines), the subject is no reply or forward and the text does not read like a
//!   person's.

use crate::bounce::BounceReport;
use crate::domain::{Classification, EmailAddress};

use super::Recognition;
use super::phrases::{Kind, Place};
use super::prose::{Found, find};
use super::signals::{HeaderSignals, body_signal, is_reply_or_forward, reads_like_a_person};
use super::text::first_lines;

/// What the vendor rule reads.
pub struct Input<'a> {
    pub subject: &'a str,
    /// The lower-cased subject, ISO-2022-JP decoded.
    pub subject_folded: &'a str,
    /// The lower-cased top of the text (capped, ISO-2022-JP decoded).
    pub body_folded: &'a str,
    pub signals: &'a HeaderSignals,
    /// The mail returns an original as a part (message/rfc822, text/rfc822-headers).
    pub returns_original: bool,
}

pub fn recognise(input: &Input<'_>, mut report: BounceReport) -> Option<Recognition> {
    let in_body = find(input.body_folded, Place::Body);
    let in_subject = find(input.subject_folded, Place::Subject);
    let found = pick(in_body, in_subject)?;
    let signal = match (&input.signals.strong, &input.signals.weak) {
        (Some(strong), _) => strong.clone(),
        (None, weak) => {
            if is_reply_or_forward(input.subject) {
                return None;
            }
            let own_phrase = !found.phrase.name.starts_with("generic");
            match weak {
                // A vendor's own words from a sender software uses: what a person would not write.
                Some(weak) if own_phrase => weak.clone(),
                _ if reads_like_a_person(input.body_folded) => return None,
                Some(weak) => weak.clone(),
                None => {
                    let opens = in_body.is_some_and(|f| f.at <= top_end(input.body_folded));
                    let signal = body_signal(input.body_folded)
                        .or(input.returns_original.then_some("a returned original"));
                    match signal {
                        Some(s) if opens => s.to_string(),
                        _ => return None,
                    }
                }
            }
        }
    };
    let why = format!("vendor prose: {}; {signal}", found.phrase.name);
    let classification = match found.kind() {
        Kind::Bounce => {
            for a in failed_in_prose(input.body_folded) {
                if !report.failed.contains(&a) {
                    report.failed.push(a);
                }
            }
            Classification::Bounce(why)
        }
        Kind::Report => {
            report.failed.clear();
            Classification::Report(why)
        }
    };
    Some(Recognition {
        classification,
        report,
    })
}

/// A vendor's own phrase before a generic one; the text's before the subject's.
fn pick(in_body: Option<Found>, in_subject: Option<Found>) -> Option<Found> {
    let own = |f: &Option<Found>| f.filter(|f| !f.phrase.name.starts_with("generic"));
    own(&in_body)
        .or(own(&in_subject))
        .or(in_body)
        .or(in_subject)
}

/// The byte offset where the third non-empty line of `text` ends.
fn top_end(text: &str) -> usize {
    first_lines(text, 3)
        .last()
        .map(|line| line.as_ptr() as usize - text.as_ptr() as usize + line.len())
        .unwrap_or(0)
}

/// Failed recipients a prose bounce names: qmail's `<gone@x.test>:` lines and lines with one
/// address and an SMTP status code, before the returned original; at most 20.
fn failed_in_prose(text: &str) -> Vec<EmailAddress> {
    let mut out: Vec<EmailAddress> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("received: ") || line.starts_with("message-id:") || out.len() >= 20 {
            break;
        }
        let qmail = line
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix(">:"))
            .and_then(|a| EmailAddress::parse(a).ok());
        let with_status = || {
            if !super::signals::has_smtp_status(line) {
                return None;
            }
            let mut addresses = line
                .split(|c: char| {
                    c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"')
                })
                .map(|t| t.trim_end_matches([':', '.']))
                .filter(|t| t.contains('@'))
                .filter_map(|t| EmailAddress::parse(t).ok());
            let first = addresses.next()?;
            addresses.next().is_none().then_some(first)
        };
        if let Some(a) = qmail.or_else(with_status)
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(subject: &'a str, body: &'a str, signals: &'a HeaderSignals) -> Input<'a> {
        Input {
            subject,
            subject_folded: subject,
            body_folded: body,
            signals,
            returns_original: false,
        }
    }

    fn strong() -> HeaderSignals {
        HeaderSignals {
            strong: Some("null Return-Path".into()),
            ..HeaderSignals::default()
        }
    }

    #[test]
    fn phrase_and_strong_signal() {
        let s = strong();
        let body = "hi. this is the qmail-send program at mx.test.\n<gone@x.test>:\nno mailbox\n";
        let r = recognise(&input("failure notice", body, &s), BounceReport::default()).unwrap();
        assert_eq!(
            r.classification,
            Classification::Bounce("vendor prose: qmail; null Return-Path".into())
        );
        assert_eq!(r.report.failed[0].as_str(), "gone@x.test");
    }

    #[test]
    fn a_person_without_machine_signal_stays_a_person() {
        let none = HeaderSignals::default();
        for (subject, body) in [
            (
                "undelivered mail",
                "hello,\nmy mail was returned undelivered with 550 5.1.1, can you check?",
            ),
            (
                "fwd: undelivered mail returned to sender",
                "this is the mail system at host mx.\n550 5.1.1 unknown",
            ),
            (
                "undeliverable",
                "could not be delivered to you. no code given.",
            ),
        ] {
            assert!(
                recognise(&input(subject, body, &none), BounceReport::default()).is_none(),
                "{subject}"
            );
        }
    }

    #[test]
    fn body_signal_when_the_notice_opens_the_text() {
        let none = HeaderSignals::default();
        let body = "delivery has failed to these recipients or groups:\n\ngone@x.test\n\
                    remote server returned '550 5.1.1 resolver.adr.recipnotfound'\n";
        let r = recognise(
            &input("undeliverable: hi", body, &none),
            BounceReport::default(),
        )
        .unwrap();
        assert_eq!(
            r.classification,
            Classification::Bounce("vendor prose: Exchange; an SMTP status code".into())
        );
    }
}
