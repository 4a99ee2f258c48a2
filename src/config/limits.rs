//! `max_message_bytes` (`[limits]`, and per mailbox): how big a mail may be to be read and
//! stored. Bigger mail is quarantined by reference, never read whole. The ceiling keeps every
//! mail that is read storable: SQLite refuses a value of 1 GB or more (`string or blob too
//! big`), and a mail is stored as one value.

use std::ops::Range;

use toml::Spanned;

/// The largest `max_message_bytes` accepted: 512 MiB.
pub const MAX_MESSAGE_BYTES_CEILING: u64 = 512 * 1024 * 1024;

/// The configured limit, when it is within the ceiling (else an issue on its line).
pub(super) fn message_limit(
    value: Option<&Spanned<u64>>,
    key: &str,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<usize> {
    let value = value?;
    let bytes = *value.get_ref();
    if bytes > MAX_MESSAGE_BYTES_CEILING {
        issue(
            Some(value.span()),
            format!(
                "{key} = {bytes} is over the ceiling of {MAX_MESSAGE_BYTES_CEILING} bytes \
                 (512 MiB): the database stores a mail as one value, which must stay under \
                 1 GB; bigger mail is quarantined by reference instead"
            ),
        );
        return None;
    }
    usize::try_from(bytes).ok()
}
