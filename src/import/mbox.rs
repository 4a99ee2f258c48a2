//! Streaming mbox reader: messages are separated by lines starting with `From ` (dropped),
//! mboxrd `>From` lines are unescaped, and every message is located by the exact byte offset
//! of its `From ` line, so it can be found again in the file.
//!
//! Memory is one 256 KB buffer plus the message being assembled, and a message is assembled
//! only up to the size limit: an entry over `limits.max_message_bytes` is streamed past (its
//! lines counted, never kept) and yielded as its header with its size, to be quarantined by
//! reference. A 2 GB entry, even one without a single newline, costs no more memory than a
//! small one.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::domain::Source;
use crate::pipeline::MessageSize;

use super::item::{ItemError, RawItem, ReaderError};
use super::lines::Lines;
use super::oversized::header_of;

const BUFFER_SIZE: usize = 256 * 1024;
/// How much of a line is looked at to tell a `From ` line (or an escaped `>>From `) from
/// others when the line itself is not kept.
const PEEK: usize = 1024;

/// The messages of one mbox file, in file order.
pub(crate) struct MboxItems<R = File> {
    lines: Lines<R>,
    path: String,
    /// Messages longer than this are yielded as their header only.
    limit: usize,
    index: u64,
    /// The offset of the `From ` line that starts the next message, once read.
    next_from: Option<u64>,
    /// The first `From ` line has been looked for (and junk before it reported).
    started: bool,
    /// A message held back while a problem found before it is reported.
    held: Option<RawItem>,
    done: bool,
    /// The first bytes of a line that is not kept.
    scratch: Vec<u8>,
}

impl MboxItems {
    pub(crate) fn open(path: &Path, limit: usize) -> Result<Self, ReaderError> {
        let file = File::open(path).map_err(|e| ReaderError::io(path, e))?;
        Ok(Self::from_reader(file, path.display().to_string(), limit))
    }

    /// Opens `path` to read on after the `index`th message, whose `From ` line is at byte
    /// `offset`: that message is read past, not yielded. Fails, saying why, when no `From `
    /// line starts there any more.
    pub(crate) fn open_after(
        path: &Path,
        limit: usize,
        offset: u64,
        index: u64,
    ) -> Result<Self, String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        let lines = Lines::starting_at(file, BUFFER_SIZE, offset);
        let mut items = MboxItems {
            started: true,
            index: index.saturating_sub(1),
            ..Self::with_lines(lines, path.display().to_string(), limit)
        };
        items.skip_message_at(offset)?;
        Ok(items)
    }
}

impl<R: Read> MboxItems<R> {
    /// Reads past the message whose `From ` line is the next line, at `offset`.
    fn skip_message_at(&mut self, offset: u64) -> Result<(), String> {
        self.scratch.clear();
        self.lines
            .read_line(&mut self.scratch, PEEK)
            .map_err(|e| e.to_string())?;
        if !self.scratch.starts_with(b"From ") {
            return Err(format!("no message starts at byte {offset} of it any more"));
        }
        self.read_message(offset).map_err(|e| e.error)?;
        Ok(())
    }
}

impl<R: Read> MboxItems<R> {
    pub(crate) fn from_reader(reader: R, path: String, limit: usize) -> Self {
        Self::with_lines(Lines::new(reader, BUFFER_SIZE), path, limit)
    }

    fn with_lines(lines: Lines<R>, path: String, limit: usize) -> Self {
        MboxItems {
            lines,
            path,
            limit,
            index: 0,
            next_from: None,
            started: false,
            held: None,
            done: false,
            scratch: Vec::with_capacity(PEEK),
        }
    }

    /// An I/O error: the message being read is lost and a failing file rarely recovers, so
    /// the iteration stops here.
    fn failed(&mut self, e: std::io::Error) -> ItemError {
        self.done = true;
        ItemError::new(format!("{}@{}", self.path, self.lines.offset()), e)
    }

