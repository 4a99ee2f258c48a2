//! Logging of the binary: `tracing` to stderr, filtered by `MAILGATE_LOG` (EnvFilter syntax),
//! with the `log` records of dependencies forwarded into it — except the dependencies whose
//! log output carries what must never be logged, whatever `MAILGATE_LOG` says.
//!
//! Checked (December 2026): async-imap logs every command it sends at trace level, `LOGIN user
//! password` included, and every response it reads (whole mails): silenced. lettre logs SMTP
//! (AUTH challenges included) only with its `tracing` feature, which is not enabled. sqlx logs
//! statements as SQL text, never their bound parameters. rustls logs handshake messages at
//! trace level, no application data and no credentials.

use tracing::Metadata;
use tracing_subscriber::filter::{EnvFilter, FilterFn, LevelFilter};
use tracing_subscriber::prelude::*;

/// Crates whose log output is never shown (their targets and every module below them).
/// reqwest and hyper (the OAuth2 token endpoint's HTTP) log no bodies unless asked, but a
/// refresh request carries the refresh token and the client secret and its answer the access
/// token: they are silenced too.
const SILENCED: &[&str] = &["async_imap", "reqwest", "hyper", "hyper_util"];

/// Whether an event or span of `target` may be logged at all.
pub fn allowed(target: &str) -> bool {
    !SILENCED.iter().any(|krate| {
        target
            .strip_prefix(krate)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Installs the global subscriber (and the `log` bridge): `MAILGATE_LOG` if set and valid,
/// else `default_filter`.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("MAILGATE_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let never_secrets = FilterFn::new(|meta: &Metadata<'_>| allowed(meta.target()))
        .with_max_level_hint(LevelFilter::TRACE);
    tracing_subscriber::registry()
        .with(never_secrets)
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_imap_is_never_logged() {
        assert!(!allowed("async_imap"));
        assert!(!allowed("async_imap::imap_stream"));
        assert!(allowed("async_imap_other"));
        assert!(!allowed("reqwest::connect"));
        assert!(!allowed("hyper_util::client::legacy::pool"));
        assert!(allowed("mailgate::imap::poller"));
        assert!(allowed("sqlx::query"));
        assert!(allowed("rustls::client::hs"));
    }
}
