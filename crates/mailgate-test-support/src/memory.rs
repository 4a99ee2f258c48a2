//! Process memory figures for the benchmark, read from `/proc/self/status` (Linux only;
//! `None` elsewhere or when the file cannot be read).

/// Peak resident set size so far (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_field("VmHWM:")
}

/// Current resident set size (`VmRSS`), in bytes.
pub fn current_rss_bytes() -> Option<u64> {
    status_field("VmRSS:")
}

/// Resets the peak (`VmHWM`) to the current RSS by writing `5` to `/proc/self/clear_refs`, so
/// a phase (an import after generating its archive) can be measured on its own. Returns
/// whether the kernel accepted it.
pub fn reset_peak_rss() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::write("/proc/self/clear_refs", b"5").is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(target_os = "linux")]
fn status_field(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_field(&status, key)
}

#[cfg(not(target_os = "linux"))]
fn status_field(_key: &str) -> Option<u64> {
    None
}

/// Finds `key` (e.g. `VmHWM:`) in a `/proc/<pid>/status` text; values are in kB.
fn parse_field(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    let mut parts = line[key.len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next() {
        Some(unit) if unit.eq_ignore_ascii_case("kb") => 1024,
        Some(unit) if unit.eq_ignore_ascii_case("mb") => 1024 * 1024,
        Some(_) => return None,
        None => 1,
    };
    value.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let status = "Name:\tx\nVmPeak:\t  200 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_field(status, "VmHWM:"), Some(1234 * 1024));
        assert_eq!(parse_field(status, "VmRSS:"), Some(1000 * 1024));
        assert_eq!(parse_field(status, "VmSwap:"), None);
        assert_eq!(parse_field("VmHWM: x kB\n", "VmHWM:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_process() {
        let peak = peak_rss_bytes().unwrap();
        let current = current_rss_bytes().unwrap();
        assert!(current > 0 && peak >= current / 2, "{peak} {current}");
    }
}
