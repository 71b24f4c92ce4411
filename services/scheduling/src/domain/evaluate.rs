//! Is a schedule open at an instant, until when, and when does it open next
//! (SCH-1, SCH-2, SCH-7). Pure: a schedule and an instant in, an answer out.
//!
//! Each local day contributes its opening hours (the date's exception if it
//! has one, else the weekly intervals of its weekday). Hours belong to the
//! day they START on: Friday 22:00–02:00 stays open until 02:00 even when
//! Saturday is a holiday. Local times are turned into instants with the tz
//! database (jiff) using the "compatible" rule: a time skipped by a DST gap
//! moves forward, a repeated time takes its first occurrence. Touching or
//! overlapping spans merge, so "open until" is the real closing instant
//! (Monday 00:00–24:00 followed by Tuesday 00:00–18:00 ends Tuesday 18:00).
use jiff::civil::{Date, DateTime};
use jiff::{Timestamp, ToSpan};

use super::schedule::{DAY_MINUTES, Hours, Schedule};

/// The answer to "is it open at `at`?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    pub open: bool,
    /// When open: the instant it closes; `None` = not within a year.
    pub current_interval_end: Option<Timestamp>,
    /// When closed: the instant it opens; `None` = not within a year.
    pub next_opening: Option<Timestamp>,
}

impl Evaluation {
    const ALWAYS: Evaluation = Evaluation {
        open: true,
        current_interval_end: None,
        next_opening: None,
    };
    const NEVER: Evaluation = Evaluation {
        open: false,
        current_interval_end: None,
        next_opening: None,
    };
}

/// Days looked at first, then the longest look-ahead (a year and a week:
/// exceptions may close a queue for long stretches).
const WINDOWS: [i64; 2] = [9, 380];

/// Evaluates `schedule` at `at`.
pub fn evaluate(schedule: &Schedule, at: Timestamp) -> Evaluation {
    if schedule.always_open && schedule.exceptions.is_empty() {
        return Evaluation::ALWAYS;
    }
    let local = at.to_zoned(schedule.time_zone.clone()).date();
    // Two days back: hours starting the day before yesterday can reach into
    // today after a DST gap shifts them.
    let Some(first) = add_days(local, -2) else {
        return Evaluation::NEVER;
    };
    for (n, days) in WINDOWS.iter().enumerate() {
        let last_window = n + 1 == WINDOWS.len();
        let spans = merged_spans(schedule, first, *days);
        // Hours of later days start at least a local day after the last
        // day here; offsets never jump by a whole day between neighbouring
        // days, so anything before the start of the second-to-last day is
        // final.
        let safe = add_days(first, days - 1).and_then(|d| instant(schedule, d, 0));
        let settled = |t: Timestamp| safe.is_some_and(|s| t < s);
        match spans.iter().find(|(_, end)| *end > at) {
            Some(&(start, end)) if start <= at => {
                if settled(end) {
                    return Evaluation {
                        open: true,
                        current_interval_end: Some(end),
                        next_opening: None,
                    };
                }
                if last_window {
                    return Evaluation::ALWAYS;
                }
            }
            Some(&(start, _)) => {
                if settled(start) {
                    return Evaluation {
                        open: false,
                        current_interval_end: None,
                        next_opening: Some(start),
                    };
                }
                if last_window {
                    return Evaluation::NEVER;
                }
            }
            None if last_window => return Evaluation::NEVER,
            None => {}
        }
    }
    Evaluation::NEVER
}

/// The opening hours of one local date: its exception, else its weekday's.
fn hours_of(schedule: &Schedule, date: Date) -> Vec<Hours> {
    if let Some(e) = schedule.exceptions.get(&date) {
        return if e.closed {
            Vec::new()
        } else {
            e.hours.clone()
        };
    }
    if schedule.always_open {
        return vec![Hours {
            start: 0,
            end: DAY_MINUTES,
        }];
    }
    let weekday = date.weekday().to_monday_one_offset();
    schedule
        .intervals
        .iter()
        .filter(|i| i8::try_from(i.weekday).is_ok_and(|w| w == weekday))
        .map(|i| i.hours)
        .collect()
}

/// Open spans (instants) of `days` local days from `first`, sorted and merged.
fn merged_spans(schedule: &Schedule, first: Date, days: i64) -> Vec<(Timestamp, Timestamp)> {
    let mut spans = Vec::new();
    for offset in 0..days {
        let Some(date) = add_days(first, offset) else {
            break;
        };
        for h in hours_of(schedule, date) {
            let end_date = if h.end <= h.start {
                add_days(date, 1)
            } else {
                Some(date)
            };
            let (Some(start), Some(end)) = (
                instant(schedule, date, h.start),
                end_date.and_then(|d| instant(schedule, d, h.end)),
            ) else {
                continue;
            };
            // A DST gap can swallow a short interval whole.
            if start < end {
                spans.push((start, end));
            }
        }
    }
    spans.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The instant of local `minute` (0..=1440) on `date` in the schedule's zone.
fn instant(schedule: &Schedule, date: Date, minute: u16) -> Option<Timestamp> {
    let (date, minute) = if minute >= DAY_MINUTES {
        (add_days(date, 1)?, minute - DAY_MINUTES)
    } else {
        (date, minute)
    };
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    let dt: DateTime = date.at(hour, min, 0, 0);
    schedule
        .time_zone
        .to_ambiguous_timestamp(dt)
        .compatible()
        .ok()
}

fn add_days(date: Date, days: i64) -> Option<Date> {
    date.checked_add(days.days()).ok()
}
