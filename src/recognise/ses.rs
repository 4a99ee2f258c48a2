//! Amazon SES notifications delivered through SNS (pure): the mail's text is the JSON of the
//! notification (`notificationType` or, for event publishing, `eventType`), possibly wrapped
//! in SNS's own envelope (`"Type": "Notification"`, the notification as its `Message`
//! string) and followed by SNS's unsubscribe footer.
//!
//! - `Bounce`: a bounce; with `bounceType` `Permanent`, `bounce.bouncedRecipients[].emailAddress`
//!   failed for good (a transient bounce marks nobody).
//! - `Complaint`: a report (a recipient marked the mail as spam).
//! - `Delivery` and other events: automatic mail.
//!
//! The original mail: `mail.commonHeaders.messageId`, else the `Message-ID` of `mail.headers`.

use serde_json::Value;

use crate::bounce::BounceReport;
use crate::domain::{Classification, EmailAddress, MessageId};

use super::Recognition;

/// The most text parsed as JSON (a notification with every header of the mail is a few KB).
const MAX_JSON_BYTES: usize = 1024 * 1024;

/// Whether a body looks like an SES notification (cheap: before any JSON is parsed).
pub fn looks_like(body: &str) -> bool {
    body.trim_start().starts_with('{')
        && (body.contains("notificationType") || body.contains("eventType"))
}

pub fn recognise(body: &str) -> Option<Recognition> {
    if !looks_like(body) {
        return None;
    }
    let json = body.trim_start();
    let json = &json[..json.len().min(MAX_JSON_BYTES)];
    // The first JSON value; SNS's footer after it is not JSON.
    let value: Value = serde_json::Deserializer::from_str(json)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let value = unwrap_sns(value);
    let kind = value
        .get("notificationType")
        .or_else(|| value.get("eventType"))?
        .as_str()?
        .to_string();
    let mut report = BounceReport::default();
    if let Some(id) = original_message_id(&value) {
        report.referenced.push(id);
    }
    let classification = match kind.as_str() {
        "Bounce" => {
            let bounce = value.get("bounce");
            let bounce_type = bounce
                .and_then(|b| b.get("bounceType"))
                .and_then(Value::as_str)
                .unwrap_or("Undetermined");
            if bounce_type == "Permanent" {
                report.failed = addresses(bounce, "bouncedRecipients");
            }
            Classification::Bounce(format!("SES bounce, {}", short(bounce_type)))
        }
        "Complaint" => {
            let who = addresses(value.get("complaint"), "complainedRecipients");
            let mut why = "SES complaint".to_string();
            if let Some(first) = who.first() {
                why.push_str(&format!(", reported by {first}"));
            }
            Classification::Report(why)
        }
        other => Classification::Automatic(format!("SES {} notification", short(other))),
    };
    Some(Recognition {
        classification,
        report,
    })
}

/// The SES notification inside an SNS envelope, or `value` itself.
fn unwrap_sns(value: Value) -> Value {
    let inner = (value.get("Type").and_then(Value::as_str) == Some("Notification"))
        .then(|| value.get("Message").and_then(Value::as_str))
        .flatten()
        .and_then(|m| serde_json::from_str::<Value>(m).ok());
    inner.unwrap_or(value)
}

/// The `emailAddress` of each entry of `list` in `object`, valid ones only, at most 100.
fn addresses(object: Option<&Value>, list: &str) -> Vec<EmailAddress> {
    let Some(entries) = object.and_then(|o| o.get(list)).and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out: Vec<EmailAddress> = Vec::new();
    for a in entries
        .iter()
        .take(100)
        .filter_map(|e| e.get("emailAddress").and_then(Value::as_str))
        .filter_map(|a| EmailAddress::parse(a).ok())
    {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The Message-ID of the mail the notification is about.
fn original_message_id(value: &Value) -> Option<MessageId> {
    let mail = value.get("mail")?;
    let common = mail
        .get("commonHeaders")
        .and_then(|h| h.get("messageId"))
        .and_then(Value::as_str);
    let header = || {
        mail.get("headers")?
            .as_array()?
            .iter()
            .find(|h| {
                h.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case("message-id"))
            })?
            .get("value")?
            .as_str()
    };
    let raw = common.or_else(header)?;
    MessageId::parse(raw.trim().trim_start_matches('<').trim_end_matches('>')).ok()
}

/// At most 40 characters of a JSON string, for reasons.
fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNCE: &str = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"gone@x.test","action":"failed","status":"5.1.1"}],"timestamp":"2026-01-01T00:00:00.000Z","feedbackId":"f"},"mail":{"messageId":"0100abc","source":"support@example.test","headers":[{"name":"Message-ID","value":"<ours-1@example.test>"}],"commonHeaders":{"messageId":"<ours-1@example.test>"}}}"#;

    #[test]
    fn bounce_with_sns_footer() {
        let body = format!(
            "{BOUNCE}\n\n--\nIf you wish to stop receiving notifications from this topic, please click\n"
        );
        let r = recognise(&body).unwrap();
        assert_eq!(
            r.classification,
            Classification::Bounce("SES bounce, Permanent".into())
        );
        assert_eq!(r.report.failed[0].as_str(), "gone@x.test");
        assert_eq!(r.report.referenced[0].as_str(), "ours-1@example.test");
    }

    #[test]
    fn complaint_in_an_sns_envelope() {
        let inner = r#"{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"jane@x.test"}],"complaintFeedbackType":"abuse"},"mail":{"headers":[{"name":"Message-Id","value":"<ours-2@example.test>"}]}}"#;
        let envelope = serde_json::json!({"Type": "Notification", "Message": inner}).to_string();
        let r = recognise(&envelope).unwrap();
        assert_eq!(
            r.classification,
            Classification::Report("SES complaint, reported by jane@x.test".into())
        );
        assert_eq!(r.report.referenced[0].as_str(), "ours-2@example.test");
        assert!(r.report.failed.is_empty());
    }

    #[test]
    fn not_json_or_not_ses() {
        assert!(recognise("hello").is_none());
        assert!(recognise("{\"notificationType\": ").is_none());
        assert!(recognise("{\"other\": 1}").is_none());
    }
}
