//! Step 1–2 of the pipeline for one message: size check, hash, parse, classify. Pure CPU work
//! with no shared state, so every source runs it on the parse pool (`Preparer`) while the
//! store writes the previous batch.

use sha2::{Digest, Sha256};

use crate::classify::OwnLists;
use crate::config::{Limits, Role};
use crate::domain::{Classification, InboundEmail, MessageId, Rule, SenderOrigin, Source};
use crate::parse;
use crate::store::StoredRaw;

/// Raw bytes as a source delivered them.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub source: Source,
    pub bytes: Vec<u8>,
}

/// A message ready to be decided: parsed, or failed with the reason it will be quarantined.
#[derive(Debug)]
pub struct Prepared {
    pub source: Source,
    pub raw: Vec<u8>,
    pub raw_sha256: String,
    pub content: Content,
    /// What the mail is (SPEC 2.3), classified once, here, for the mailbox it arrived at;
    /// `Plain` for mail that failed.
    pub classification: Classification,
    /// `raw` is only the header: the message was too big to download.
    pub header_only: bool,
    /// What a bounce says (failed recipients, the mails it refers to); `None` for other mail.
    pub bounce: Option<crate::bounce::BounceReport>,
    /// `raw` compressed for storage (as a message or a quarantine entry), done here, in
    /// parallel, so the serial store path neither compresses nor needs `raw` itself.
    pub stored_raw: StoredRaw,
    /// The message's size as received: `raw`'s length, or for a header-only message the size
    /// its source reported; `None` when only known to be over the limit.
    pub size: Option<u64>,
}

#[derive(Debug)]
pub enum Content {
    Parsed(Box<InboundEmail>),
    Failed {
        /// The Message-ID if the headers had one, else a synthetic id.
        message_id: MessageId,
        rule: Rule,
        reason: String,
    },
}

impl Prepared {
    pub fn message_id(&self) -> &MessageId {
        match &self.content {
            Content::Parsed(e) => &e.message_id,
            Content::Failed { message_id, .. } => message_id,
        }
    }
}

/// What reading a mail's bytes found: the part of preparing that runs the parser (and so the
/// part a panic is caught around, see `Preparer`).
#[derive(Debug)]
pub(super) struct Examined {
    pub content: Content,
    pub classification: Classification,
    pub bounce: Option<crate::bounce::BounceReport>,
}

/// Checks the size of `bytes`, parses them within `limits` and classifies the mail as one
/// arriving at a mailbox of `role` (`own`: our own group's list ids and addresses): the only
/// place a mail is classified. A mail that names no sender is kept only when it is machine mail
/// (a bounce, a report, automatic).
pub(super) fn examine(bytes: &[u8], role: Role, own: &OwnLists, limits: &Limits) -> Examined {
    let content = if bytes.len() > limits.max_message_bytes {
        Content::Failed {
            message_id: parse::peek_message_id(bytes),
            rule: Rule::OverSize,
            reason: format!(
                "message is {} bytes, over the limit of {} bytes (limits.max_message_bytes)",
                bytes.len(),
                limits.max_message_bytes
            ),
        }
    } else {
        match parse::parse_any_sender_with(bytes, &limits.parse) {
            Ok(mut email) => {
                if let Some(author) = own.rewritten_author(&email) {
                    // Our own group wrote its address into From; the author is in Reply-To.
                    email.from = author;
                    email.sender_origin = SenderOrigin::ReplyTo;
                }
                Content::Parsed(Box::new(email))
            }
            Err(e) if e.is_over_budget() => Content::Failed {
                message_id: parse::peek_message_id(bytes),
                rule: Rule::OverBudget,
                reason: e.to_string(),
            },
            Err(e) => Content::Failed {
                message_id: parse::peek_message_id(bytes),
                rule: Rule::Unparseable,
                reason: format!("cannot be used as a mail: {e}"),
            },
        }
    };
    let (classification, bounce) = match &content {
        Content::Parsed(email) => crate::recognise::classify(email, bytes, role, own),
        Content::Failed { .. } => (Classification::Plain, None),
    };
    // Classified before a sender is demanded: a bounce or a report needs none, a person's
    // mail without one cannot be answered or attributed.
    if let Content::Parsed(email) = &content
        && email.sender_origin == SenderOrigin::Missing
        && !classification.is_machine_generated()
    {
        return Examined {
            content: Content::Failed {
                message_id: email.message_id.clone(),
                rule: Rule::Unparseable,
                reason: format!("cannot be used as a mail: {}", parse::ParseError::NoSender),
            },
            classification: Classification::Plain,
            bounce: None,
        };
    }
    Examined {
        content,
        classification,
        bounce,
    }
}

