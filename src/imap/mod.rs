//! The IMAP edge (SPEC 2 steps 1 and 7, issue "IMAP poller"). So far: the pure sync planning
//! that decides what to fetch from a mailbox given what the store remembers. The session that
//! executes a plan (async-imap, TLS, IDLE, moves after commit) comes next.

pub mod sync_plan;

pub use sync_plan::{MailboxStatus, StoredState, SyncPlan, UidBatch, batches, new_uids, plan};
