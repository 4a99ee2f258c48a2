//! Batch import: readers for mbox, Maildir and folders of .eml files.

mod archive;
mod eml_dir;
mod lines;
mod listing;
mod maildir;
mod mbox;
pub mod oversized;
mod read_stage;
pub mod reader;
mod report;
pub mod resume;
mod run;

pub use listing::PlannedDecision;
pub use reader::{
    Format, ItemError, Items, NotMail, RawItem, ReaderError, detect, open, open_after,
};
pub use report::{Failure, ImportReport, Position, Skip};
pub use run::{ImportRequest, import, import_listing};
