//! A buffered line reader that never has to hold a whole line: each line is appended to the
//! caller's buffer only up to a cap, and counted in full. It knows the absolute offset of
//! every byte and the last bytes consumed, so an mbox entry of any size can be streamed past
//! while its length and how it ends are still known exactly.

use std::io::{self, Read};

pub(crate) struct Lines<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Bytes consumed so far: the absolute offset of `buf[pos]`.
    offset: u64,
    /// The last four bytes consumed, oldest in the highest byte.
    tail: u32,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(inner: R, capacity: usize) -> Self {
        Lines {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            filled: 0,
            offset: 0,
            tail: 0,
        }
    }

    /// A reader already positioned at `offset` of its input: offsets count from the start.
    pub(crate) fn starting_at(inner: R, capacity: usize, offset: u64) -> Self {
        Lines {
            offset,
            ..Self::new(inner, capacity)
        }
    }

    /// Bytes consumed so far: where the next line starts.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The last four bytes consumed (fewer at the very start of the input).
    pub(crate) fn tail(&self) -> [u8; 4] {
        self.tail.to_be_bytes()
    }

    /// Reads the rest of the current line (through its `\n`, or to the end of the input),
    /// appending at most `keep` of its bytes to `out`. Returns the length of the line, 0 at
    /// the end of the input.
    pub(crate) fn read_line(&mut self, out: &mut Vec<u8>, keep: usize) -> io::Result<u64> {
        let mut length = 0u64;
        let mut kept = 0usize;
        loop {
            if self.pos >= self.filled && !self.fill()? {
                return Ok(length);
            }
            let available = &self.buf[self.pos..self.filled];
            let (n, ended) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let k = n.min(keep - kept);
            out.extend_from_slice(&available[..k]);
            kept += k;
            self.consume(n);
            length += n as u64;
            if ended {
                return Ok(length);
            }
        }
    }

    /// Refills the buffer; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        let n = loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.pos = 0;
        self.filled = n;
        Ok(n > 0)
    }

    fn consume(&mut self, n: usize) {
        let consumed = &self.buf[self.pos..self.pos + n];
        if let Some(last) = consumed.last_chunk::<4>() {
            self.tail = u32::from_be_bytes(*last);
        } else {
            for &b in consumed {
                self.tail = (self.tail << 8) | u32::from(b);
            }
        }
        self.pos += n;
        self.offset += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One byte per read: lines straddle every refill.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn all_lines<R: Read>(mut lines: Lines<R>, keep: usize) -> Vec<(u64, u64, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let start = lines.offset();
            let mut line = Vec::new();
            let n = lines.read_line(&mut line, keep).unwrap();
            if n == 0 {
                return out;
            }
            out.push((start, n, line));
        }
    }

    #[test]
    fn lines_offsets_and_caps() {
        let text = b"one\ntwo two\r\n\nlast without newline";
        let expected = vec![
            (0, 4, b"one\n".to_vec()),
            (4, 9, b"two two\r\n".to_vec()),
            (13, 1, b"\n".to_vec()),
            (14, 20, b"last without newline".to_vec()),
        ];
        assert_eq!(all_lines(Lines::new(&text[..], 3), usize::MAX), expected);
        assert_eq!(
            all_lines(Lines::new(Trickle(text), 64), usize::MAX),
            expected
        );
        let capped: Vec<Vec<u8>> = all_lines(Lines::new(Trickle(text), 2), 3)
            .into_iter()
            .map(|(_, _, line)| line)
            .collect();
        assert_eq!(capped, [&b"one"[..], b"two", b"\n", b"las"]);
    }

    #[test]
    fn the_tail_is_the_last_four_bytes_consumed() {
        let mut lines = Lines::new(Trickle(b"abcdef\n\n"), 4);
        let mut sink = Vec::new();
        lines.read_line(&mut sink, 0).unwrap();
        assert_eq!(&lines.tail(), b"def\n");
        lines.read_line(&mut sink, 0).unwrap();
        assert_eq!(&lines.tail(), b"ef\n\n");
        assert!(sink.is_empty());
    }
}
