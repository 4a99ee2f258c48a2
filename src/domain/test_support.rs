//! Builders for unit tests of the pure rules.

use super::{ClassifyHeaders, EmailAddress, InboundEmail, Mailbox, MessageId, SenderOrigin};

pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

pub fn mid(s: &str) -> MessageId {
    MessageId::parse(s).unwrap()
}

/// A plain mail from `from` to support@example.test.
pub fn email(from: &str, subject: &str) -> InboundEmail {
    InboundEmail {
        message_id: mid(&format!("{}.{}@test", subject.len(), from.len())),
        message_id_synthetic: false,
        from: Mailbox {
            name: None,
            address: addr(from),
        },
        sender_origin: SenderOrigin::From,
        to: vec![Mailbox {
            name: None,
            address: addr("support@example.test"),
        }],
        cc: Vec::new(),
        reply_to: Vec::new(),
        delivered_to: Vec::new(),
        subject: subject.to_string(),
        date: Some(1_700_000_000),
        in_reply_to: Vec::new(),
        references: Vec::new(),
        body_text: "Hello".into(),
        reply_text: "Hello".into(),
        attachments: Vec::new(),
        headers: ClassifyHeaders {
            content_type: "text/plain".into(),
            ..ClassifyHeaders::default()
        },
        size: 100,
        trimmed: Vec::new(),
    }
}
