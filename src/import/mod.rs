//! Batch import: readers for mbox, Maildir and folders of .eml files.

mod eml_dir;
mod lines;
mod maildir;
mod mbox;
pub mod oversized;
pub mod reader;
mod report;
mod run;

pub use reader::{Format, ItemError, Items, RawItem, ReaderError, detect, open};
pub use report::{Failure, ImportReport};
pub use run::{ImportRequest, import};
