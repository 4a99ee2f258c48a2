//! How far a source has got, stored in the same transaction as the mail it produced: an
//! archive's position, or a mailbox's last handled UID under its UIDVALIDITY.

/// How far a source has got, stored in the same transaction as the mail it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    Import {
        path: String,
        position: String,
        messages: i64,
    },
    Imap {
        mailbox: String,
        uid_validity: u32,
        last_uid: u32,
    },
}

/// What the store remembers of a mailbox (written in the same transaction as its mail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    pub uid_validity: u32,
    pub last_uid: u32,
}
