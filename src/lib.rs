//! # mailgate — the map
//!
//! Every source of mail (IMAP poller, `mailgate import`, `mailgate ingest`) produces raw bytes
//! plus a [`domain::Source`] and hands them to **one pipeline**:
//!
//! ```text
//! raw bytes ──► parse ──► classify ──► thread ──► decide ──► store.apply (one tx) ──► ack source
//!               (pure)    (pure)       (pure,      (pure)     ticket, message, attachments,
//!                                      lookups                participants, decision log,
//!                                      via trait)             checkpoint
//! ```
//!
//! - [`domain`]: the vocabulary (`EmailAddress`, `MessageId`, `TicketRef`, `InboundEmail`,
//!   `Decision`), parsed once at the edge.
//! - [`parse`]: mail-parser → `InboundEmail` (reply trimming, HTML → text, attachments), within
//!   the `[limits]` budgets: header bytes and fields counted before mail-parser runs, MIME parts
//!   and depth after; long address lists and References trimmed.
//! - [`classify`], [`thread`], [`decide`]: the pure rules of SPEC 2.3–2.5; [`reply_token`]
//!   signs and verifies the plus-address tokens of rule 2.4.2.
//! - [`escalation`]: the escalation gate (SPEC 4), pure: the evidence block, the forwarded
//!   original, the rules and the verdict; refusals list every missing item.
//! - [`trust`]: who a mail is from, as far as anything proves it (pure): where the sender came
//!   from (From or an unverified fallback) and what the trusted Authentication-Results say about
//!   the From domain. Authorises participants, escalations and agent relays (SECURITY.md).
//! - [`recognise`]: bounces and reports by what a mail says (pure): DSN, ARF, Amazon SES,
//!   `X-Failed-Recipients`, and one table of vendors' prose in ten languages, each only with a
//!   machine signal; the reason names the signal. Runs only on mail with a machine signal.
//! - [`bounce`]: reads a bounce (pure): failed DSN recipients and the Message-IDs it refers to;
//!   a bounce of our own mail marks those recipients bouncing on the ticket (`pipeline`).
//! - [`pipeline`]: glue from raw bytes to stored decisions, in batches; used by every source.
//!   One `Preparer` parses and classifies a batch on the parse pool (a panic on one mail is
//!   that mail's quarantine reason). Per batch: load a snapshot of what the store knows →
//!   decide each mail in order (pure) → write everything plus the source checkpoint in one
//!   transaction. A batch the database refuses is retried mail by mail; the mail at fault goes
//!   to quarantine with its reason. Also the agent's side of a ticket
//!   (`pipeline::agent_ticket`: load it for `tickets reply` / `set-status`, relay agents' mail)
//!   and what is derived from a stored mail when shown (`pipeline::stored_mail`).
//! - [`store`]: the database edge, at the bottom: it imports only `domain` and `config`, and
//!   owns what goes in and out (`Writes`, `Snapshot` and `Keys`, `NewOutboxRow`, the read rows,
//!   `Checkpoint`, `MailboxState`) and a typed `store::Error` whose kind says refused data
//!   (quarantine the mail) or an unavailable database (stop). All SQL is in `store::sqlite`
//!   (WAL, 32 KB pages, migrations under `migrations/sqlite/`, bound parameters only). A
//!   received mail is stored once, LZ4-compressed (`store::StoredRaw`); its texts and attachment
//!   contents are derived from it when shown (`pipeline::stored_mail`). A background
//!   checkpointer (`Store::start_checkpointer`) copies the WAL into the database file off the
//!   writer's path.
//! - [`cpu_priority`]: the parse pool and archive reader run at a lower priority than the
//!   serial decide/store chain they feed; `on_parse_pool` awaits work on that pool.
//! - [`import`]: mbox / Maildir / .eml-folder readers (what they yield in `import::item`, the
//!   choice of reader in `import::reader`) and the import run with its report. Mail
//!   over the size limit is never read whole (`import::oversized`): its header is quarantined
//!   with a reference to where it is.
//! - [`imap`]: the IMAP edge. `Poller` per mailbox (`mailgate run`): fetch new mail by UID in
//!   batches → pipeline (commit with the UID checkpoint) → only then move/flag it; IDLE or
//!   poll; reconnect with backoff. Pure planning in `imap::sync_plan` / `imap::acknowledge`.
//! - [`outbox`]: outgoing mail (SPEC 5, 6), the pure core: signed Message-IDs, subjects,
//!   headers, recipients, loop guard, non-ASCII addresses (A-label, SMTPUTF8 or refused),
//!   rendering of a row into a message, and the enqueue side (which notifications a decision
//!   queues). It imports neither the store nor the network, and does no I/O.
//! - [`templates`]: the notification bodies (minijinja, built-in defaults and the admin's
//!   overrides), loaded and checked by `config` when the configuration is read, rendered by
//!   `outbox`; it imports neither.
//! - [`delivery`]: the edge that sends the outbox, in `mailgate run` (`delivery::sender`:
//!   claim with a lease → render with `outbox::render` → send over pooled SMTP connections,
//!   `delivery::smtp` → record; retries with backoff, 5xx fails per recipient).
//! - [`oauth`]: OAuth2 sign-in (issue 17): SASL `OAUTHBEARER` / `XOAUTH2` and the token
//!   endpoint's answers (pure), the refresh token's file (rewritten atomically) and
//!   `oauth::TokenSource`, which keeps an account's access token fresh over HTTPS.
//! - [`tls`]: rustls client configuration (ring, system roots + optional CA file).
//! - [`config`]: TOML + environment → typed settings (`config::file` the file as written,
//!   one file per section turning it into settings).
//! - [`logging`]: `MAILGATE_LOG` → stderr; dependencies that log credentials (async-imap's
//!   LOGIN at trace level) are never shown.
//! - [`terminal_safe`]: text from mail escaped for a terminal (control and bidi characters),
//!   for every command's human output and the import report.
//! - [`cli`]: one file per subcommand; `main.rs` only dispatches. [`shutdown`]: SIGINT/SIGTERM
//!   become a cancellation token; work stops between batches.
//! - [`sla`]: SLA pings, the pure core: working time by a calendar and which ping each ticket
//!   is due, keyed (ticket, kind, due time) so that no ping is ever sent twice; the pass that
//!   takes the keys and queues the mail in one transaction is `cli::sla` (`mailgate run` every
//!   minute, `mailgate sla tick` once).
//! - [`alerts`]: monitoring alerts (SPEC 7), the pure core: what a Nagios / Icinga, Zabbix,
//!   Alertmanager or custom (regex) alert says (host, service, state, problem or recovery, read
//!   from at most the subject and the first 64 KB of text), its key (host + service), its
//!   priority, and whether its sender is a configured and authenticated monitoring system
//!   (`alerts::judge`); `decide::alert` turns that into `alert-problem`, `alert-repeat` or
//!   `alert-recovery` against the open ticket of the key (`store::Snapshot::alert_tickets`).
//! - [`process_memory`]: process-wide memory settings made at start (C heap arenas, huge pages).
//!
//! Around this crate, in the same Cargo workspace: `crates/mailgate-bench` (the `mailgate-bench`
//! binary: synthetic archives, import / IMAP / outbox throughput and peak memory; it uses this
//! crate's public API) and `crates/mailgate-test-support` (`publish = false`: the test mail
//! stack's env file, locks, users and an SMTP sender, the synthetic archive generator; used by
//! `tests/it` and the bench, independent of this crate). The product binary contains no bench
//! code.

pub mod alerts;
pub mod bounce;
pub mod classify;
pub mod cli;
pub mod config;
pub mod cpu_priority;
pub mod decide;
pub mod delivery;
pub mod domain;
pub mod escalation;
pub mod imap;
pub mod import;
pub mod logging;
pub mod oauth;
pub mod outbox;
pub mod parse;
pub mod pipeline;
pub mod process_memory;
pub mod recognise;
pub mod reply_token;
pub mod shutdown;
pub mod sla;
pub mod store;
pub mod templates;
pub mod terminal_safe;
pub mod thread;
pub mod tls;
pub mod trust;
