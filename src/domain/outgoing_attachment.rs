//! A file mailgate sends (issue 18 item 11): an agent's attachment relayed to the customer or
//! a file given to `tickets reply --attach`. Stored once by its SHA-256, carried by outbox rows.

use sha2::{Digest, Sha256};

/// A file mailgate sends.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingAttachment {
    /// Sanitised (see `parse::sanitise_filename`).
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

impl std::fmt::Debug for OutgoingAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingAttachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.content.len())
            .finish()
    }
}

impl OutgoingAttachment {
    pub fn size(&self) -> usize {
        self.content.len()
    }

    /// Hex SHA-256 of the content (the key it is stored under).
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.content))
    }
}
