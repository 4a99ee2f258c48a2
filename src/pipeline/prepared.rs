//! Step 1–2 of the pipeline for one message: size check, hash, parse. Pure CPU work with no
//! shared state, so import runs it on every core while the store writes the previous batch.

use sha2::{Digest, Sha256};

use crate::config::Limits;
use crate::domain::{InboundEmail, MessageId, Rule, Source};
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

/// Hashes and parses `raw` within `limits` (the configured ones: `Settings::limits`).
pub fn prepare(raw: RawMessage, limits: impl Into<Limits>) -> Prepared {
    let raw_sha256 = hex::encode(Sha256::digest(&raw.bytes));
    prepare_hashed(raw, raw_sha256, limits)
}

/// [`prepare`] for bytes whose hex SHA-256 the caller already computed.
pub fn prepare_hashed(raw: RawMessage, raw_sha256: String, limits: impl Into<Limits>) -> Prepared {
    let limits = limits.into();
    let content = if raw.bytes.len() > limits.max_message_bytes {
        Content::Failed {
            message_id: parse::peek_message_id(&raw.bytes),
            rule: Rule::OverSize,
            reason: format!(
                "message is {} bytes, over the limit of {} bytes (limits.max_message_bytes)",
                raw.bytes.len(),
                limits.max_message_bytes
            ),
        }
    } else {
        match parse::parse_with(&raw.bytes, &limits.parse) {
            Ok(email) => Content::Parsed(Box::new(email)),
            Err(e) if e.is_over_budget() => Content::Failed {
                message_id: parse::peek_message_id(&raw.bytes),
                rule: Rule::OverBudget,
                reason: e.to_string(),
            },
            Err(e) => Content::Failed {
                message_id: parse::peek_message_id(&raw.bytes),
                rule: Rule::Unparseable,
                reason: format!("cannot be used as a mail: {e}"),
            },
        }
    };
    let bounce = match &content {
        Content::Parsed(email)
            if matches!(
                crate::classify::classify(email, crate::config::Role::Support),
                crate::domain::Classification::Bounce(_)
            ) =>
        {
            Some(crate::bounce::read_bounce(&raw.bytes))
        }
        _ => None,
    };
    let stored_raw = StoredRaw::compress(&raw.bytes);
    Prepared {
        source: raw.source,
        size: Some(raw.bytes.len() as u64),
        raw: raw.bytes,
        raw_sha256,
        content,
        header_only: false,
        bounce,
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

/// A message too big to download (its size known from the server, e.g. IMAP RFC822.SIZE):
/// only its header was fetched. It is quarantined with the header as its stored bytes; the
/// message itself stays in the source's quarantine folder.
pub fn prepare_oversized(
    source: Source,
    header: Vec<u8>,
    size: u64,
    limits: impl Into<Limits>,
) -> Prepared {
    let max_bytes = limits.into().max_message_bytes;
    prepare_header_only(source, header, MessageSize::Exactly(size), max_bytes)
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
