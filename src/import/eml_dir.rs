//! A folder of .eml files: walked recursively, `*.eml` (any case) kept, hidden entries
//! skipped, sorted by path, and read one file at a time.
//!
//! Symlinked directories are not followed (no loops); symlinked files are kept.

use std::fs;
use std::path::Path;

use super::file_items::FileItems;
use super::item::{ItemError, NotMail, ReaderError, is_hidden};

/// Lists the .eml files under `root`, sorted by path.
pub(crate) fn list(root: &Path) -> Result<FileItems, ReaderError> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    let mut not_mail = NotMail::default();
    let top = fs::read_dir(root).map_err(|e| ReaderError::io(root, e))?;
    let mut pending = vec![(root.to_path_buf(), top)];
    while let Some((dir, entries)) = pending.pop() {
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push(ItemError::new(dir.display().to_string(), e));
                    continue;
                }
            };
            let name = entry.file_name();
            if is_hidden(&name) {
                continue;
            }
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => match fs::read_dir(&path) {
                    Ok(sub) => pending.push((path, sub)),
                    Err(e) => errors.push(ItemError::new(path.display().to_string(), e)),
                },
                Ok(_) if is_eml(&path) => files.push(path),
                Ok(_) => not_mail.add(&path),
                Err(e) => errors.push(ItemError::new(path.display().to_string(), e)),
            }
        }
    }
    files.sort_unstable();
    Ok(FileItems::new(files, errors).passing_over(not_mail))
}

fn is_eml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("eml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Source;
    use crate::import::reader::{Format, detect, open};

    fn write(path: &Path, body: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, body).unwrap();
    }

    #[test]
    fn recursive_sorted_case_insensitive_hidden_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("b/2.eml"), "b2");
        write(&root.join("b/1.EML"), "b1");
        write(&root.join("a.eml"), "a");
        write(&root.join("c/d/e.Eml"), "cde");
        write(&root.join("notes.txt"), "no");
        write(&root.join("._a.eml"), "apple double");
        write(&root.join(".git/x.eml"), "hidden dir");

        assert_eq!(detect(root).unwrap(), Format::Eml);
        let items: Vec<_> = open(root, Format::Eml, usize::MAX)
            .unwrap()
            .map(|item| String::from_utf8(item.unwrap().bytes).unwrap())
            .collect();
        assert_eq!(items, ["a", "b1", "b2", "cde"]);
        let items = open(root, Format::Eml, usize::MAX).unwrap();
        let not_mail = items.not_mail();
        assert_eq!(not_mail.count, 1);
        assert_eq!(
            not_mail.examples,
            [root.join("notes.txt").display().to_string()]
        );
    }

    #[test]
    fn single_file_is_one_item() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.eml");
        write(&path, "Subject: hi\n\nbody\n");
        assert_eq!(detect(&path).unwrap(), Format::Eml);
        let items: Vec<_> = open(&path, Format::Eml, usize::MAX).unwrap().collect();
        assert_eq!(items.len(), 1);
        let item = items[0].as_ref().unwrap();
        assert_eq!(
            item.source,
            Source::File {
                path: path.display().to_string(),
                index: 1
            }
        );
        assert_eq!(item.bytes, b"Subject: hi\n\nbody\n");
    }

    #[test]
    fn dangling_link_is_an_item_error() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("1.eml"), "one");
        std::os::unix::fs::symlink("/nonexistent", dir.path().join("2.eml")).unwrap();
        write(&dir.path().join("3.eml"), "three");
        let items: Vec<_> = open(dir.path(), Format::Eml, usize::MAX).unwrap().collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_err() && items[2].is_ok());
        assert!(items[1].as_ref().unwrap_err().position.ends_with("2.eml"));
    }

    #[test]
    fn missing_path_names_the_path() {
        let err = open(Path::new("/nonexistent/archive"), Format::Eml, usize::MAX)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "/nonexistent/archive: no such file or directory"
        );
    }
}
