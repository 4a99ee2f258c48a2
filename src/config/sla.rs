//! `[sla]` (SPEC 7): how long a ticket may wait before a ping. Durations are written as a
//! number and a unit, `90m`, `24h`, `3d`, `2w`, or several of them, `1d12h`. This version does
//! not send SLA pings yet; the values are checked so a config written today is right.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::file::SlaFile;

/// `[sla]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaSettings {
    /// An open ticket with no agent update for this long gets an internal reminder.
    pub open_update_every: Option<Duration>,
    /// A pending ticket with no customer activity for this long gets one prompt.
    pub pending_reminder_after: Option<Duration>,
    /// ...and after this long it is resolved with a closing notice.
    pub auto_close_pending_after: Option<Duration>,
}

pub(super) fn sla_settings(
    raw: &SlaFile,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> SlaSettings {
    let mut duration = |value: &Option<Spanned<String>>, key: &str| {
        let value = value.as_ref()?;
        parse_duration(value.get_ref())
            .map_err(|why| issue(Some(value.span()), format!("sla.{key}: {why}")))
            .ok()
    };
    let settings = SlaSettings {
        open_update_every: duration(&raw.open_update_every, "open_update_every"),
        pending_reminder_after: duration(&raw.pending_reminder_after, "pending_reminder_after"),
        auto_close_pending_after: duration(
            &raw.auto_close_pending_after,
            "auto_close_pending_after",
        ),
    };
    if let (Some(remind), Some(close), Some(close_text)) = (
        settings.pending_reminder_after,
        settings.auto_close_pending_after,
        &raw.auto_close_pending_after,
    ) && close <= remind
    {
        issue(
            Some(close_text.span()),
            format!(
                "sla.auto_close_pending_after ({}) must be longer than \
                 sla.pending_reminder_after ({}): the customer is prompted before the ticket \
                 is closed",
                show_duration(close),
                show_duration(remind)
            ),
        );
    }
    settings
}

/// `24h`, `3d`, `1d12h`, `90m`, `45s`, `2w` → a duration (more than zero).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let refused = || {
        format!(
            "{text:?} is not a duration: write a number and a unit (s, m, h, d or w), \
             e.g. \"24h\" or \"3d\""
        )
    };
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(refused()),
        };
        let count: u64 = number.parse().map_err(|_| refused())?;
        number.clear();
        total = count
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(refused)?;
    }
    if !number.is_empty() || total == 0 {
        return Err(
            if total == 0 && number.is_empty() && !text.trim().is_empty() {
                format!("{text:?} is no time at all: an SLA duration must be longer than zero")
            } else {
                refused()
            },
        );
    }
    Ok(Duration::from_secs(total))
}

/// A duration in its largest whole unit up to days: `14d`, `36h`, `90m`.
pub fn show_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= size && secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_in_their_units() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("24h"), Ok(86_400));
        assert_eq!(secs("3d"), Ok(3 * 86_400));
        assert_eq!(secs("1d12h"), Ok(36 * 3600));
        assert_eq!(secs("90m"), Ok(5400));
        assert_eq!(secs("2w"), Ok(14 * 86_400));
        assert_eq!(secs(" 45s "), Ok(45));
    }

    #[test]
    fn what_is_not_a_duration_is_refused_with_an_example() {
        for text in [
            "24",
            "h",
            "3 days",
            "1.5h",
            "",
            "-3d",
            "99999999999999999999w",
        ] {
            let e = parse_duration(text).unwrap_err();
            assert!(e.contains("e.g. \"24h\""), "{text}: {e}");
        }
        assert!(
            parse_duration("0h")
                .unwrap_err()
                .contains("longer than zero")
        );
    }

    #[test]
    fn durations_are_shown_in_their_largest_whole_unit() {
        assert_eq!(show_duration(Duration::from_secs(3 * 86_400)), "3d");
        assert_eq!(show_duration(Duration::from_secs(14 * 86_400)), "14d");
        assert_eq!(show_duration(Duration::from_secs(36 * 3600)), "36h");
        assert_eq!(show_duration(Duration::from_secs(5400)), "90m");
        assert_eq!(show_duration(Duration::from_secs(61)), "61s");
    }
}
