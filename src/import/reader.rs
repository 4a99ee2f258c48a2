//! The archive reader: detect the format of a path, open it with the reader of that format
//! (`mbox`, `maildir`, `eml_dir`), and stream its messages as [`RawItem`]s in archive order.
//! What the readers yield and how they fail is `import::item`, re-exported here.

use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use super::file_items::FileItems;
pub use super::item::{ItemError, NotMail, RawItem, ReaderError};
use super::{eml_dir, maildir, mbox};

/// The archive layouts `mailgate import` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One file, messages separated by `From ` lines (mboxrd `>From` unescaping).
    Mbox,
    /// A Maildir (`cur/`, `new/`), including Maildir++ subfolders (`.Name/cur`).
    Maildir,
    /// A single .eml file, or a folder searched recursively for `*.eml`.
    Eml,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mbox => "mbox",
            Format::Maildir => "maildir",
            Format::Eml => "eml",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ReaderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mbox" => Ok(Format::Mbox),
            "maildir" => Ok(Format::Maildir),
            "eml" => Ok(Format::Eml),
            _ => Err(ReaderError::UnknownFormat(s.to_string())),
        }
    }
}

/// The stream of items of an opened archive. `Send`, lazy, memory bounded by one message
/// (plus, for directories, the sorted list of file names).
pub struct Items(Inner);

enum Inner {
    Mbox(mbox::MboxItems),
    Files(FileItems),
}

impl Iterator for Items {
    type Item = Result<RawItem, ItemError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Inner::Mbox(it) => it.next(),
            Inner::Files(it) => it.next(),
        }
    }
}

/// Guesses the format of `path`: a directory with `cur/` and `new/` (or Maildir++ `.Name/cur`)
/// is a Maildir, another directory a folder of .eml files; a file whose first non-empty line
/// starts with `From ` is an mbox, any other file a single .eml.
pub fn detect(path: &Path) -> Result<Format, ReaderError> {
    let meta = fs::metadata(path).map_err(|e| ReaderError::io(path, e))?;
    if meta.is_dir() {
        return Ok(if maildir::is_maildir(path) {
            Format::Maildir
        } else {
            Format::Eml
        });
    }
    let file = fs::File::open(path).map_err(|e| ReaderError::io(path, e))?;
    let mut reader = BufReader::with_capacity(8 * 1024, file);
    let mut line = Vec::with_capacity(128);
    // Look at a bounded prefix only: a huge file of blank lines is not worth scanning.
    for _ in 0..1024 {
        line.clear();
        let n = reader
            .by_ref()
            .take(4096)
            .read_until(b'\n', &mut line)
            .map_err(|e| ReaderError::io(path, e))?;
        if n == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(if line.starts_with(b"From ") {
            Format::Mbox
        } else {
            Format::Eml
        });
    }
    Ok(Format::Eml)
}

/// Opens `path` as `format` to read on after the `index`th message, stored before: at byte
/// `offset` of an mbox, or the file `at` of a folder's listing. `Err` says why that message
/// cannot be found again (the caller then reads the archive from the start).
pub fn open_after(
    path: &Path,
    format: Format,
    max_bytes: usize,
    index: u64,
    offset: u64,
    at: &str,
) -> Result<Items, String> {
    let inner = match format {
        Format::Mbox => Inner::Mbox(mbox::MboxItems::open_after(path, max_bytes, offset, index)?),
        _ => match open(path, format, max_bytes).map_err(|e| e.to_string())?.0 {
            Inner::Files(files) => Inner::Files(files.after(index, at)?),
            Inner::Mbox(_) => return Err("it is not an mbox file".to_string()),
        },
    };
    Ok(Items(inner))
}

impl Items {
    /// Files of a folder that were not read because they are not mail (not `*.eml`).
    pub fn not_mail(&self) -> &NotMail {
        static NONE: NotMail = NotMail {
            count: 0,
            examples: Vec::new(),
        };
        match &self.0 {
            Inner::Files(files) => &files.not_mail,
            Inner::Mbox(_) => &NONE,
        }
    }
}

