//! Working time (SPEC 7): when an `[sla]` calendar is given, every SLA duration counts only the
//! hours the desk works, in its time zone: working days, daily hours (an end before the start
//! means the shift runs overnight into the next day), minus holidays (a holiday cancels the
//! shift that starts on it). Pure: instants are Unix seconds, the zone's rules come from the
//! tz database compiled in (`chrono-tz`), so a DST change shortens or lengthens that day's
//! shift as the wall clock does.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

/// Most days looked at for one answer: a calendar whose next working hour is further away
/// than this (holidays listed for years) counts as having none.
const MAX_DAYS: u64 = 3 * 366;

/// The desk's working time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub zone: Tz,
    /// Monday first.
    pub days: [bool; 7],
    pub start: NaiveTime,
    /// Before or at `start`: the shift ends the next day.
    pub end: NaiveTime,
    pub holidays: BTreeSet<NaiveDate>,
}

/// How durations are counted: all the time, or a calendar's working time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    Always,
    Working(Calendar),
}

impl Clock {
    /// The instant at which `seconds` of counted time have passed since `from`; `None` when the
    /// calendar has no working time within [`MAX_DAYS`].
    pub fn after(&self, from: i64, seconds: u64) -> Option<i64> {
        match self {
            Clock::Always => from.checked_add(i64::try_from(seconds).ok()?),
            Clock::Working(c) => c.after(from, seconds),
        }
    }

    /// Counted seconds between `from` and `to` (0 when `to` is not later).
    pub fn between(&self, from: i64, to: i64) -> u64 {
        match self {
            Clock::Always => u64::try_from(to.saturating_sub(from)).unwrap_or(0),
            Clock::Working(c) => c.between(from, to),
        }
    }
}

impl Calendar {
    /// The shift that starts on local day `day`, as Unix seconds, if it is a working day. A
    /// wall time the DST change skips starts at the first valid instant after it.
    fn shift(&self, day: NaiveDate) -> Option<(i64, i64)> {
        let weekday = day.weekday().num_days_from_monday() as usize;
        if !self.days[weekday] || self.holidays.contains(&day) {
            return None;
        }
        let end_day = if self.end <= self.start {
            day.checked_add_days(Days::new(1))?
        } else {
            day
        };
        let start = self.instant(day.and_time(self.start))?;
        let end = self.instant(end_day.and_time(self.end))?;
        (end > start).then_some((start, end))
    }

    fn instant(&self, local: NaiveDateTime) -> Option<i64> {
        // Ambiguous (clocks go back): the first; skipped (clocks go forward): an hour later.
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.zone
                    .from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.timestamp())
    }

    /// The local day the shift containing or following `at` may start on: the day before, so
    /// an overnight shift that began yesterday is found.
    fn first_day(&self, at: i64) -> Option<NaiveDate> {
        let local = self.zone.timestamp_opt(at, 0).single()?.date_naive();
        local.checked_sub_days(Days::new(1))
    }

    /// Shifts from the one containing or following `from`, in order.
    fn shifts_from(&self, from: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let first = self.first_day(from);
        (0..MAX_DAYS)
            .filter_map(move |i| first?.checked_add_days(Days::new(i)))
            .filter_map(|day| self.shift(day))
            .filter(move |(_, end)| *end > from)
    }

    fn after(&self, from: i64, seconds: u64) -> Option<i64> {
        let mut left = i64::try_from(seconds).ok()?;
        for (start, end) in self.shifts_from(from) {
            let begin = start.max(from);
            let length = end - begin;
            if left <= length {
                return Some(begin + left);
            }
            left -= length;
        }
        None
    }

    fn between(&self, from: i64, to: i64) -> u64 {
        let mut total: i64 = 0;
        for (start, end) in self.shifts_from(from) {
            if start >= to {
                break;
            }
            total += end.min(to) - start.max(from);
        }
        u64::try_from(total).unwrap_or(0)
    }
}

