//! Planning an IMAP sync, purely: from the checkpoint stored with the last committed batch
//! (UIDVALIDITY, last handled UID) and what SELECT reports, decide what to fetch. Sync goes by
//! UID, never by \Seen, so a person reading the mailbox cannot make mailgate skip mail.

use crate::pipeline::BatchLimit;
use crate::store::MailboxState;

/// What the server reports when the folder is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxStatus {
    pub uid_validity: u32,
    /// UIDNEXT, when the server sends it.
    pub uid_next: Option<u32>,
    /// EXISTS: messages in the folder.
    pub exists: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPlan {
    /// Never synced: everything in the folder is new.
    FirstRun,
    /// UIDVALIDITY changed: every old UID is meaningless. Re-scan the whole folder;
    /// Message-ID dedupe keeps already stored mail from being stored twice.
    Rescan { old: u32, new: u32 },
    /// Fetch `UID FETCH from:*`.
    FetchFrom(u32),
    /// UIDNEXT says nothing arrived since the checkpoint.
    NothingNew,
}

impl SyncPlan {
    /// The first UID to ask for, or `None` when there is nothing to fetch.
    pub fn first_uid(&self) -> Option<u32> {
        match self {
            SyncPlan::FirstRun | SyncPlan::Rescan { .. } => Some(1),
            SyncPlan::FetchFrom(uid) => Some(*uid),
            SyncPlan::NothingNew => None,
        }
    }
}

pub fn plan(stored: Option<MailboxState>, server: MailboxStatus) -> SyncPlan {
    let Some(stored) = stored else {
        return SyncPlan::FirstRun;
    };
    if stored.uid_validity != server.uid_validity {
        return SyncPlan::Rescan {
            old: stored.uid_validity,
            new: server.uid_validity,
        };
    }
    match server.uid_next {
        Some(next) if next <= stored.last_uid.saturating_add(1) => SyncPlan::NothingNew,
        _ if server.exists == 0 => SyncPlan::NothingNew,
        _ => SyncPlan::FetchFrom(stored.last_uid.saturating_add(1)),
    }
}

/// The UIDs of a `UID SEARCH UID from:*` answer that are really new. A server answers `n:*`
/// with the highest UID even when it is below `n` (RFC 3501: `*` is the largest UID in use),
/// so that one must be dropped; the result is sorted and without repeats.
pub fn new_uids(answer: impl IntoIterator<Item = u32>, from: u32) -> Vec<u32> {
    let mut uids: Vec<u32> = answer
        .into_iter()
        .filter(|uid| *uid >= from && *uid > 0)
        .collect();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// A run of UIDs fetched together and committed in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidBatch {
    pub uids: Vec<u32>,
}

impl UidBatch {
    /// The UID set for `UID FETCH`, compressed into ranges: `3:5,9,12:13`.
    pub fn sequence_set(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.uids.len() {
            let start = self.uids[i];
            let mut end = start;
            while i + 1 < self.uids.len() && self.uids[i + 1] == end.saturating_add(1) {
                i += 1;
                end = self.uids[i];
            }
            if !out.is_empty() {
                out.push(',');
            }
            if start == end {
                out.push_str(&start.to_string());
            } else {
                out.push_str(&format!("{start}:{end}"));
            }
            i += 1;
        }
        out
    }

    /// The checkpoint after this batch commits.
    pub fn last(&self) -> Option<u32> {
        self.uids.last().copied()
    }
}

/// A message known by its UID and RFC822.SIZE, before it is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sized {
    pub uid: u32,
    pub size: u32,
}

/// Bytes a message over the size limit is counted as: only its header is downloaded.
const HEADER_ESTIMATE: u64 = 8 * 1024;

/// Splits sorted messages into batches within `batch` (messages and bytes of download, a
/// single message bigger than its bytes going alone), so memory stays bounded whatever the
/// mail size. Messages over `limit` are counted as their header only.
pub fn sized_batches(messages: &[Sized], batch: BatchLimit, limit: u64) -> Vec<Vec<Sized>> {
    let cost = |m: &Sized| {
        if u64::from(m.size) > limit {
            HEADER_ESTIMATE
        } else {
            u64::from(m.size)
        }
    };
    let mut rest = messages;
    batch
        .split(messages.iter().map(cost))
        .into_iter()
        .map(|length| {
            let (this, after) = rest.split_at(length);
            rest = after;
            this.to_vec()
        })
        .collect()
}

