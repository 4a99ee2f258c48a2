//! `mailgate-bench`: the benchmarks of mailgate, apart from the product binary. Same process
//! set-up as `mailgate` (allocator, C heap arenas, huge pages, parse pool, logging), so the
//! figures are the product's.
//!
//! - [`cli`]: the command line; `generate` writes the synthetic archive of
//!   `mailgate-test-support`.
//! - [`import`]: the mail-parser ceiling, and `mailgate import` and re-import of a generated
//!   archive (the real binary).
//! - [`imap`]: the IMAP poller against the test mail stack: backlog drain and IDLE latency.
//! - [`outbox`]: the outbox sender's drain rate to the test mail stack's Postfix.
//! - [`sla`]: one `mailgate sla tick` over a seeded database; duplicates under clock jumps.
//! - [`stack`]: the test mail stack as the benchmarks see it.

mod cli;
mod imap;
mod import;
mod outbox;
mod sla;
mod stack;

use std::process::ExitCode;

use clap::Parser;
use mailgate::cli::{exit_quietly_when_stdout_closes, is_broken_pipe};

/// The product's allocator (see src/main.rs): the figures must be the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    mailgate::process_memory::tune();
    exit_quietly_when_stdout_closes();
    let cli = cli::Cli::parse();
    mailgate::logging::init("warn");
    mailgate::cpu_priority::init_parse_pool();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
