//! Delivery status notifications (RFC 3464), pure: a `message/delivery-status` (or
//! `global-delivery-status`) part anywhere in the mail, or a `multipart/report` whose
//! `report-type` says `delivery-status` (folded or reordered parameters included) with its
//! status fields in a part of another type.

use mail_parser::Message;

use crate::bounce::{failed_recipients, field_blocks, read_bounce_message};
use crate::domain::Classification;

use super::Recognition;
use super::parts::{Leaf, is_multipart_report};

/// The DSN in `message`, if it is one. `report_type`: the top-level `report-type` as the raw
/// header scan found it.
pub fn recognise(
    message: &Message<'_>,
    leaves: &[Leaf],
    report_type: Option<&str>,
) -> Option<Recognition> {
    let status_parts: Vec<&Leaf> = leaves
        .iter()
        .filter(|l| l.mime_type.ends_with("delivery-status"))
        .collect();
    let says_dsn = report_type.is_some_and(|t| t.contains("delivery-status"));
    let mut texts: Vec<&str> = status_parts.iter().map(|l| l.text.as_str()).collect();
    let mut in_other_part = false;
    if texts.is_empty() {
        if !(says_dsn || is_multipart_report(message)) {
            return None;
        }
        // The status fields sit in a part labelled otherwise (text/plain, no type at all).
        texts = leaves
            .iter()
            .filter(|l| has_status_fields(&l.text))
            .map(|l| l.text.as_str())
            .collect();
        in_other_part = true;
        if texts.is_empty() && !says_dsn {
            return None;
        }
    }
    let mut report = read_bounce_message(message);
    if in_other_part {
        for text in &texts {
            for a in failed_recipients(text) {
                if !report.failed.contains(&a) {
                    report.failed.push(a);
                }
            }
        }
    }
    let why = match actions(&texts) {
        Actions::Failed => "DSN",
        Actions::Delayed => "DSN, delayed",
        Actions::Other => "DSN, no failure",
    };
    Some(Recognition {
        classification: Classification::Bounce(why.to_string()),
        report,
    })
}

/// Whether a text holds a per-recipient block of DSN fields.
fn has_status_fields(text: &str) -> bool {
    field_blocks(text).iter().any(|block| {
        let has = |n: &str| block.iter().any(|(name, _)| name == n);
        (has("final-recipient") || has("original-recipient")) && has("action")
    })
}

/// What the `Action` fields of a DSN say, taken together.
#[derive(Debug, PartialEq, Eq)]
enum Actions {
    /// At least one recipient failed (or no action is given: a DSN is sent for failures).
    Failed,
    /// Only delays.
    Delayed,
    /// Only deliveries, relays, expansions.
    Other,
}

fn actions(texts: &[&str]) -> Actions {
    let mut seen = Vec::new();
    for text in texts {
        for block in field_blocks(text) {
            if let Some((_, v)) = block.iter().find(|(n, _)| n == "action") {
                seen.push(v.trim().to_ascii_lowercase());
            }
        }
    }
    if seen.is_empty() || seen.iter().any(|a| a.starts_with("failed")) {
        Actions::Failed
    } else if seen.iter().any(|a| a.starts_with("delayed")) {
        Actions::Delayed
    } else {
        Actions::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognise::parts::leaves;
    use mail_parser::MessageParser;

    fn recognise_raw(raw: &str) -> Option<Recognition> {
        let m = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let l = leaves(&m);
        let rt = crate::recognise::header_scan::scan(raw.as_bytes()).report_type;
        recognise(&m, &l, rt.as_deref())
    }

    #[test]
    fn status_part_first_and_mislabelled() {
        let raw = "From: x@mx.test\r\nContent-Type: multipart/report; boundary=b;\r\n report-type=delivery-status\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n\
            Final-Recipient: rfc822; gone@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nYour mail failed.\r\n--b--\r\n";
        let r = recognise_raw(raw).unwrap();
        assert_eq!(r.classification, Classification::Bounce("DSN".into()));
        assert_eq!(r.report.failed[0].as_str(), "gone@x.test");
    }

    #[test]
    fn delayed_dsn() {
        let raw = "From: x@mx.test\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
            --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n\
            Final-Recipient: rfc822; slow@x.test\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n--b--\r\n";
        let r = recognise_raw(raw).unwrap();
        assert_eq!(
            r.classification,
            Classification::Bounce("DSN, delayed".into())
        );
        assert!(r.report.failed.is_empty());
    }

    #[test]
    fn a_plain_mail_quoting_status_fields_is_no_dsn() {
        let raw = "From: jane@acme.test\r\nContent-Type: text/plain\r\n\r\n\
            Final-Recipient: rfc822; gone@x.test\r\nAction: failed\r\n";
        assert!(recognise_raw(raw).is_none());
    }
}
