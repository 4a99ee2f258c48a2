//! A message quarantined by reference (over the size limit, its header kept with where it is)
//! found again for `quarantine reprocess`: the one-message file, or the mbox entry at its byte
//! offset, read again within the limit ([`super::oversized`]).

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::Path;

use super::mbox::MboxItems;
use super::oversized::{Body, read_file};
use crate::domain::Source;

/// The message a quarantine entry's source names (`path` of a one-message file, `path@offset`
/// of an mbox entry), for entries kept by reference. `None` for other sources.
pub fn locate(source: &str) -> Option<Source> {
    if source.starts_with("imap:") || source == "stdin" || source.starts_with("quarantine#") {
        return None;
    }
    if Path::new(source).is_file() {
        return Some(Source::File {
            path: source.to_string(),
            index: 1,
        });
    }
    let (path, offset) = source.rsplit_once('@')?;
    Some(Source::Mbox {
        path: path.to_string(),
        offset: offset.parse().ok()?,
        index: 1,
    })
}

/// Reads the message at `at` (from [`locate`]) again, with `limit`. `Ok(None)`: no message
/// starts there any more.
pub fn reread(at: &Source, limit: usize) -> io::Result<Option<Body>> {
    match at {
        Source::File { path, .. } => read_file(Path::new(path), limit).map(Some),
        Source::Mbox { path, offset, .. } => {
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(*offset))?;
            let mut entry = MboxItems::from_reader(file, path.clone(), limit);
            Ok(match entry.next() {
                Some(Ok(item)) => Some(match item.oversized {
                    Some(size) => Body::HeaderOnly {
                        header: item.bytes,
                        size,
                    },
                    None => Body::Whole(item.bytes),
                }),
                // Junk before the first `From ` line, or none at all: the file changed.
                Some(Err(e)) if e.error.contains("\"From \" line") => None,
                Some(Err(e)) => return Err(io::Error::other(e.error)),
                None => None,
            })
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::MessageSize;

    #[test]
    fn a_reference_is_followed_to_the_file_or_the_mbox_entry() {
        let dir = tempfile::tempdir().unwrap();
        let eml = dir.path().join("one.eml");
        std::fs::write(&eml, "Subject: one\n\nbody\n").unwrap();
        let eml_text = eml.display().to_string();
        let at = locate(&eml_text).unwrap();
        assert_eq!(
            reread(&at, 1000).unwrap(),
            Some(Body::Whole(b"Subject: one\n\nbody\n".to_vec()))
        );

        let mbox = dir.path().join("a.mbox");
        let first = "From a Mon Jan  1 00:00:00 2024\nSubject: 1\n\n1\n\n";
        let second = "From b Mon Jan  1 00:00:00 2024\nSubject: 2\n\nsecond body\n";
        std::fs::write(&mbox, format!("{first}{second}")).unwrap();
        let at = locate(&format!("{}@{}", mbox.display(), first.len())).unwrap();
        assert_eq!(
            reread(&at, 1000).unwrap(),
            Some(Body::Whole(b"Subject: 2\n\nsecond body\n".to_vec()))
        );
        assert_eq!(
            reread(&at, 10).unwrap(),
            Some(Body::HeaderOnly {
                header: b"Subject: 2\n\n".to_vec(),
                size: MessageSize::Exactly(24)
            })
        );
        // The file changed: no message starts there any more.
        let moved = locate(&format!("{}@3", mbox.display())).unwrap();
        assert_eq!(reread(&moved, 1000).unwrap(), None);
        for other in [
            "stdin",
            "imap:support;uidvalidity=1;uid=2",
            "quarantine#3",
            "x@y",
        ] {
            assert_eq!(locate(other), None, "{other}");
        }
    }
}
