//! The IMAP edge (SPEC 2 steps 1 and 7, 12): [`Poller`] watches one mailbox and feeds the
//! pipeline. Pure parts: [`sync_plan`] (what to fetch, by UID), [`acknowledge`] (where handled
//! mail goes), [`backoff`] (reconnect delays). I/O parts: [`connect`] (TCP/TLS/login),
//! [`oauth_login`] (signing in with an OAuth2 access token),
//! [`session`] (the commands used), [`poller`] (the loop that ties them together).

pub mod acknowledge;
pub mod backoff;
pub mod connect;
pub mod oauth_login;
pub mod poller;
pub mod session;
pub mod sync_plan;

pub use connect::{ConnectError, Endpoint, SignIn};
pub use poller::{Poller, PollerEvent};
pub use sync_plan::{MailboxStatus, SyncPlan, UidBatch, batches, new_uids, plan};
