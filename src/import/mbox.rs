//! Streaming mbox reader: mail-parser's `MessageIterator` (line by line, mboxrd `>From`
//! unescaping) over a counting buffered reader that records the exact byte offset of every
//! `From ` line, so each message can be located again in the file.
//!
//! Memory is one 256 KB buffer plus the message being assembled, whatever the archive size.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mail_parser::mailbox::mbox::MessageIterator;

use crate::domain::Source;

use super::reader::{ItemError, RawItem, ReaderError};

const BUFFER_SIZE: usize = 256 * 1024;
const FROM: &[u8; 5] = b"From ";

/// What the counting reader learned while bytes were consumed.
#[derive(Default)]
struct Shared {
    /// Bytes consumed so far (where an I/O error happened, if one does).
    consumed: AtomicU64,
    marks: Mutex<Marks>,
}

#[derive(Default)]
struct Marks {
    /// Offsets of `From ` lines not yet paired with a message.
    from_offsets: VecDeque<u64>,
    /// Offset of the first non-whitespace byte (to report junk before the first message).
    first_content: Option<u64>,
}

/// A buffered reader that watches consumed bytes for line starts beginning with `From `.
struct CountingReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Absolute offset of `buf[pos]`.
    offset: u64,
    /// At (or just after) a line start: its offset and how many bytes of `From ` matched.
    line_start: Option<(u64, usize)>,
    /// Still looking for the first non-blank byte.
    searching_content: bool,
    shared: Arc<Shared>,
}

impl<R: Read> CountingReader<R> {
    fn new(inner: R, shared: Arc<Shared>) -> Self {
        CountingReader {
            inner,
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            pos: 0,
            filled: 0,
            offset: 0,
            line_start: Some((0, 0)),
            searching_content: true,
            shared,
        }
    }

    /// Scans `buf[start..end]` (about to be consumed) for `From ` line starts.
    fn scan(&mut self, start: usize, end: usize) {
        let base = self.offset;
        let mut i = start;
        while i < end {
            if let Some((line_offset, matched)) = self.line_start {
                let take = (FROM.len() - matched).min(end - i);
                // Most lines fail on their first byte: test it before comparing slices.
                if take > 0
                    && self.buf[i] == FROM[matched]
                    && self.buf[i..i + take] == FROM[matched..matched + take]
                {
                    i += take;
                    if matched + take == FROM.len() {
                        self.line_start = None;
                        self.record_from(line_offset);
                    } else {
                        self.line_start = Some((line_offset, matched + take));
                        break;
                    }
                } else {
                    self.line_start = None;
                }
            }
            match memchr::memchr(b'\n', &self.buf[i..end]) {
                Some(nl) => {
                    i += nl + 1;
                    self.line_start = Some((base + (i - start) as u64, 0));
                }
                None => break,
            }
        }
    }

    fn record_from(&mut self, offset: u64) {
        self.shared.lock().from_offsets.push_back(offset);
    }