    /// Reads up to the first `From ` line. Bytes before it that are not blank are reported
    /// (once, not fatal); a file without any is not an mbox.
    fn find_first_message(&mut self) -> Result<Option<ItemError>, ItemError> {
        let mut first_content = None;
        loop {
            let start = self.lines.offset();
            self.scratch.clear();
            let n = self
                .lines
                .read_line(&mut self.scratch, PEEK)
                .map_err(|e| self.failed(e))?;
            if n == 0 {
                break;
            }
            if self.scratch.starts_with(b"From ") {
                self.next_from = Some(start);
                break;
            }
            if first_content.is_none() {
                first_content = match self.scratch.iter().position(|b| !b.is_ascii_whitespace()) {
                    Some(at) => Some(start + at as u64),
                    // Only the start of a long line was looked at: count the rest as content.
                    None if n > self.scratch.len() as u64 => Some(start + PEEK as u64),
                    None => None,
                };
            }
        }
        Ok(match (first_content, self.next_from) {
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
        })
    }

    /// Reads the message whose `From ` line is at `from` (already consumed), up to the next
    /// `From ` line or the end of the file.
    fn read_message(&mut self, from: u64) -> Result<RawItem, ItemError> {
        self.index += 1;
        self.next_from = None;
        // Kept whole up to this many bytes: the separator a message ends with (at most 2
        // bytes) is stripped afterwards, so any more is over the limit for sure.
        let cap = self.limit.saturating_add(4);
        let mut contents = Vec::with_capacity(4096);
        // Content bytes (unescaped) read, and the last four of them.
        let mut length = 0u64;
        let mut tail = [0u8; 4];
        let mut header: Option<Vec<u8>> = None;
        loop {
            let start = self.lines.offset();
            // Where this line starts in `contents`, while the message is kept.
            let kept_at = header.is_none().then_some(contents.len());
            let n = match kept_at {
                Some(at) => {
                    let keep = cap.saturating_sub(at).max(PEEK);
                    self.lines.read_line(&mut contents, keep)
                }
                None => {
                    self.scratch.clear();
                    self.lines.read_line(&mut self.scratch, PEEK)
                }
            }
            .map_err(|e| self.failed(e))?;
            if n == 0 {
                break;
            }
            let line: &[u8] = match kept_at {
                Some(at) => &contents[at..],
                None => &self.scratch,
            };
            if line.starts_with(b"From ") {
                if let Some(at) = kept_at {
                    contents.truncate(at);
                }
                self.next_from = Some(start);
                break;
            }
            let escaped = escaped_from(line);
            if let (true, Some(at)) = (escaped, kept_at) {
                contents.remove(at);
            }
            length += n - u64::from(escaped);
            tail = self.lines.tail();
            if header.is_none() && length > cap as u64 {
                header = Some(header_of(&contents).to_vec());
                contents = Vec::new();
            }
        }
        let source = Source::Mbox {
            path: self.path.clone(),
            offset: from,
            index: self.index,
        };
        Ok(match header {
            Some(header) => RawItem {
                source,
                bytes: header,
                oversized: Some(MessageSize::Exactly(length - separator_len(&tail))),
            },
            None => {
                strip_separator(&mut contents);
                RawItem {
                    source,
                    bytes: contents,
                    oversized: None,
                }
            }
        })
    }
}

/// Whether a line is an mboxrd-escaped `From ` line (`>From `, `>>From ` …): it loses one `>`.
fn escaped_from(line: &[u8]) -> bool {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    quotes > 0 && line[quotes..].starts_with(b"From ")
}

/// The blank separator line the mbox format adds after each message: its length, given the
/// last bytes of the message.
fn separator_len(tail: &[u8]) -> u64 {
    if tail.ends_with(b"\r\n\r\n") {
        2
    } else if tail.ends_with(b"\n\n") {
        1
    } else {
        0
    }
}

/// Removes the blank separator line the mbox format adds after each message.
fn strip_separator(bytes: &mut Vec<u8>) {
    let n = separator_len(bytes) as usize;
    bytes.truncate(bytes.len() - n);
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
        let mut junk = None;
        if !std::mem::replace(&mut self.started, true) {
            match self.find_first_message() {
                Ok(found) => junk = found,
                Err(e) => return Some(Err(e)),
            }
        }
        let item = match self.next_from {
            Some(from) => match self.read_message(from) {
                Ok(item) => Some(item),
                Err(e) => return Some(Err(e)),
            },
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
mod tests;
