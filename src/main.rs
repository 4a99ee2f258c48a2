//! The `mailgate` binary: parse the command line, set up logging, dispatch, map errors to
//! exit codes (0 success, 1 error, 2 bad usage; 0 too when stdout's reader went away).

use std::process::ExitCode;

use clap::Parser;
use mailgate::cli::{Cli, exit_quietly_when_stdout_closes, is_broken_pipe, run};

/// mimalloc: parsing allocates many short-lived strings on every core at once, where the
/// system allocator's arena locks and consolidation cost about a tenth of an import's time.
/// Version 2 (Cargo feature `v2`) hands freed memory back to the system after 10 ms; v3
/// keeps it for a second, which took a 1 GB import past its 150 MB memory budget.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    mailgate::process_memory::tune();
    exit_quietly_when_stdout_closes();
    let cli = Cli::parse();
    // The daemon says what it does; one-shot commands only warn.
    mailgate::logging::init(match cli.command {
        mailgate::cli::Command::Run => "info,sqlx=warn",
        _ => "warn",
    });
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
