//! `[sla]` (SPEC 7): how long a ticket may wait before a ping. Durations are written as a
//! number and a unit, `90m`, `24h`, `3d`, `2w`, or several of them, `1d12h`. With an
//! `[sla.calendar]`, they count working time only (`sla::calendar`).

use std::ops::Range;
use std::time::Duration;

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime};
use toml::Spanned;

use super::file::{CalendarFile, SlaFile};
use crate::sla::{Calendar, Clock, Policy};

/// `[sla]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaSettings {
    /// An open ticket with no agent update for this long gets an internal reminder.
    pub open_update_every: Option<Duration>,
    /// The same for critical tickets (else `open_update_every`).
    pub critical_update_every: Option<Duration>,
    /// A pending ticket with no customer activity for this long gets one prompt.
    pub pending_reminder_after: Option<Duration>,
    /// ...and after this long it is resolved with a closing notice.
    pub auto_close_pending_after: Option<Duration>,
    /// How the durations are counted: all the time, or a calendar's working time.
    pub clock: Clock,
    /// How often `mailgate run` makes a pass (wall time).
    pub pass_every: Duration,
}

/// How often `mailgate run` makes an SLA pass unless `[sla] pass_every` says otherwise: pings
/// are due at the minute, not the second.
pub const DEFAULT_PASS_EVERY: Duration = Duration::from_secs(60);

impl SlaSettings {
    /// Whether any ping is configured.
    pub fn is_enabled(&self) -> bool {
        self.open_update_every.is_some()
            || self.critical_update_every.is_some()
            || self.pending_reminder_after.is_some()
    }

    /// What the schedule works with.
    pub fn policy(&self) -> Policy {
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs());
        Policy {
            open_update_every: secs(self.open_update_every),
            critical_update_every: secs(self.critical_update_every),
            pending_reminder_after: secs(self.pending_reminder_after),
            auto_close_pending_after: secs(self.auto_close_pending_after),
            clock: self.clock.clone(),
        }
    }
}

impl Default for SlaSettings {
    fn default() -> Self {
        SlaSettings {
            open_update_every: None,
            critical_update_every: None,
            pending_reminder_after: None,
            auto_close_pending_after: None,
            clock: Clock::Always,
            pass_every: DEFAULT_PASS_EVERY,
        }
    }
}

/// `[sla.calendar]`, checked: a known time zone, day names, `HH:MM-HH:MM`, ISO dates.
fn calendar(
    raw: &Spanned<CalendarFile>,
    issue: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<Calendar> {
    let span = raw.span();
    let raw = raw.get_ref();
    let Some(zone_text) = &raw.timezone else {
        issue(
            Some(span),
            "sla.calendar needs a timezone, e.g. timezone = \"Europe/Berlin\"".to_string(),
        );
        return None;
    };
    let zone = zone_text
        .get_ref()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| {
            issue(
                Some(zone_text.span()),
                format!(
                    "sla.calendar.timezone: {:?} is not a time zone of the tz database \
                     (e.g. \"Europe/Berlin\", \"America/New_York\", \"UTC\")",
                    zone_text.get_ref()
                ),
            )
        })
        .ok();
    let days = match &raw.days {
        None => Some([true, true, true, true, true, false, false]),
        Some(days) => crate::sla::calendar::working_days(days.get_ref())
            .map_err(|e| issue(Some(days.span()), format!("sla.calendar.days: {e}")))
            .ok()
            .filter(|d| {
                let any = d.iter().any(|w| *w);
                if !any {
                    issue(
                        Some(days.span()),
                        "sla.calendar.days: no working day: SLA pings would never come due"
                            .to_string(),
                    );
                }
                any
            }),
    };
    let hours = match &raw.hours {
        None => Some((
            NaiveTime::from_hms_opt(9, 0, 0)?,
            NaiveTime::from_hms_opt(17, 0, 0)?,
        )),
        Some(text) => parse_hours(text.get_ref())
            .map_err(|e| issue(Some(text.span()), format!("sla.calendar.hours: {e}")))
            .ok(),
    };
    let mut holidays = BTreeSet::new();
    for h in &raw.holidays {
        match NaiveDate::parse_from_str(h.get_ref().trim(), "%Y-%m-%d") {
            Ok(d) => {
                holidays.insert(d);
            }
            Err(_) => issue(
                Some(h.span()),
                format!(
                    "sla.calendar.holidays: {:?} is not a date like \"2026-12-25\"",
                    h.get_ref()
                ),
            ),
        }
    }
    let (start, end) = hours?;
    Some(Calendar {
        zone: zone?,
        days: days?,
        start,
        end,
        holidays,
    })
}

/// `09:00-17:00` → (start, end); an end at or before the start is the next day's.
pub fn parse_hours(text: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let refused = || format!("{text:?} is not a span of hours like \"09:00-17:00\"");
    let (start, end) = text.split_once('-').ok_or_else(refused)?;
    let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| refused());
    let (start, end) = (time(start)?, time(end)?);
    if start == end {
        return Err(format!(
            "{text:?} is no time at all: the shift must have a length"
        ));
    }
    Ok((start, end))
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
        critical_update_every: duration(&raw.critical_update_every, "critical_update_every"),
        pending_reminder_after: duration(&raw.pending_reminder_after, "pending_reminder_after"),
        auto_close_pending_after: duration(
            &raw.auto_close_pending_after,
            "auto_close_pending_after",
        ),
        pass_every: duration(&raw.pass_every, "pass_every").unwrap_or(DEFAULT_PASS_EVERY),
        clock: Clock::Always,
    };
    let settings = SlaSettings {
        clock: match &raw.calendar {
            Some(c) => calendar(c, issue).map_or(Clock::Always, Clock::Working),
            None => Clock::Always,
        },
        ..settings
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
