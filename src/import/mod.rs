//! Batch import: readers for mbox, Maildir and folders of .eml files.

mod eml_dir;
mod maildir;
mod mbox;
pub mod reader;

pub use reader::{Format, ItemError, Items, RawItem, ReaderError, detect, open, open_detected};
