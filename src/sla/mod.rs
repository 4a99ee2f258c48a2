//! SLA pings (SPEC 7, issue 14), the pure core: working time by an optional calendar
//! ([`calendar`]) and, for each ticket, which ping is due and when ([`schedule`]). Each ping is
//! keyed by (ticket, kind, due time), computed from the ticket's stored times, so repeated or
//! concurrent passes and clock jumps never send one twice.
//!
//! The imperative shell is `cli::sla`: the pass that reads the tickets and, in one
//! transaction, takes each due ping's key and queues its mail; `mailgate run` runs it every
//! minute, `mailgate sla tick` once.

pub mod calendar;
pub mod schedule;

pub use calendar::{Calendar, Clock};
pub use schedule::{Ping, Policy, due, next};
