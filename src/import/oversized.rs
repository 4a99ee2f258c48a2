//! Reading one message without ever holding more than the size limit: a file over
//! `limits.max_message_bytes` (by its length) has only its header read; a stream (standard
//! input) is read up to one byte past the limit, and when it is that long only its header is
//! kept. Such mail is quarantined by reference (header only, with where the message is), and
//! `import::reference` follows that reference for `quarantine reprocess`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::pipeline::MessageSize;

/// At most this much of a header is kept for a message over the limit.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// A message as read by [`read_file`] / [`read_stream`].
#[derive(Debug, PartialEq, Eq)]
pub enum Body {
    /// The whole message (at most the limit).
    Whole(Vec<u8>),
    /// Over the limit: its header only ([`header_of`]) and its size.
    HeaderOnly { header: Vec<u8>, size: MessageSize },
}

/// The header of a message: its bytes through the blank line that ends it, at most
/// [`MAX_HEADER_BYTES`] (then cut after the last complete line, if there is one).
pub fn header_of(bytes: &[u8]) -> &[u8] {
    let window = &bytes[..bytes.len().min(MAX_HEADER_BYTES)];
    let blank = [&b"\n\n"[..], b"\n\r\n"]
        .iter()
        .filter_map(|end| memchr::memmem::find(window, end).map(|at| at + end.len()))
        .min();
    if let Some(end) = blank {
        return &window[..end];
    }
    if window.len() < bytes.len()
        && let Some(nl) = memchr::memrchr(b'\n', window)
    {
        return &window[..=nl];
    }
    window
}

/// Reads the message file at `path`: whole when its length is at most `limit`, else its
/// header only (what a length check cannot see — a file growing, a pipe — is caught by
/// reading at most `limit + 1` bytes).
pub fn read_file(path: &Path, limit: usize) -> io::Result<Body> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > limit as u64 {
        let mut head = Vec::with_capacity(MAX_HEADER_BYTES.min(len as usize));
        file.take(MAX_HEADER_BYTES as u64).read_to_end(&mut head)?;
        let header = header_of(&head).to_vec();
        return Ok(Body::HeaderOnly {
            header,
            size: MessageSize::Exactly(len),
        });
    }
    // Sized to the file, so reading it never grows (and copies) the buffer; a file that grew
    // since is still read only up to the limit.
    read_stream_into(file, limit, Vec::with_capacity(len as usize + 1))
}

/// Reads at most `limit + 1` bytes of `reader`: the message when that is all there is, else
/// its header, the size being only known as more than `limit`.
pub fn read_stream(reader: impl Read, limit: usize) -> io::Result<Body> {
    read_stream_into(reader, limit, Vec::new())
}

fn read_stream_into(reader: impl Read, limit: usize, mut bytes: Vec<u8>) -> io::Result<Body> {
    reader
        .take((limit as u64).saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() <= limit {
        return Ok(Body::Whole(bytes));
    }
    Ok(Body::HeaderOnly {
        header: header_of(&bytes).to_vec(),
        size: MessageSize::MoreThan(limit as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_ends_at_the_first_blank_line() {
        assert_eq!(
            header_of(b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\n"),
            b"A: 1\r\nB: 2\r\n\r\n"
        );
        assert_eq!(header_of(b"A: 1\nB: 2\n\nbody\n\nmore"), b"A: 1\nB: 2\n\n");
        assert_eq!(header_of(b"A: 1\n"), b"A: 1\n");
        assert_eq!(header_of(b""), b"");
    }

    #[test]
    fn a_header_without_end_is_capped_after_a_whole_line() {
        let mut long = b"Subject: x\r\n".to_vec();
        while long.len() < 2 * MAX_HEADER_BYTES {
            long.extend_from_slice(b"X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n");
        }
        let header = header_of(&long);
        assert!(header.len() <= MAX_HEADER_BYTES && header.len() > MAX_HEADER_BYTES - 100);
        assert!(header.ends_with(b"\r\n"));
        let one_line = vec![b'x'; MAX_HEADER_BYTES + 10];
        assert_eq!(header_of(&one_line).len(), MAX_HEADER_BYTES);
    }

    #[test]
    fn a_stream_is_read_one_byte_past_the_limit_at_most() {
        let mail = b"Subject: s\n\nbody\n";
        assert_eq!(
            read_stream(&mail[..], mail.len()).unwrap(),
            Body::Whole(mail.to_vec())
        );
        // An endless stream: still returns, with the header only.
        let endless = io::repeat(b'x');
        let header = b"Subject: big\n\n";
        let body = read_stream(header.chain(endless), 1000).unwrap();
        assert_eq!(
            body,
            Body::HeaderOnly {
                header: header.to_vec(),
                size: MessageSize::MoreThan(1000)
            }
        );
    }

    #[test]
    fn a_file_over_the_limit_has_only_its_header_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.eml");
        let mut mail = b"Subject: big\r\n\r\n".to_vec();
        mail.resize(5000, b'x');
        std::fs::write(&path, &mail).unwrap();
        let body = read_file(&path, 4999).unwrap();
        assert_eq!(
            body,
            Body::HeaderOnly {
                header: b"Subject: big\r\n\r\n".to_vec(),
                size: MessageSize::Exactly(5000)
            }
        );
        assert_eq!(read_file(&path, 5000).unwrap(), Body::Whole(mail));
        assert!(read_file(&dir.path().join("none"), 10).is_err());
    }
}
