//! Shared output helpers: times as RFC 3339, JSON to stdout, and [`safe`] / [`safe_lines`]
//! (from [`crate::terminal_safe`]) for every text that came with a mail (subjects, bodies,
//! names, addresses, file names, reasons quoting them) before it reaches a terminal.

use serde::Serialize;

pub use crate::terminal_safe::{safe, safe_lines};

/// Unix seconds → RFC 3339 (UTC).
pub fn time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| secs.to_string())
}

/// Unix seconds → a short human form, `2026-11-23 14:05`.
pub fn short_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| secs.to_string())
}

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Cuts a string for a table column, on a character boundary.
pub fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(short_time(86_400 + 3_600), "1970-01-02 01:00");
        assert_eq!(cut("héllo wörld", 5), "héll…");
        assert_eq!(cut("abc", 5), "abc");
    }
}
