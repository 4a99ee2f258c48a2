//! A sorted list of one-message files (a Maildir's, a folder of .eml files, or one .eml
//! file), read one file at a time; a file over the size limit is read as its header only.

use std::path::{Path, PathBuf};

use super::item::{ItemError, NotMail, RawItem};
use super::oversized::{self, Body};
use crate::domain::Source;

/// A sorted list of one-message files, read one at a time. Listing problems found while
/// walking the directories come first, as items.
pub(crate) struct FileItems {
    listing_errors: std::vec::IntoIter<ItemError>,
    files: std::vec::IntoIter<PathBuf>,
    index: u64,
    /// Files longer than this are read as their header only.
    max_bytes: usize,
    pub(super) not_mail: NotMail,
    /// The folder (or single file) listed: checkpoints name files relative to it.
    root: PathBuf,
}

impl FileItems {
    pub(crate) fn new(files: Vec<PathBuf>, listing_errors: Vec<ItemError>) -> Self {
        FileItems {
            listing_errors: listing_errors.into_iter(),
            files: files.into_iter(),
            index: 0,
            max_bytes: usize::MAX,
            not_mail: NotMail::default(),
            root: PathBuf::new(),
        }
    }

    pub(super) fn rooted_at(self, root: &Path) -> Self {
        FileItems {
            root: root.to_path_buf(),
            ..self
        }
    }

    pub(super) fn limited_to(self, max_bytes: usize) -> Self {
        FileItems { max_bytes, ..self }
    }

    pub(crate) fn passing_over(self, not_mail: NotMail) -> Self {
        FileItems { not_mail, ..self }
    }

    /// The listing after its `index`th file, which must still be `at`.
    pub(super) fn after(mut self, index: u64, at: &str) -> Result<Self, String> {
        let files = self.files.as_slice();
        let position = usize::try_from(index).unwrap_or(usize::MAX);
        match position.checked_sub(1).and_then(|i| files.get(i)) {
            Some(file) if relative_to(&self.root, file) == at => {}
            _ => {
                return Err(format!(
                    "its listing changed: file {index} is no longer {at}"
                ));
            }
        }
        self.files.nth(position - 1);
        self.index = index;
        Ok(self)
    }
}

impl Iterator for FileItems {
    type Item = Result<RawItem, ItemError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(err) = self.listing_errors.next() {
            return Some(Err(err));
        }
        let path = self.files.next()?;
        self.index += 1;
        let display = path.display().to_string();
        let source = Source::File {
            path: display.clone(),
            index: self.index,
        };
        Some(match oversized::read_file(&path, self.max_bytes) {
            Ok(Body::Whole(bytes)) => Ok(RawItem {
                source,
                bytes,
                oversized: None,
            }),
            Ok(Body::HeaderOnly { header, size }) => Ok(RawItem {
                source,
                bytes: header,
                oversized: Some(size),
            }),
            Err(e) => Err(ItemError::new(display, e)),
        })
    }
}

/// How a checkpoint names a file of the archive at `root`: relative to it, so the same
/// archive reached by another spelling of its path is still recognised.
pub fn relative_to(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}