/// Splits sorted new UIDs into batches of at most `size`.
pub fn batches(uids: &[u32], size: usize) -> Vec<UidBatch> {
    uids.chunks(size.max(1))
        .map(|c| UidBatch { uids: c.to_vec() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(uid_validity: u32, uid_next: Option<u32>, exists: u32) -> MailboxStatus {
        MailboxStatus {
            uid_validity,
            uid_next,
            exists,
        }
    }

    fn stored(uid_validity: u32, last_uid: u32) -> Option<MailboxState> {
        Some(MailboxState {
            uid_validity,
            last_uid,
        })
    }

    #[test]
    fn first_run_fetches_everything() {
        assert_eq!(plan(None, status(7, Some(10), 9)), SyncPlan::FirstRun);
        assert_eq!(SyncPlan::FirstRun.first_uid(), Some(1));
    }

    #[test]
    fn changed_uidvalidity_rescans() {
        let p = plan(stored(7, 500), status(8, Some(3), 2));
        assert_eq!(p, SyncPlan::Rescan { old: 7, new: 8 });
        assert_eq!(p.first_uid(), Some(1));
    }

    #[test]
    fn fetches_after_the_checkpoint() {
        assert_eq!(
            plan(stored(7, 41), status(7, Some(50), 9)),
            SyncPlan::FetchFrom(42)
        );
        assert_eq!(
            plan(stored(7, 41), status(7, None, 9)),
            SyncPlan::FetchFrom(42)
        );
    }

    #[test]
    fn nothing_new_by_uidnext_or_empty_folder() {
        assert_eq!(
            plan(stored(7, 41), status(7, Some(42), 30)),
            SyncPlan::NothingNew
        );
        assert_eq!(
            plan(stored(7, 41), status(7, None, 0)),
            SyncPlan::NothingNew
        );
        assert_eq!(SyncPlan::NothingNew.first_uid(), None);
    }

    #[test]
    fn the_star_uid_below_the_range_is_dropped() {
        // `UID SEARCH UID 42:*` on a folder whose highest UID is 41 answers 41.
        assert_eq!(new_uids([41], 42), Vec::<u32>::new());
        assert_eq!(new_uids([45, 42, 45, 43], 42), vec![42, 43, 45]);
    }

    #[test]
    fn sized_batches_bound_count_and_bytes() {
        let m = |uid, size| Sized { uid, size };
        let msgs = [m(1, 10), m(2, 10), m(3, 10), m(4, 50), m(5, 1000), m(6, 5)];
        let uids = |b: &Vec<Vec<Sized>>| -> Vec<Vec<u32>> {
            b.iter()
                .map(|v| v.iter().map(|s| s.uid).collect())
                .collect()
        };
        let limit = BatchLimit::with_bytes;
        // By count.
        assert_eq!(
            uids(&sized_batches(&msgs, limit(2, u64::MAX), u64::MAX)),
            vec![vec![1, 2], vec![3, 4], vec![5, 6]]
        );
        // By bytes: a message bigger than the budget still goes, alone.
        assert_eq!(
            uids(&sized_batches(&msgs, limit(100, 60), u64::MAX)),
            vec![vec![1, 2, 3], vec![4], vec![5], vec![6]]
        );
        // Over the size limit: counted as a header only.
        let big = [m(1, u32::MAX), m(2, u32::MAX)];
        assert_eq!(
            uids(&sized_batches(&big, limit(100, 20_000), 1000)),
            vec![vec![1, 2]]
        );
        assert!(sized_batches(&[], limit(10, 10), 10).is_empty());
    }

    #[test]
    fn batches_and_sequence_sets() {
        let b = batches(&[3, 4, 5, 9, 12, 13, 20], 4);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].sequence_set(), "3:5,9");
        assert_eq!(b[1].sequence_set(), "12:13,20");
        assert_eq!(b[1].last(), Some(20));
        assert!(batches(&[], 10).is_empty());
        assert_eq!(batches(&[1, 2], 0).len(), 2, "size 0 is treated as 1");
    }
}
