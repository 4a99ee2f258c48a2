//! How a received mail's bytes are kept in `messages.raw`: LZ4-compressed (block format with
//! the original size in front), named by `messages.raw_codec`. Mail is mostly text and
//! shrinks to about half, which halves what every import and poll writes and what the
//! database file holds. The bytes are the source of truth for a received mail: its full text
//! and the new part of a reply are derived from them when shown.
//!
//! Compression runs where mail is parsed (in parallel, off the database's serial path);
//! decoding runs where a stored mail is read.

use thiserror::Error;

/// The encoding of a stored `raw` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawCodec {
    /// The bytes as received (rows stored before compression existed).
    None,
    /// LZ4 block, little-endian u32 original size first.
    Lz4,
}

impl RawCodec {
    pub fn as_str(self) -> &'static str {
        match self {
            RawCodec::None => "none",
            RawCodec::Lz4 => "lz4",
        }
    }
}

/// A mail's bytes ready for `messages.raw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRaw {
    pub codec: RawCodec,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Error)]
pub enum RawDecodeError {
    #[error("unknown raw_codec {0:?}")]
    UnknownCodec(String),
    #[error("stored mail claims {claimed} bytes from {stored} compressed bytes: corrupted")]
    ImplausibleSize { claimed: usize, stored: usize },
    #[error("stored mail cannot be decompressed: {0}")]
    Corrupt(#[from] lz4_flex::block::DecompressError),
}

/// LZ4 never expands a block by more than this factor; a size beyond it is corruption, not
/// a reason to allocate gigabytes.
const MAX_RATIO: usize = 255;

impl StoredRaw {
    /// Compresses `raw`; keeps it as it is when compression would not make it smaller
    /// (already compressed attachments, tiny mails).
    pub fn compress(raw: &[u8]) -> StoredRaw {
        let packed = lz4_flex::compress_prepend_size(raw);
        if packed.len() < raw.len() {
            StoredRaw {
                codec: RawCodec::Lz4,
                bytes: packed,
            }
        } else {
            StoredRaw {
                codec: RawCodec::None,
                bytes: raw.to_vec(),
            }
        }
    }

    /// The mail's bytes as received, from a stored column and its codec name.
    pub fn decode(codec: &str, bytes: Vec<u8>) -> Result<Vec<u8>, RawDecodeError> {
        match codec {
            "none" => Ok(bytes),
            "lz4" => {
                let claimed = bytes
                    .get(..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .unwrap_or(0);
                if claimed > bytes.len().saturating_mul(MAX_RATIO) {
                    return Err(RawDecodeError::ImplausibleSize {
                        claimed,
                        stored: bytes.len(),
                    });
                }
                Ok(lz4_flex::decompress_size_prepended(&bytes)?)
            }
            other => Err(RawDecodeError::UnknownCodec(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(body_lines: usize) -> Vec<u8> {
        let mut m = b"From: a@example.test\r\nSubject: printer\r\n\r\n".to_vec();
        for i in 0..body_lines {
            m.extend_from_slice(format!("line {i}: the printer prints blank pages\r\n").as_bytes());
        }
        m
    }

    #[test]
    fn text_mail_is_compressed_and_comes_back_byte_for_byte() {
        let raw = mail(200);
        let stored = StoredRaw::compress(&raw);
        assert_eq!(stored.codec, RawCodec::Lz4);
        assert!(
            stored.bytes.len() * 2 < raw.len(),
            "{} bytes",
            stored.bytes.len()
        );
        assert_eq!(StoredRaw::decode("lz4", stored.bytes).unwrap(), raw);
    }

    #[test]
    fn incompressible_bytes_are_kept_as_they_are() {
        use sha2::{Digest, Sha256};
        // Hash output: as incompressible as an already compressed attachment.
        let raw: Vec<u8> = (0..128u32)
            .flat_map(|i| Sha256::digest(i.to_le_bytes()).to_vec())
            .collect();
        let stored = StoredRaw::compress(&raw);
        assert_eq!(stored.codec, RawCodec::None);
        assert_eq!(stored.bytes, raw);
        assert_eq!(StoredRaw::decode("none", stored.bytes).unwrap(), raw);
        let empty = StoredRaw::compress(b"");
        assert_eq!(
            StoredRaw::decode(empty.codec.as_str(), empty.bytes).unwrap(),
            b""
        );
    }

    #[test]
    fn corrupted_or_unknown_columns_are_errors_not_panics() {
        let mut stored = StoredRaw::compress(&mail(50)).bytes;
        let n = stored.len();
        stored.truncate(n / 2);
        assert!(matches!(
            StoredRaw::decode("lz4", stored),
            Err(RawDecodeError::Corrupt(_))
        ));
        // A size field claiming 4 GB from a few bytes is refused before allocating.
        assert!(matches!(
            StoredRaw::decode("lz4", vec![0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
            Err(RawDecodeError::ImplausibleSize { .. })
        ));
        assert!(matches!(
            StoredRaw::decode("lz4", vec![1]),
            Err(RawDecodeError::Corrupt(_))
        ));
        assert!(matches!(
            StoredRaw::decode("zstd", vec![]),
            Err(RawDecodeError::UnknownCodec(_))
        ));
    }
}
