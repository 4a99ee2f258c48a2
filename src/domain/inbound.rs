//! `InboundEmail`: everything the pipeline needs from one received mail, owned and parsed.
//! Built only by `crate::parse`; the raw bytes travel beside it in `crate::pipeline::RawMessage`.

use serde::Serialize;

use super::{EmailAddress, Mailbox, MessageId};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboundEmail {
    pub message_id: MessageId,
    /// True when the mail had no usable Message-ID and `message_id` was derived from its bytes.
    pub message_id_synthetic: bool,
    /// The sender: the From address, or a fallback when From has none (see `sender_origin`).
    pub from: Mailbox,
    /// Which header `from` was taken from. Only `From` can be attested by the receiving
    /// server's DMARC check; a fallback sender is unverified and never authorises anything.
    pub sender_origin: SenderOrigin,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// Envelope-ish recipients added by the receiving MTA (Delivered-To, X-Original-To); with
    /// `to` and `cc` these are where a plus-address token is looked for.
    pub delivered_to: Vec<EmailAddress>,
    /// Subject, RFC 2047 decoded; empty when missing.
    pub subject: String,
    /// Date header as Unix seconds, when present and valid.
    pub date: Option<i64>,
    pub in_reply_to: Vec<MessageId>,
    pub references: Vec<MessageId>,
    /// The whole text body (HTML converted to text when there is no text part).
    pub body_text: String,
    /// Only what is new in this mail: quoted history and signature removed.
    pub reply_text: String,
    pub attachments: Vec<Attachment>,
    pub headers: ClassifyHeaders,
    /// Size of the raw message in bytes.
    pub size: usize,
    /// The lists the parser cut to their `[limits]` (empty for almost every mail).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trimmed: Vec<Trim>,
}

impl InboundEmail {
    /// Every recipient address the mail was sent to (To, Cc, Delivered-To, X-Original-To).
    pub fn recipients(&self) -> impl Iterator<Item = &EmailAddress> {
        self.to
            .iter()
            .chain(self.cc.iter())
            .map(|m| &m.address)
            .chain(self.delivered_to.iter())
    }
}

/// Where the sender address of a mail was found (SPEC 2, Trust).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderOrigin {
    /// A well-formed address in From: what a receiving server's DMARC check looks at.
    From,
    /// Salvaged from a mangled From value.
    MangledFrom,
    /// From had no usable address; taken from Sender.
    Sender,
    /// From and Sender had no usable address; taken from Reply-To.
    ReplyTo,
    /// From, Sender and Reply-To had no usable address; taken from Return-Path.
    ReturnPath,
    /// No header had a well-formed address; salvaged from a mangled Sender, Reply-To or
    /// Return-Path.
    OtherHeader,
    /// No header holds a usable address (`From: MAILER-DAEMON <>`, no From at all): `from` is
    /// [`Mailbox::no_sender`]. Only machine mail (a bounce, a report, automatic mail) is kept
    /// without a sender; a person's mail without one is quarantined (`pipeline`).
    Missing,
}

impl SenderOrigin {
    /// Whether the sender is the From address a receiving server checks (DMARC aligns on it).
    pub fn is_from(self) -> bool {
        self == SenderOrigin::From
    }

    /// The header the sender was taken from, for reasons.
    pub fn header(self) -> &'static str {
        match self {
            SenderOrigin::From => "From",
            SenderOrigin::MangledFrom => "a mangled From",
            SenderOrigin::Sender => "Sender",
            SenderOrigin::ReplyTo => "Reply-To",
            SenderOrigin::ReturnPath => "Return-Path",
            SenderOrigin::OtherHeader => "another address header",
            SenderOrigin::Missing => "no header (the mail names no sender)",
        }
    }
}

/// A header list the parser cut to its limit (SPEC 2: trimmed where that is safe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trim {
    /// The header: `To`, `Cc`, `Reply-To`, `Delivered-To` or `References`.
    pub header: &'static str,
    /// Distinct valid entries the header held.
    pub found: usize,
    pub kept: Kept,
    /// What the entries are: `addresses`, `Message-IDs`.
    pub unit: &'static str,
    /// The config key of the limit, e.g. `limits.max_references`.
    pub limit: &'static str,
}

/// Which entries a [`Trim`] kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// The first n.
    First(usize),
    /// The first and the last ones (References, as mail clients shorten it).
    Ends { first: usize, last: usize },
}

impl std::fmt::Display for Trim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (header, found, unit, limit) = (self.header, self.found, self.unit, self.limit);
        match self.kept {
            Kept::First(n) => write!(f, "{header} kept the first {n} of {found} {unit} ({limit})"),
            Kept::Ends { first, last } => write!(
                f,
                "{header} kept the first {first} and the last {last} of {found} {unit} ({limit})"
            ),
        }
    }
}

/// A file attached to a mail.
#[derive(Clone, PartialEq, Serialize)]
pub struct Attachment {
    /// Sanitised: no path, no control characters, never empty.
    pub filename: String,
    pub content_type: String,
    pub size: usize,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    #[serde(skip)]
    pub content: Vec<u8>,
    /// An image shown inside the mail's text (a signature logo): referenced by `cid:` from
    /// its HTML, or a small inline image. Kept on the ticket, never relayed as a file.
    #[serde(skip)]
    pub embedded: bool,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .field("embedded", &self.embedded)
            .finish()
    }
}

/// The headers and structure facts that classification reads. Values are raw header text,
/// trimmed; `None` when the header is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassifyHeaders {
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub x_autoreply: Option<String>,
    pub x_autorespond: Option<String>,
    pub list_id: Option<String>,
    /// List-Post (RFC 2369): where a discussion list is written to; `NO` for announcements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_post: Option<String>,
    /// List-Unsubscribe (RFC 2369).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe: Option<String>,
    /// X-BeenThere: the list address Mailman sent the mail through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_been_there: Option<String>,
    pub return_path: Option<String>,
    pub authentication_results: Vec<String>,
    pub x_priority: Option<String>,
    /// Top-level content type, lower case, e.g. `multipart/report`.
    pub content_type: String,
    /// The `report-type` parameter of a multipart/report, lower case.
    pub report_type: Option<String>,
    /// A `message/delivery-status` part is present anywhere in the mail.
    pub has_delivery_status: bool,
}