    /// Until the first message starts, remember where the first non-blank byte is.
    fn note_content(&mut self, start: usize, end: usize) {
        let region = &self.buf[start..end];
        if let Some(p) = region.iter().position(|b| !b.is_ascii_whitespace()) {
            self.searching_content = false;
            self.shared.lock().first_content = Some(self.offset + p as u64);
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.pos = 0;
            self.filled = n;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        let start = self.pos;
        let end = (start + amt).min(self.filled);
        if self.searching_content {
            self.note_content(start, end);
        }
        self.scan(start, end);
        self.offset += (end - start) as u64;
        self.shared.consumed.store(self.offset, Ordering::Relaxed);
        self.pos = end;
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The messages of one mbox file, in file order.
pub(crate) struct MboxItems<R = File> {
    messages: MessageIterator<CountingReader<R>>,
    shared: Arc<Shared>,
    path: String,
    index: u64,
    /// A message held back while a problem found before it is reported.
    held: Option<RawItem>,
    checked_leading: bool,
    done: bool,
}

impl MboxItems {
    pub(crate) fn open(path: &Path) -> Result<Self, ReaderError> {
        let file = File::open(path).map_err(|e| ReaderError::io(path, e))?;
        Ok(Self::from_reader(file, path.display().to_string()))
    }
}

impl<R: Read> MboxItems<R> {
    fn from_reader(reader: R, path: String) -> Self {
        let shared = Arc::new(Shared::default());
        let reader = CountingReader::new(reader, Arc::clone(&shared));
        MboxItems {
            messages: MessageIterator::new(reader),
            shared,
            path,
            index: 0,
            held: None,
            checked_leading: false,
            done: false,
        }
    }

    /// Bytes before the first `From ` line that are not blank: reported once, not fatal.
    /// Called before the first message's offset is taken off the queue.
    fn leading_junk(&self) -> Option<ItemError> {
        let marks = self.shared.lock();
        match (marks.first_content, marks.from_offsets.front().copied()) {
            (Some(content), Some(from)) if content < from => Some(ItemError::new(
                format!("{}@{content}", self.path),
                format!(
                    "{} bytes before the first \"From \" line ignored",
                    from - content
                ),
            )),
            (Some(content), None) => Some(ItemError::new(
                format!("{}@{content}", self.path),
                "no \"From \" line found: not an mbox file",
            )),
            _ => None,
        }
    }

    fn next_offset(&self) -> u64 {
        self.shared.lock().from_offsets.pop_front().unwrap_or(0)
    }
}

/// Removes the blank separator line the mbox format adds after each message.
fn strip_separator(bytes: &mut Vec<u8>) {
    if bytes.ends_with(b"\r\n\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n\n") {
        bytes.truncate(bytes.len() - 1);
    }
}

impl<R: Read> Iterator for MboxItems<R> {
    type Item = Result<RawItem, ItemError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.held.take() {
            return Some(Ok(item));
        }
        if self.done {
            return None;
        }
        let next = self.messages.next();
        let first = !std::mem::replace(&mut self.checked_leading, true);
        let junk = first.then(|| self.leading_junk()).flatten();
        let item = match next {
            Some(Ok(message)) => {
                self.index += 1;
                let offset = self.next_offset();
                let mut bytes = message.unwrap_contents();
                strip_separator(&mut bytes);
                Some(RawItem {
                    source: Source::Mbox {
                        path: self.path.clone(),
                        offset,
                        index: self.index,
                    },
                    bytes,
                })
            }
            Some(Err(e)) => {
                // The partial message is lost and a failing file rarely recovers: stop here.
                self.done = true;
                let at = self.shared.consumed.load(Ordering::Relaxed);
                return Some(Err(ItemError::new(format!("{}@{at}", self.path), e)));
            }
            None => {
                self.done = true;
                None
            }
        };
        match junk {
            Some(junk) => {
                self.held = item;
                Some(Err(junk))
            }
            None => item.map(Ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Vec<Result<RawItem, ItemError>> {
        MboxItems::from_reader(bytes, "a.mbox".into()).collect()
    }

    fn messages(bytes: &[u8]) -> Vec<RawItem> {
        read(bytes).into_iter().map(Result::unwrap).collect()
    }

    fn at(offset: u64, index: u64) -> Source {
        let path = "a.mbox".into();
        Source::Mbox {
            path,
            offset,
            index,
        }
    }

    const THREE: &[u8] = b"From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody 1\n\n\
From b@x Mon Jan  1 00:00:01 2024\nSubject: two\n\n>From here\n>>From there\n> From x\n\n\
From c@x Mon Jan  1 00:00:02 2024\nSubject: three\n\nbody 3\n";

    #[test]
    fn exact_offsets_indexes_and_unescaping() {
        let items = messages(THREE);
        let second = THREE.windows(7).position(|w| w == b"From b@").unwrap() as u64;
        let third = THREE.windows(7).position(|w| w == b"From c@").unwrap() as u64;
        let sources: Vec<_> = items.iter().map(|i| i.source.clone()).collect();
        assert_eq!(sources, [at(0, 1), at(second, 2), at(third, 3)]);
        assert_eq!(items[0].bytes, b"Subject: one\n\nbody 1\n");
        let unescaped = b"Subject: two\n\nFrom here\n>From there\n> From x\n";
        assert_eq!(items[1].bytes, unescaped);
        assert_eq!(items[2].bytes, b"Subject: three\n\nbody 3\n");
    }

    #[test]
    fn offsets_exact_with_tiny_reads() {
        // A reader returning one byte per read: "From " lines straddle every buffer refill.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let slow = MboxItems::from_reader(Trickle(THREE), "a.mbox".into());
        let slow: Vec<_> = slow.map(Result::unwrap).collect();
        assert_eq!(slow, messages(THREE));
    }

    #[test]
    fn crlf_line_endings() {
        let crlf = String::from_utf8(THREE.to_vec()).unwrap();
        let crlf = crlf.replace('\n', "\r\n");
        let items = messages(crlf.as_bytes());
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].source, at(crlf.find("From b@").unwrap() as u64, 2));
        assert_eq!(items[0].bytes, b"Subject: one\r\n\r\nbody 1\r\n");
        let unescaped = b"Subject: two\r\n\r\nFrom here\r\n>From there\r\n> From x\r\n";
        assert_eq!(items[1].bytes, unescaped);
    }

    #[test]
    fn last_message_without_trailing_newline() {
        let items = messages(b"From a Mon Jan  1 00:00:00 2024\nSubject: s\n\nno newline");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].bytes, b"Subject: s\n\nno newline");
    }

    #[test]
    fn empty_and_blank_files_have_no_items() {
        assert!(read(b"").is_empty());
        assert!(read(b"\n\n  \n").is_empty());
    }

    #[test]
    fn leading_junk_is_reported_once_then_messages_follow() {
        let bytes = [b"garbage\n\n".as_slice(), THREE].concat();
        let items = read(&bytes);
        assert_eq!(items.len(), 4);
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err.position, "a.mbox@0");
        assert!(err.error.contains("9 bytes"), "{err}");
        assert_eq!(items[1].as_ref().unwrap().source, at(9, 1));
    }

    #[test]
    fn not_an_mbox_is_one_item_error() {
        let items = read(b"Subject: x\n\nbody\n");
        assert_eq!(items.len(), 1);
        assert!(items[0].as_ref().unwrap_err().error.contains("not an mbox"));
    }

    #[test]
    fn io_error_mid_file_is_an_item_error_then_stops() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let failing = THREE[..THREE.len() / 2].chain(Broken);
        let items: Vec<_> = MboxItems::from_reader(failing, "f".into()).collect();
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].is_ok());
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.position, format!("f@{}", THREE.len() / 2));
        assert!(err.error.contains("disk on fire"));
    }
}
