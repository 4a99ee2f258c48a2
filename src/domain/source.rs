//! Where a raw message came from: kept on the message and in the decision log so an admin can
//! always answer "which mail was this?".

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A message on an IMAP server.
    Imap {
        mailbox: String,
        uid_validity: u32,
        uid: u32,
    },
    /// A message read from a file: an mbox at a byte offset, a Maildir file, an .eml.
    File {
        path: String,
        /// Byte offset of the message in an mbox; 0 for single-message files.
        offset: u64,
        /// 1-based position of the message within the import run.
        index: u64,
    },
    /// `mailgate ingest -`.
    Stdin,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Imap {
                mailbox,
                uid_validity,
                uid,
            } => write!(f, "imap:{mailbox};uidvalidity={uid_validity};uid={uid}"),
            Source::File { path, offset, .. } if *offset > 0 => write!(f, "{path}@{offset}"),
            Source::File { path, .. } => write!(f, "{path}"),
            Source::Stdin => f.write_str("stdin"),
        }
    }
}