/// What is kept of a mail whose examination panicked: quarantined as unparseable, with what
/// the panic said, instead of taking its batch down with it.
pub(super) fn panicked(bytes: &[u8], panic: &str) -> Examined {
    Examined {
        content: Content::Failed {
            message_id: parse::peek_message_id(bytes),
            rule: Rule::Unparseable,
            reason: format!("cannot be used as a mail: the parser panicked: {panic}"),
        },
        classification: Classification::Plain,
        bounce: None,
    }
}

/// A whole message as [`Prepared`], from what [`examine`] found.
pub(super) fn assemble(raw: RawMessage, raw_sha256: String, examined: Examined) -> Prepared {
    let stored_raw = StoredRaw::compress(&raw.bytes);
    Prepared {
        source: raw.source,
        size: Some(raw.bytes.len() as u64),
        raw: raw.bytes,
        raw_sha256,
        content: examined.content,
        classification: examined.classification,
        header_only: false,
        bounce: examined.bounce,
        stored_raw,
    }
}

/// The size of a message known only by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSize {
    /// Known (IMAP RFC822.SIZE, a file's length, an mbox entry streamed past).
    Exactly(u64),
    /// Only known to be over this many bytes (standard input, read no further).
    MoreThan(u64),
}

/// A message over the size limit that was never read whole: only `header` is kept, and the
/// quarantine entry refers to where the message is (`source`) and says how big it is.
pub fn prepare_header_only(
    source: Source,
    header: Vec<u8>,
    size: MessageSize,
    max_bytes: usize,
) -> Prepared {
    let raw_sha256 = hex::encode(Sha256::digest(&header));
    let full_size = match size {
        MessageSize::Exactly(n) => Some(n),
        MessageSize::MoreThan(_) => None,
    };
    Prepared {
        content: Content::Failed {
            message_id: parse::peek_message_id(&header),
            rule: Rule::OverSize,
            reason: header_only_reason(&source, size, max_bytes),
        },
        source,
        stored_raw: StoredRaw::compress(&header),
        size: full_size,
        raw: header,
        raw_sha256,
        header_only: true,
        classification: Classification::Plain,
        bounce: None,
    }
}

fn header_only_reason(source: &Source, size: MessageSize, max_bytes: usize) -> String {
    let size = match size {
        MessageSize::Exactly(n) => format!("{n} bytes"),
        MessageSize::MoreThan(n) => format!("more than {n} bytes"),
    };
    let over = format!("message is {size}, over the limit of {max_bytes} bytes");
    match source {
        Source::Imap { .. } => format!(
            "{over} (max_message_bytes); only its header was downloaded and is kept here, the \
             message itself stays in the mailbox's quarantine folder"
        ),
        Source::Mbox { path, offset, .. } => format!(
            "{over} (limits.max_message_bytes); it was not read into memory: only its header \
             is kept here, the message itself stays in the mbox {path} at byte offset {offset} \
             (quarantine reprocess reads it from there once the limit is raised)"
        ),
        Source::File { path, .. } => format!(
            "{over} (limits.max_message_bytes); it was not read into memory: only its header \
             is kept here, the message itself stays in the file {path} (quarantine reprocess \
             reads it from there once the limit is raised)"
        ),
        Source::Stdin | Source::Quarantine { .. } => format!(
            "{over} (limits.max_message_bytes); only its header was read and is kept here, \
             the rest was not read"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_only_entry_names_where_the_message_is_its_size_and_the_limit() {
        let header = b"From: a@acme.test\r\nMessage-ID: <big@acme.test>\r\n\r\n".to_vec();
        let source = Source::Mbox {
            path: "/archive/2019.mbox".into(),
            offset: 123_456,
            index: 7,
        };
        let p = prepare_header_only(source, header.clone(), MessageSize::Exactly(2 << 30), 1000);
        assert!(p.header_only);
        assert_eq!(p.raw, header);
        assert_eq!(p.size, Some(2 << 30));
        assert_eq!(
            StoredRaw::decode(p.stored_raw.codec.as_str(), p.stored_raw.bytes.clone()).unwrap(),
            header
        );
        assert_eq!(p.message_id().as_str(), "big@acme.test");
        let Content::Failed { rule, reason, .. } = &p.content else {
            panic!("not failed: {p:?}");
        };
        assert_eq!(*rule, Rule::OverSize);
        for part in [
            "message is 2147483648 bytes",
            "over the limit of 1000 bytes",
            "/archive/2019.mbox at byte offset 123456",
        ] {
            assert!(reason.contains(part), "{part:?} not in {reason:?}");
        }
        let stdin = prepare_header_only(Source::Stdin, header, MessageSize::MoreThan(1000), 1000);
        let Content::Failed { reason, .. } = &stdin.content else {
            panic!("not failed");
        };
        assert!(
            reason.starts_with("message is more than 1000 bytes"),
            "{reason}"
        );
    }
}
