//! Batch import: readers for mbox, Maildir and folders of .eml files.

mod archive;
mod eml_dir;
mod file_items;
mod item;
mod lines;
mod maildir;
mod mbox;
pub mod oversized;
mod read_stage;
pub mod reader;
pub mod reference;
mod report;
pub mod resume;
mod run;

pub use reader::{Format, open};
pub use report::ImportReport;
pub use run::{ImportRequest, import, import_listing};
