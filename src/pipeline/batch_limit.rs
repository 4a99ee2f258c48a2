//! How big a batch of mail may grow, for every source (import, the IMAP poller): at most a
//! number of messages (`[import] batch_size`, a mailbox's `batch_size`) and at most
//! [`BATCH_BYTES`] of mail, so the memory a run holds does not grow with the size of its mail.
//! Each source keeps a fixed number of batches in flight (read, prepared, stored), so its
//! memory is bounded by bytes too.
//!
//! A batch is never empty: a single message over the byte budget is a batch of its own.

/// Bytes of mail in one batch at most (unless a single message is bigger).
pub const BATCH_BYTES: u64 = 8 << 20;

/// The most a batch may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimit {
    /// Messages (at least 1).
    pub messages: usize,
    /// Bytes of mail.
    pub bytes: u64,
}

impl BatchLimit {
    /// At most `messages` messages and [`BATCH_BYTES`] of mail.
    pub fn new(messages: usize) -> BatchLimit {
        BatchLimit::with_bytes(messages, BATCH_BYTES)
    }

    pub fn with_bytes(messages: usize, bytes: u64) -> BatchLimit {
        BatchLimit {
            messages: messages.max(1),
            bytes,
        }
    }

    /// Whether a batch of `messages` messages and `bytes` bytes is closed before a message of
    /// `next` bytes would join it.
    pub fn closes_before(&self, messages: usize, bytes: u64, next: u64) -> bool {
        messages > 0 && (messages >= self.messages || bytes.saturating_add(next) > self.bytes)
    }

    /// The lengths of the batches messages of these sizes, in this order, are split into.
    pub fn split(&self, sizes: impl IntoIterator<Item = u64>) -> Vec<usize> {
        let mut lengths = Vec::new();
        let (mut messages, mut bytes) = (0, 0);
        for size in sizes {
            if self.closes_before(messages, bytes, size) {
                lengths.push(messages);
                (messages, bytes) = (0, 0);
            }
            messages += 1;
            bytes += size;
        }
        if messages > 0 {
            lengths.push(messages);
        }
        lengths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_mail_is_batched_by_count() {
        let limit = BatchLimit::new(500);
        assert_eq!(limit.split([6_600; 1200]), vec![500, 500, 200]);
    }

    #[test]
    fn bigger_mail_is_batched_by_bytes() {
        // 20 KB messages: 419 fit in 8 MiB; 100 KB ones: 83.
        let limit = BatchLimit::new(500);
        assert_eq!(limit.split([20_000; 1000]), vec![419, 419, 162]);
        assert_eq!(limit.split([100_000; 100]), vec![83, 17]);
        assert_eq!(limit.split([10_800; 800]), vec![500, 300], "by count");
    }

    #[test]
    fn a_message_over_the_budget_goes_alone() {
        let limit = BatchLimit::with_bytes(100, 60);
        assert_eq!(limit.split([10, 10, 10, 50, 1000, 5]), vec![3, 1, 1, 1]);
        assert_eq!(limit.split([1000, 1000]), vec![1, 1]);
        assert_eq!(
            limit.split([60, 0, 1]),
            vec![2, 1],
            "exactly the budget fits"
        );
    }

    #[test]
    fn no_mail_no_batch_and_a_count_of_zero_is_one() {
        assert!(BatchLimit::new(10).split([]).is_empty());
        assert_eq!(BatchLimit::new(0).split([1, 1]), vec![1, 1]);
        assert!(!BatchLimit::new(1).closes_before(0, 0, u64::MAX));
    }
}
