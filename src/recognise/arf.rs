//! Feedback reports (ARF, RFC 5965), pure: a `message/feedback-report` part, or a
//! `multipart/report` whose `report-type` is `feedback-report`. A mailbox provider's feedback
//! loop reports mail one of its users marked as spam: class `report`, never a ticket; the
//! reported mail (the attached original) is what it refers to. Nobody is marked bouncing: the
//! mail was delivered.

use mail_parser::Message;

use crate::bounce::{field_blocks, read_bounce_message};
use crate::domain::Classification;

use super::Recognition;
use super::parts::Leaf;

pub fn recognise(
    message: &Message<'_>,
    leaves: &[Leaf],
    report_type: Option<&str>,
) -> Option<Recognition> {
    let part = leaves
        .iter()
        .find(|l| l.mime_type == "message/feedback-report");
    let says_arf = report_type.is_some_and(|t| t.contains("feedback-report"));
    if part.is_none() && !says_arf {
        return None;
    }
    // Without a typed part, the fields may sit in a text part.
    let fields_text = part.map(|l| l.text.as_str()).or_else(|| {
        leaves
            .iter()
            .map(|l| l.text.as_str())
            .find(|t| field(t, "feedback-type").is_some())
    });
    let feedback_type = fields_text
        .and_then(|t| field(t, "feedback-type"))
        .unwrap_or_else(|| "unknown".to_string());
    let mut why = format!("ARF, feedback-type {feedback_type}");
    if let Some(rcpt) = fields_text.and_then(|t| field(t, "original-rcpt-to")) {
        why.push_str(&format!(", reported by {}", rcpt.trim_matches(['<', '>'])));
    }
    let mut report = read_bounce_message(message);
    report.failed.clear();
    Some(Recognition {
        classification: Classification::Report(why),
        report,
    })
}

/// The first value of field `name` (lower case) in the header-style fields of `text`.
fn field(text: &str, name: &str) -> Option<String> {
    field_blocks(text)
        .into_iter()
        .flatten()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.chars().take(100).collect::<String>().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognise::parts::leaves;
    use mail_parser::MessageParser;

    #[test]
    fn rfc_5965_example() {
        let raw = "From: <abusedesk@example.com>\r\nTo: <abuse@example.net>\r\n\
            Subject: FW: Earn money\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/report; report-type=feedback-report;\r\n boundary=\"part1\"\r\n\r\n\
            --part1\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report\r\n\
            --part1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n\
            User-Agent: SomeGenerator/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: <jane@example.net>\r\n\r\n\
            --part1\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n\
            From: <support@example.test>\r\nMessage-ID: <ours-9@example.test>\r\nSubject: Earn money\r\n\r\nSpam\r\n\
            --part1--\r\n";
        let m = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let r = recognise(&m, &leaves(&m), Some("feedback-report")).unwrap();
        assert_eq!(
            r.classification,
            Classification::Report("ARF, feedback-type abuse, reported by jane@example.net".into())
        );
        assert_eq!(r.report.referenced[0].as_str(), "ours-9@example.test");
        assert!(r.report.failed.is_empty());
    }
}