/// Opens `path` as `format` and returns its messages in archive order. A message over
/// `max_bytes` is never read whole: it comes as its header, with its size.
pub fn open(path: &Path, format: Format, max_bytes: usize) -> Result<Items, ReaderError> {
    let meta = fs::metadata(path).map_err(|e| ReaderError::io(path, e))?;
    let inner = match format {
        Format::Mbox if meta.is_dir() => {
            return Err(ReaderError::MboxIsDirectory {
                path: path.to_path_buf(),
            });
        }
        Format::Mbox => Inner::Mbox(mbox::MboxItems::open(path, max_bytes)?),
        Format::Maildir => Inner::Files(maildir::list(path)?),
        Format::Eml if meta.is_dir() => Inner::Files(eml_dir::list(path)?),
        Format::Eml => Inner::Files(FileItems::new(vec![path.to_path_buf()], Vec::new())),
    };
    let inner = match inner {
        Inner::Files(files) => Inner::Files(files.limited_to(max_bytes).rooted_at(path)),
        mbox => mbox,
    };
    Ok(Items(inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Source;
    use std::io;

    const THREE_MESSAGES: &[u8] = b"From a Mon Jan  1 00:00:00 2024\nSubject: 1\n\n1\n\n\
From b Mon Jan  1 00:00:00 2024\nSubject: 2\n\n2\n\n\
From c Mon Jan  1 00:00:00 2024\nSubject: 3\n\n3\n";

    #[test]
    fn formats_parse_and_items_are_send() {
        assert_eq!("MBOX".parse::<Format>().unwrap(), Format::Mbox);
        assert_eq!("maildir".parse::<Format>().unwrap(), Format::Maildir);
        assert_eq!(" eml ".parse::<Format>().unwrap(), Format::Eml);
        assert!(
            "pst"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("\"pst\"")
        );
        fn send<T: Send>() {}
        send::<Items>();
    }

    #[test]
    fn file_not_starting_with_from_is_eml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, "Return-Path: <a@b>\nFrom: a@b\n\nFrom here\n").unwrap();
        assert_eq!(detect(&path).unwrap(), Format::Eml);
        std::fs::write(&path, "").unwrap();
        assert_eq!(detect(&path).unwrap(), Format::Eml);
    }

    #[test]
    fn detect_and_open_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("archive");
        std::fs::write(&path, [b"\n".as_slice(), THREE_MESSAGES].concat()).unwrap();
        assert_eq!(detect(&path).unwrap(), Format::Mbox);
        let items: Vec<_> = open(&path, Format::Mbox, usize::MAX).unwrap().collect();
        assert_eq!(items.len(), 3);
        let dir_err = open(dir.path(), Format::Mbox, usize::MAX).err().unwrap();
        assert!(dir_err.to_string().contains("is a directory"));
    }

    #[test]
    fn a_folder_reads_on_after_a_file_that_is_still_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["1.eml", "2.eml", "3.eml"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let rest: Vec<_> = open_after(dir.path(), Format::Eml, usize::MAX, 2, 0, "2.eml")
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].bytes, b"3.eml");
        assert!(matches!(rest[0].source, Source::File { index: 3, .. }));
        let refused = open_after(dir.path(), Format::Eml, usize::MAX, 2, 0, "1.eml")
            .err()
            .unwrap();
        assert!(refused.contains("listing changed"), "{refused}");
        assert!(open_after(dir.path(), Format::Eml, usize::MAX, 9, 0, "3.eml").is_err());
    }

    /// Throughput on a generated ~512 MB archive:
    /// `cargo test --release --lib import::reader::tests::mbox_throughput -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn mbox_throughput() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.mbox");
        let mut file = io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let stats = mailgate_test_support::write_mbox_of_size(512 << 20, 1, &mut file).unwrap();
        drop(file);
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let (mut count, mut bytes) = (0u64, 0u64);
            for item in open(&path, Format::Mbox, usize::MAX).unwrap() {
                count += 1;
                bytes += item.unwrap().bytes.len() as u64;
            }
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(count, stats.messages);
            eprintln!(
                "{count} messages, {:.0} MB in {seconds:.2} s: {:.0} MB/s (payload {bytes} B), \
                 peak RSS {:?} MB",
                stats.bytes as f64 / 1e6,
                stats.bytes as f64 / 1e6 / seconds,
                mailgate_test_support::memory::peak_rss_bytes().map(|b| b >> 20),
            );
        }
    }
}
