//! The integration test binary: drives the real `mailgate` binary (one tempdir, database and
//! config per test) through the CLI contract of SPEC 9, with the scenario mails of
//! `fixtures/cases/` and the sample archive `fixtures/sample-archive.mbox`.

mod assignment;
mod atomicity;
mod attachments;
mod bounces;
mod cli;
mod closed_stdout;
mod config_check_all;
mod config_secrets;
mod content;
mod corpus;
mod crash;
mod database_url;
mod escalation_defaults;
mod escalation_table;
mod escalations_e2e;
mod fixtures_doc;
mod generator;
mod headers;
mod help_texts;
mod hostile;
mod huge_mail;
mod imap;
mod import;
mod import_runs;
mod lists;
mod lists_e2e;
mod log_secrets;
mod machine_mail;
mod mailbox_roles;
mod mailstack_harness;
mod notifications;
mod outbox;
mod prepare;
mod quarantine;
mod quickstart;
mod recognise_corpus;
mod reused_message_id;
mod sla;
mod support;
mod terminal_output;
mod threading;
mod threading_e2e;
mod trust;
mod trust_e2e;
