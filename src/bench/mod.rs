//! `mailgate bench`: a synthetic archive and throughput / peak-memory figures.

pub mod archive;
mod corpus;
pub mod imap;
pub mod memory;
mod message;
mod mime;
pub mod outbox;

pub use archive::{ArchiveSpec, ArchiveStats, write_mbox, write_mbox_of_size};
