//! The mbox reader on small archives: offsets, unescaping, line endings, junk, I/O errors,
//! and entries over the size limit.

use std::io;

use super::*;

fn read(bytes: &[u8]) -> Vec<Result<RawItem, ItemError>> {
    MboxItems::from_reader(bytes, "a.mbox".into(), usize::MAX).collect()
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
    let slow = MboxItems::from_reader(Trickle(THREE), "a.mbox".into(), usize::MAX);
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
    let items: Vec<_> = MboxItems::from_reader(failing, "f".into(), usize::MAX).collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.position, format!("f@{}", THREE.len() / 2));
    assert!(err.error.contains("disk on fire"));
}

const MIXED: &[u8] = b"From a@x Mon Jan  1 00:00:00 2024\r\nSubject: one\r\n\r\nbody 1\r\n\r\n\
From b@x Mon Jan  1 00:00:01 2024\nSubject: two\n\n>From here\n>>From there\nlong line \
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\n\
From c@x Mon Jan  1 00:00:02 2024\nSubject: three\n\nbody 3";

#[test]
fn entries_over_the_limit_are_their_header_and_exact_size() {
    let whole = messages(MIXED);
    for limit in 0..MIXED.len() + 8 {
        let items: Vec<RawItem> = MboxItems::from_reader(MIXED, "a.mbox".into(), limit)
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), whole.len(), "limit {limit}");
        for (item, full) in items.iter().zip(&whole) {
            assert_eq!(item.source, full.source, "limit {limit}");
            // Over the limit for sure: never whole. Within it: always whole. Just over
            // it (by the separator's length at most): either, the size check follows.
            let len = full.bytes.len();
            assert!(
                len <= limit + 4 || item.oversized.is_some(),
                "limit {limit}"
            );
            assert!(len > limit || item.oversized.is_none(), "limit {limit}");
            if item.oversized.is_some() {
                assert_eq!(
                    item.oversized,
                    Some(MessageSize::Exactly(len as u64)),
                    "limit {limit}"
                );
                assert!(full.bytes.starts_with(&item.bytes), "limit {limit}");
                assert!(item.bytes.len() <= limit + 4 + PEEK, "limit {limit}");
            } else {
                assert_eq!(item, full, "limit {limit}");
            }
        }
    }
}

#[test]
fn a_huge_entry_without_newlines_is_streamed_past() {
    // 8 MB in one line between two small messages; the limit is 1000 bytes.
    let huge = 8 << 20;
    let first = b"From a Mon Jan  1 00:00:00 2024\nSubject: one\n\n1\n\n".as_slice();
    let big = b"From b Mon Jan  1 00:00:00 2024\nSubject: big\nMessage-ID: <b@x>\n\n";
    let last = b"\n\nFrom c Mon Jan  1 00:00:00 2024\nSubject: three\n\n3\n";
    let reader = first
        .chain(&big[..])
        .chain(io::repeat(b'x').take(huge))
        .chain(&last[..]);
    let items: Vec<RawItem> = MboxItems::from_reader(reader, "a.mbox".into(), 1000)
        .map(Result::unwrap)
        .collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].bytes, b"Subject: one\n\n1\n");
    let header_len = big.len() - "From b Mon Jan  1 00:00:00 2024\n".len();
    assert_eq!(items[1].bytes, &big[big.len() - header_len..]);
    assert_eq!(
        items[1].oversized,
        Some(MessageSize::Exactly(header_len as u64 + huge + 1))
    );
    assert_eq!(items[1].source, at(first.len() as u64, 2));
    let third = (first.len() + big.len()) as u64 + huge + 2;
    assert_eq!(items[2].source, at(third, 3));
    assert_eq!(items[2].bytes, b"Subject: three\n\n3\n");
}

#[test]
fn open_after_reads_on_after_the_message_at_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.mbox");
    std::fs::write(&path, THREE).unwrap();
    let second = THREE.windows(7).position(|w| w == b"From b@").unwrap() as u64;
    let third = THREE.windows(7).position(|w| w == b"From c@").unwrap() as u64;
    let shown = path.display().to_string();
    let rest: Vec<_> = MboxItems::open_after(&path, usize::MAX, second, 2)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        rest[0].source,
        Source::Mbox {
            path: shown,
            offset: third,
            index: 3
        }
    );
    assert_eq!(rest[0].bytes, b"Subject: three\n\nbody 3\n");
    // After the last message: nothing left.
    let after_last = MboxItems::open_after(&path, usize::MAX, third, 3).unwrap();
    assert_eq!(after_last.count(), 0);
    // An offset where no message starts is refused, with the reason.
    let refused = MboxItems::open_after(&path, usize::MAX, second + 1, 2)
        .err()
        .unwrap();
    assert!(
        refused.contains(&format!("byte {}", second + 1)),
        "{refused}"
    );
}
