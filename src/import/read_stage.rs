//! Stage 1 of an import run: a plain low-priority thread splits the archive into batches of
//! raw messages, each within a [`BatchLimit`] of messages and bytes. Empty entries (an empty file, a `From ` line with nothing after it) are not
//! messages: they are passed over and reported as skipped, never quarantined.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::item::{ItemError, RawItem};
use super::reader::Items;
use super::report::Skip;
use crate::domain::Source;
use crate::pipeline::{BatchLimit, MessageSize};

/// A batch as the reader produced it.
pub(super) struct ReadBatch {
    pub items: Vec<RawItem>,
    pub errors: Vec<ItemError>,
    pub skipped: Vec<Skip>,
    /// Bytes of the archive read so far (mbox) or files read so far (folders).
    pub progress: u64,
}

/// Starts the reader thread. It ends at the end of the archive (returning true), when `stop`
/// is cancelled or when the receiving end is gone (false). A batch holds at most `limit`'s
/// entries (messages, unreadable and skipped entries alike) and bytes of mail.
pub(super) fn spawn(
    items: Items,
    limit: BatchLimit,
    stop: CancellationToken,
    batches: mpsc::Sender<ReadBatch>,
) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        crate::cpu_priority::lower_this_thread();
        let mut items = items;
        let mut progress = 0u64;
        // The entry read that did not fit the batch before: the first of the next one.
        let mut pending = None;
        loop {
            if stop.is_cancelled() {
                return false;
            }
            let mut batch = ReadBatch {
                items: Vec::new(),
                errors: Vec::new(),
                skipped: Vec::new(),
                progress,
            };
            let mut entries = 0;
            let mut bytes = 0u64;
            while let Some(next) = pending.take().or_else(|| items.next()) {
                let size = match &next {
                    Ok(item) => item.bytes.len() as u64,
                    Err(_) => 0,
                };
                if limit.closes_before(entries, bytes, size) {
                    pending = Some(next);
                    break;
                }
                entries += 1;
                bytes += size;
                match next {
                    Ok(item) => {
                        progress = match (&item.source, item.oversized) {
                            (Source::Mbox { offset, .. }, Some(MessageSize::Exactly(size))) => {
                                *offset + size
                            }
                            (Source::Mbox { offset, .. }, _) => *offset + item.bytes.len() as u64,
                            _ => progress + 1,
                        };
                        match empty_entry(&item) {
                            Some(skip) => batch.skipped.push(skip),
                            None => batch.items.push(item),
                        }
                    }
                    Err(e) => batch.errors.push(e),
                }
            }
            if entries == 0 {
                return true;
            }
            batch.progress = progress;
            if batches.blocking_send(batch).is_err() {
                return false;
            }
        }
    })
}

/// An entry with nothing in it but white space is no message: a skip, with why.
fn empty_entry(item: &RawItem) -> Option<Skip> {
    if item.oversized.is_some() || !item.bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let what = match item.source {
        Source::Mbox { .. } => "empty message (a \"From \" line with nothing after it)",
        _ => "empty file",
    };
    Some(Skip {
        position: item.source.to_string(),
        reason: what.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(source: Source, bytes: &[u8]) -> RawItem {
        RawItem {
            source,
            bytes: bytes.to_vec(),
            oversized: None,
        }
    }

    #[test]
    fn only_entries_of_white_space_are_skipped() {
        let file = |path: &str| Source::File {
            path: path.to_string(),
            index: 1,
        };
        let skip = empty_entry(&item(file("a.eml"), b"")).unwrap();
        assert_eq!(skip.position, "a.eml");
        assert_eq!(skip.reason, "empty file");
        assert!(empty_entry(&item(file("b.eml"), b" \r\n\t\n")).is_some());
        assert!(empty_entry(&item(file("c.eml"), b"Subject: x\n\n")).is_none());
        let mbox = Source::Mbox {
            path: "a.mbox".to_string(),
            offset: 40,
            index: 2,
        };
        let skip = empty_entry(&item(mbox.clone(), b"\n")).unwrap();
        assert_eq!(skip.position, "a.mbox@40");
        assert!(skip.reason.contains("From "));
        let header_only = RawItem {
            oversized: Some(MessageSize::Exactly(1 << 30)),
            ..item(mbox, b"")
        };
        assert!(empty_entry(&header_only).is_none());
    }
}
