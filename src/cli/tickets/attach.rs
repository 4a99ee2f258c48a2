//! `tickets reply --attach FILE` (issue 18 item 11): the files an agent sends with a reply, read
//! before anything is stored. A missing, unreadable or non-regular file, or files over
//! `limits.max_message_bytes` in total, is an error: nothing is stored and nothing sent.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::domain::OutgoingAttachment;
use crate::outbox::attachments::{check_total, content_type_for};

/// The files at `paths`, in order, named by their file name (sanitised) and typed by its
/// extension. At most `limit` bytes in total; a file is never read past that.
pub fn read_files(paths: &[PathBuf], limit: usize) -> anyhow::Result<Vec<OutgoingAttachment>> {
    let mut files = Vec::with_capacity(paths.len());
    let mut total = 0usize;
    for path in paths {
        let file = read_file(path, limit.saturating_sub(total))
            .with_context(|| format!("cannot attach {}", path.display()))?;
        total = total.saturating_add(file.size());
        files.push(file);
        check_total(&files, limit)?;
    }
    Ok(files)
}

fn read_file(path: &Path, room: usize) -> anyhow::Result<OutgoingAttachment> {
    let metadata = std::fs::metadata(path)?;
    anyhow::ensure!(metadata.is_file(), "it is not a file");
    let mut content = Vec::new();
    // One byte more than the room left tells a file too big from one that just fits.
    std::fs::File::open(path)?
        .take(u64::try_from(room).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut content)?;
    if content.len() > room {
        anyhow::bail!(
            "it is {} bytes; with the other files that is over limits.max_message_bytes",
            metadata.len()
        );
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let filename = crate::parse::sanitise_filename(&name);
    Ok(OutgoingAttachment {
        content_type: content_type_for(&filename).to_string(),
        filename,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_named_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("Lösung.pdf");
        std::fs::write(&pdf, b"%PDF-1.4 abc").unwrap();
        let log = dir.path().join("x.log");
        std::fs::write(&log, b"0123456789").unwrap();
        let files = read_files(&[pdf.clone(), log.clone()], 100).unwrap();
        assert_eq!(files[0].filename, "Lösung.pdf");
        assert_eq!(files[0].content_type, "application/pdf");
        assert_eq!(files[0].content, b"%PDF-1.4 abc");
        assert_eq!(files[1].content_type, "text/plain");

        let over = read_files(&[pdf.clone(), log.clone()], 20).unwrap_err();
        assert!(
            format!("{over:#}").contains("max_message_bytes"),
            "{over:#}"
        );
        assert!(format!("{over:#}").contains("x.log"), "{over:#}");
        let missing = read_files(&[dir.path().join("nope.pdf")], 100).unwrap_err();
        assert!(format!("{missing:#}").contains("nope.pdf"), "{missing:#}");
        let directory = read_files(&[dir.path().to_path_buf()], 100).unwrap_err();
        assert!(
            format!("{directory:#}").contains("not a file"),
            "{directory:#}"
        );
    }
}
