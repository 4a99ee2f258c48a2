//! What the archive readers (mbox, Maildir, folders of .eml files) yield and how they fail:
//! the types they share, apart from the dispatch that picks one (`import::reader`), so the
//! readers import these without importing the dispatch that imports them.
//!
//! Errors come in two kinds. [`ReaderError`] means the archive cannot be opened at all.
//! [`ItemError`] is one bad entry (an unreadable Maildir file, an I/O error mid-mbox): it is
//! yielded as an item and the iteration goes on where it can, so one bad file does not abort an
//! import of thousands.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::domain::Source;
use crate::pipeline::MessageSize;

/// The archive cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("unknown archive format {0:?} (expected mbox, maildir or eml)")]
    UnknownFormat(String),
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a Maildir (no cur/ and new/, no Maildir++ .Folder/cur)")]
    NotMaildir { path: PathBuf },
    #[error("{path}: is a directory, expected an mbox file")]
    MboxIsDirectory { path: PathBuf },
}

impl ReaderError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound {
            ReaderError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ReaderError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// One entry of the archive that could not be read; the iteration continues after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {error}")]
pub struct ItemError {
    /// Where: a file path, or `path@offset` inside an mbox.
    pub position: String,
    pub error: String,
}

impl ItemError {
    pub(crate) fn new(position: impl Into<String>, error: impl fmt::Display) -> Self {
        ItemError {
            position: position.into(),
            error: error.to_string(),
        }
    }
}

/// One raw message and where it came from (`Source::Mbox` or `Source::File`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    pub source: Source,
    /// The message, or only its header when it is over the size limit.
    pub bytes: Vec<u8>,
    /// `Some`: the message is over the size limit and was not read (`bytes` is its header).
    pub oversized: Option<MessageSize>,
}

/// Files a folder listing passed over, with the first few names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotMail {
    pub count: u64,
    pub examples: Vec<String>,
}

impl NotMail {
    /// Names kept to show; the count stays exact.
    const EXAMPLES: usize = 1000;

    pub(crate) fn add(&mut self, path: &Path) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(path.display().to_string());
        }
    }
}

/// Whether a directory entry name is hidden (`.`-prefixed): skipped everywhere.
pub(crate) fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}
