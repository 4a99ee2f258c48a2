//! What mailgate's integration tests (`tests/it`) and `mailgate-bench` share, and nothing of
//! the product (this crate does not depend on `mailgate`):
//!
//! - [`archive`]: the deterministic synthetic support-desk archive (`mailgate-bench generate`),
//!   a library function the tests call directly.
//! - [`stack_env`]: the test mail stack (`scripts/mailstack.sh`, docs/mailstack.md) as its env
//!   file describes it, and whether its daemons answer.
//! - [`locks`]: the stack's shared and exclusive file locks (a test restarting Dovecot waits
//!   for everybody else, tests and benchmarks).
//! - [`users`]: the stack's script (`mailstack.sh add-user`, ...) and fresh user addresses.
//! - [`smtp`]: a small SMTP sender for the stack's SMTP port (no TLS, no AUTH).
//! - [`memory`]: the process's (peak) resident set size.
//! - [`closed_stdout`]: running a command whose stdout's reader went away.
//! - [`cli_help`]: every argument of a clap command line is described.
//!
//! Errors are returned, never panicked: the tests turn them into panics with context, the
//! benchmark into error messages.

pub mod archive;
pub mod cli_help;
pub mod closed_stdout;
pub mod locks;
pub mod memory;
pub mod smtp;
pub mod stack_env;
pub mod users;

pub use archive::{ArchiveSpec, ArchiveStats, write_mbox, write_mbox_of_size, write_mbox_sized};
pub use stack_env::{StackEnv, StackError};

/// The root of the source tree (the workspace) this crate was built from.
pub fn workspace_root() -> std::path::PathBuf {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap_or(crate_dir)
        .to_path_buf()
}