/// Monday-first flags from day names (`mon`, `tuesday`, …, `sun`), or the first unknown name.
pub fn working_days(names: &[String]) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for name in names {
        let day: Weekday = name
            .trim()
            .parse()
            .map_err(|_| format!("{name:?} is not a day of the week (mon … sun)"))?;
        days[day.num_days_from_monday() as usize] = true;
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin_office() -> Calendar {
        Calendar {
            zone: chrono_tz::Europe::Berlin,
            days: working_days(&["mon", "tue", "wed", "thu", "fri"].map(String::from)).unwrap(),
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            holidays: BTreeSet::from([NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()]),
        }
    }

    /// Unix seconds of a Berlin wall time.
    fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        chrono_tz::Europe::Berlin
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .timestamp()
    }

    const HOUR: u64 = 3600;

    #[test]
    fn always_counts_every_second() {
        assert_eq!(Clock::Always.after(100, 50), Some(150));
        assert_eq!(Clock::Always.between(100, 150), 50);
        assert_eq!(Clock::Always.between(150, 100), 0);
    }

    #[test]
    fn time_outside_the_shift_does_not_count() {
        let c = Clock::Working(berlin_office());
        // Thursday 10 Dec 2026, 16:00 + 2 working hours: Friday 10:00.
        let thu_16 = berlin(2026, 12, 10, 16, 0);
        assert_eq!(c.after(thu_16, 2 * HOUR), Some(berlin(2026, 12, 11, 10, 0)));
        // Friday 16:00 + 2 h: the weekend is skipped, Monday 10:00.
        let fri_16 = berlin(2026, 12, 11, 16, 0);
        assert_eq!(c.after(fri_16, 2 * HOUR), Some(berlin(2026, 12, 14, 10, 0)));
        // From Saturday night, the clock starts on Monday at 9.
        let sat = berlin(2026, 12, 12, 23, 0);
        assert_eq!(c.after(sat, HOUR), Some(berlin(2026, 12, 14, 10, 0)));
        assert_eq!(c.between(fri_16, berlin(2026, 12, 14, 10, 0)), 2 * HOUR);
    }

    #[test]
    fn a_holiday_is_skipped() {
        let c = Clock::Working(berlin_office());
        // Thursday 24 Dec 16:00 + 2 h: Friday 25 Dec is a holiday, so Monday 28 Dec 10:00.
        assert_eq!(
            c.after(berlin(2026, 12, 24, 16, 0), 2 * HOUR),
            Some(berlin(2026, 12, 28, 10, 0))
        );
    }

    #[test]
    fn working_time_is_looked_for_years_ahead_and_no_further() {
        // Every day of the next 400 is a holiday: the clock runs again on the 401st.
        let from_day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        let closed = |days: u64| Calendar {
            holidays: (0..days)
                .map(|i| from_day.checked_add_days(Days::new(i)).unwrap())
                .collect(),
            ..berlin_office()
        };
        let from = berlin(2026, 12, 10, 8, 0);
        let after = Clock::Working(closed(400)).after(from, HOUR).unwrap();
        assert!(after - from > 400 * 86_400, "{after}");
        // Holidays listed for longer than MAX_DAYS: no working time at all.
        let never = Clock::Working(closed(MAX_DAYS + 10));
        assert_eq!(never.after(from, HOUR), None);
    }

    #[test]
    fn an_overnight_shift_runs_into_the_next_day() {
        let night = Calendar {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
            days: [true; 7],
            ..berlin_office()
        };
        let c = Clock::Working(night);
        // 23:00 + 3 h = 02:00 the next morning.
        assert_eq!(
            c.after(berlin(2026, 12, 10, 23, 0), 3 * HOUR),
            Some(berlin(2026, 12, 11, 2, 0))
        );
        // 05:00 is inside the shift that began the evening before: + 2 h = 23:00.
        assert_eq!(
            c.after(berlin(2026, 12, 11, 5, 0), 2 * HOUR),
            Some(berlin(2026, 12, 11, 23, 0))
        );
        // The holiday cancels the shift starting on 25 Dec 22:00.
        assert_eq!(
            c.between(berlin(2026, 12, 25, 12, 0), berlin(2026, 12, 26, 12, 0)),
            0
        );
    }

    #[test]
    fn a_dst_change_moves_the_shift_with_the_wall_clock() {
        let always_open = Calendar {
            days: [true; 7],
            start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(23, 59, 59).unwrap(),
            holidays: BTreeSet::new(),
            ..berlin_office()
        };
        let c = Clock::Working(always_open);
        // 29 Mar 2026: clocks jump from 02:00 to 03:00; that day has 23 hours (less 1 s).
        let day = c.between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0));
        assert_eq!(day, 23 * HOUR - 1);
        // An office shift on that Monday after the change is still 09:00–17:00 local.
        let office = Clock::Working(berlin_office());
        assert_eq!(
            office.after(berlin(2026, 3, 27, 16, 0), 2 * HOUR),
            Some(berlin(2026, 3, 30, 10, 0))
        );
    }

    #[test]
    fn a_shift_that_starts_in_the_skipped_hour_starts_an_hour_later() {
        // 29 Mar 2026 in Berlin: 02:00 jumps to 03:00, so a 02:30 start is 03:30 local (01:30
        // UTC), never 01:30 local.
        let night = Calendar {
            days: [true; 7],
            start: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            end: NaiveTime::from_hms_opt(5, 0, 0).unwrap(),
            holidays: BTreeSet::new(),
            ..berlin_office()
        };
        let c = Clock::Working(night);
        let midnight = berlin(2026, 3, 29, 0, 0);
        assert_eq!(c.after(midnight, HOUR), Some(berlin(2026, 3, 29, 4, 30)));
        // The shortened shift counts 03:30–05:00 local.
        assert_eq!(
            c.between(midnight, berlin(2026, 3, 29, 12, 0)),
            HOUR + HOUR / 2
        );
    }

    #[test]
    fn a_calendar_without_working_days_never_comes_due() {
        let never = Calendar {
            days: [false; 7],
            ..berlin_office()
        };
        assert_eq!(Clock::Working(never.clone()).after(0, 1), None);
        assert_eq!(Clock::Working(never).between(0, 1_000_000), 0);
    }

    #[test]
    fn day_names_are_read() {
        assert_eq!(
            working_days(&["Mon".into(), "friday".into()]),
            Ok([true, false, false, false, true, false, false])
        );
        assert!(
            working_days(&["funday".into()])
                .unwrap_err()
                .contains("funday")
        );
    }
}
