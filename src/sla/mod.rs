//! SLA pings (SPEC 7, issue 14), the pure core: working time by an optional calendar
//! ([`calendar`]) and, for each ticket, which ping is due and when ([`schedule`]). Each ping is
//! keyed by (ticket, kind, due time), computed from the ticket's stored times, so repeated or
//! concurrent passes and clock jumps never send one twice.
//!
//! Not wired yet: the pass that loads tickets, writes each ping with its outbox row in one
//! transaction, and the `mailgate sla tick` / `sla status` commands come next.

pub mod calendar;
pub mod schedule;

pub use calendar::{Calendar, Clock};
pub use schedule::{Ping, PingKind, Policy, TicketClock, due, next};
