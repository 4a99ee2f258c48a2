//! Maildir reader. mail-parser's Maildir iterator yields files in readdir order, which would
//! number tickets differently on every run; here the file names of `cur/` and `new/` (of the
//! root and of every Maildir++ `.Folder`) are listed, sorted by the delivery timestamp that
//! starts a Maildir name, then by name, and read one at a time.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::file_items::FileItems;
use super::item::{ItemError, ReaderError, is_hidden};

/// A directory is a Maildir if it has `cur/` and `new/`, or holds Maildir++ `.Name/cur`
/// subfolders.
pub(crate) fn is_maildir(path: &Path) -> bool {
    if is_folder(path) {
        return true;
    }
    let Ok(entries) = fs::read_dir(path) else {
        return false;
    };
    entries
        .flatten()
        .any(|entry| is_hidden(&entry.file_name()) && entry.path().join("cur").is_dir())
}

fn is_folder(path: &Path) -> bool {
    path.join("cur").is_dir() && path.join("new").is_dir()
}

/// Lists every message file of the Maildir at `path`, in archive order.
pub(crate) fn list(path: &Path) -> Result<FileItems, ReaderError> {
    if !is_maildir(path) {
        return Err(ReaderError::NotMaildir {
            path: path.to_path_buf(),
        });
    }
    let mut errors = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    let entries = fs::read_dir(path).map_err(|e| ReaderError::io(path, e))?;
    for entry in entries {
        match entry {
            Ok(entry) if is_hidden(&entry.file_name()) => {
                let sub = entry.path();
                if sub.join("cur").is_dir() || sub.join("new").is_dir() {
                    folders.push(sub);
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(ItemError::new(path.display().to_string(), e)),
        }
    }

    let mut files: Vec<(u64, OsString, PathBuf)> = Vec::new();
    for folder in &folders {
        for sub in ["cur", "new"] {
            let dir = folder.join(sub);
            list_messages(&dir, &mut files, &mut errors);
        }
    }
    files.sort_unstable();
    let paths = files.into_iter().map(|(_, _, path)| path).collect();
    Ok(FileItems::new(paths, errors))
}

/// Adds the message files of one `cur/` or `new/` directory (dotfiles skipped).
fn list_messages(
    dir: &Path,
    files: &mut Vec<(u64, OsString, PathBuf)>,
    errors: &mut Vec<ItemError>,
) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            errors.push(ItemError::new(dir.display().to_string(), e));
            return;
        }
    };
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
        // A symlink is kept: reading it reports a dangling link as an item error.
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => continue,
            Ok(_) => {}
            Err(e) => {
                errors.push(ItemError::new(entry.path().display().to_string(), e));
                continue;
            }
        }
        files.push((timestamp(&name), name, entry.path()));
    }
}

/// The delivery time a Maildir name starts with (`1700000000.M1P2.host:2,S`); names without
/// one sort last.
fn timestamp(name: &std::ffi::OsStr) -> u64 {
    let bytes = name.as_encoded_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return u64::MAX;
    }
    bytes[..digits]
        .iter()
        .try_fold(0u64, |acc, b| {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
        .unwrap_or(u64::MAX)
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

    fn maildir(root: &Path) {
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
    }

    fn collect(root: &Path) -> (Vec<String>, Vec<String>) {
        let mut ok = Vec::new();
        let mut err = Vec::new();
        for item in open(root, Format::Maildir, usize::MAX).unwrap() {
            match item {
                Ok(item) => ok.push(String::from_utf8(item.bytes).unwrap()),
                Err(e) => err.push(e.position),
            }
        }
        (ok, err)
    }

    #[test]
    fn sorted_by_timestamp_then_name_across_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        maildir(root);
        write(&root.join("cur/1700000300.M1P1.host:2,S"), "c");
        write(&root.join("new/1700000100.M9P1.host"), "a");
        write(&root.join("new/1700000100.M2P1.host"), "a0");
        write(&root.join(".Sent/cur/1700000200.M1P1.host:2,S"), "b");
        write(&root.join("cur/.hidden"), "hidden");
        write(&root.join("tmp/1600000000.M1P1.host"), "tmp");
        write(&root.join("cur/99.short"), "first");
        write(&root.join("cur/nodate"), "last");
        fs::create_dir_all(root.join(".Sent/new")).unwrap();

        assert_eq!(detect(root).unwrap(), Format::Maildir);
        let (ok, err) = collect(root);
        assert!(err.is_empty(), "{err:?}");
        assert_eq!(ok, ["first", "a0", "a", "b", "c", "last"]);
    }

    #[test]
    fn sources_are_file_paths_with_positions() {
        let dir = tempfile::tempdir().unwrap();
        maildir(dir.path());
        write(&dir.path().join("new/2.x"), "two");
        write(&dir.path().join("new/1.x"), "one");
        let items: Vec<_> = open(dir.path(), Format::Maildir, usize::MAX)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected = Source::File {
            path: dir.path().join("new/2.x").display().to_string(),
            index: 2,
        };
        assert_eq!(items[1].source, expected);
    }

    #[test]
    fn unreadable_file_is_an_item_error_and_iteration_continues() {
        let dir = tempfile::tempdir().unwrap();
        maildir(dir.path());
        write(&dir.path().join("cur/1.a"), "one");
        std::os::unix::fs::symlink("/nonexistent/x", dir.path().join("cur/2.b")).unwrap();
        write(&dir.path().join("cur/3.c"), "three");
        let (ok, err) = collect(dir.path());
        assert_eq!(ok, ["one", "three"]);
        assert_eq!(err.len(), 1);
        assert!(err[0].ends_with("cur/2.b"), "{err:?}");
    }

    #[test]
    fn maildir_plus_plus_without_root_cur_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join(".Inbox/cur/5.x"), "five");
        assert_eq!(detect(dir.path()).unwrap(), Format::Maildir);
        assert_eq!(collect(dir.path()).0, ["five"]);
    }

    #[test]
    fn plain_directory_is_not_a_maildir() {
        let dir = tempfile::tempdir().unwrap();
        let err = open(dir.path(), Format::Maildir, usize::MAX).err().unwrap();
        assert!(matches!(err, ReaderError::NotMaildir { .. }));
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp("1700000000.M1.h".as_ref()), 1_700_000_000);
        assert_eq!(timestamp("abc".as_ref()), u64::MAX);
        assert_eq!(timestamp("99999999999999999999999.x".as_ref()), u64::MAX);
    }
}
