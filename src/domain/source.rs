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
    /// A message in an mbox file, at the byte offset of its `From ` line.
    Mbox {
        path: String,
        offset: u64,
        /// 1-based position of the message in the file.
        index: u64,
    },
    /// A one-message file: an .eml, or a file of a Maildir.
    File {
        path: String,
        /// 1-based position of the file within the import run.
        index: u64,
    },
    /// `mailgate ingest -`.
    Stdin,
    /// `mailgate quarantine reprocess ID`.
    Quarantine { id: i64 },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Imap {
                mailbox,
                uid_validity,
                uid,
            } => write!(f, "imap:{mailbox};uidvalidity={uid_validity};uid={uid}"),
            Source::Mbox { path, offset, .. } => write!(f, "{path}@{offset}"),
            Source::File { path, .. } => write!(f, "{path}"),
            Source::Stdin => f.write_str("stdin"),
            Source::Quarantine { id } => write!(f, "quarantine#{id}"),
        }
    }
}
