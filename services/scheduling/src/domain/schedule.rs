//! A validated business-hours schedule (SCH-1): IANA time zone, weekly
//! intervals, date exceptions. Built only through [`Schedule::parse`], so
//! evaluation never sees an out-of-range minute or an unknown zone.
use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use livedesk_platform::errors::FieldViolation;
use uuid::Uuid;

/// Minutes in a day: an interval may end at 1440 (midnight of the next day).
pub const DAY_MINUTES: u16 = 1440;
const MAX_INTERVALS: usize = 200;
const MAX_EXCEPTIONS: usize = 2000;
const MAX_NAME: usize = 200;
/// Longest "closing soon" lead time (SCH-4): half a day.
pub const MAX_CLOSING_SOON_MINUTES: u32 = 720;

/// Local opening hours on one day, in minutes since local midnight. When
/// `end <= start` the hours cross midnight into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub start: u16,
    pub end: u16,
}

/// Opening hours on one ISO weekday (1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub weekday: u8,
    pub hours: Hours,
}

/// What a date exception says: closed all day, or these hours instead of
/// the weekly ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub date: Date,
    pub closed: bool,
    pub hours: Vec<Hours>,
    pub name: String,
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub id: Uuid,
    pub name: String,
    pub time_zone: TimeZone,
    /// The IANA name as given (and stored).
    pub time_zone_name: String,
    pub intervals: Vec<Interval>,
    /// Keyed by local date: at most one exception per date.
    pub exceptions: BTreeMap<Date, Exception>,
    pub always_open: bool,
    pub closing_soon_minutes: u32,
    pub is_default: bool,
}

/// The raw fields of a schedule as they arrive from the API (or the store).
#[derive(Debug, Clone, Default)]
pub struct RawSchedule {
    pub name: String,
    pub time_zone: String,
    /// (weekday, start, end)
    pub intervals: Vec<(u32, u32, u32)>,
    pub exceptions: Vec<RawException>,
    pub always_open: bool,
    pub closing_soon_minutes: u32,
}

/// A raw date exception.
#[derive(Debug, Clone, Default)]
pub struct RawException {
    pub date: String,
    pub closed: bool,
    /// (start, end); the weekday of special hours is ignored.
    pub hours: Vec<(u32, u32)>,
    pub name: String,
}

impl Schedule {
    /// The org's default schedule: always open, UTC (TEN-1, SCH-7). It exists
    /// for every org without being stored until an admin edits it.
    pub fn default_for(org: Uuid) -> Self {
        Self {
            id: livedesk_platform::defaults::default_schedule_id(org),
            name: "Always open".into(),
            time_zone: TimeZone::UTC,
            time_zone_name: "UTC".into(),
            intervals: Vec::new(),
            exceptions: BTreeMap::new(),
            always_open: true,
            closing_soon_minutes: 0,
            is_default: true,
        }
    }

    /// Validates every field, reporting all violations at once (TEN-4).
    /// `prefix` names the message in field paths (`schedule.`).
    pub fn parse(
        id: Uuid,
        is_default: bool,
        raw: &RawSchedule,
        prefix: &str,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Vec::new();
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            v.push(FieldViolation::new(format!("{prefix}name"), "required"));
        } else if name.chars().count() > MAX_NAME {
            v.push(FieldViolation::new(
                format!("{prefix}name"),
                format!("at most {MAX_NAME} characters"),
            ));
        }
        let tz_name = raw.time_zone.trim();
        let time_zone = if tz_name.is_empty() {
            v.push(FieldViolation::new(
                format!("{prefix}time_zone"),
                "required (an IANA name such as Europe/Paris)",
            ));
            None
        } else {
            match TimeZone::get(tz_name) {
                Ok(tz) => Some(tz),
                Err(_) => {
                    v.push(FieldViolation::new(
                        format!("{prefix}time_zone"),
                        "not a known IANA time zone",
                    ));
                    None
                }
            }
        };
        if raw.intervals.len() > MAX_INTERVALS {
            v.push(FieldViolation::new(
                format!("{prefix}intervals"),
                format!("at most {MAX_INTERVALS}"),
            ));
        }
        let mut intervals = Vec::with_capacity(raw.intervals.len());
        for (i, &(weekday, start, end)) in raw.intervals.iter().enumerate() {
            let path = format!("{prefix}intervals[{i}]");
            let weekday = match u8::try_from(weekday) {
                Ok(w @ 1..=7) => Some(w),
                _ => {
                    v.push(FieldViolation::new(
                        format!("{path}.weekday"),
                        "must be 1 (Monday) to 7 (Sunday)",
                    ));
                    None
                }
            };
            let hours = parse_hours(&path, start, end, &mut v);
            if let (Some(weekday), Some(hours)) = (weekday, hours) {
                intervals.push(Interval { weekday, hours });
            }
        }
        if raw.exceptions.len() > MAX_EXCEPTIONS {
            v.push(FieldViolation::new(
                format!("{prefix}exceptions"),
                format!("at most {MAX_EXCEPTIONS}"),
            ));
        }
        let mut exceptions = BTreeMap::new();
        for (i, e) in raw.exceptions.iter().enumerate() {
            let path = format!("{prefix}exceptions[{i}]");
            let date = parse_date(e.date.trim());
            if date.is_none() {
                v.push(FieldViolation::new(
                    format!("{path}.date"),
                    "must be a date YYYY-MM-DD",
                ));
            }
            if e.closed && !e.hours.is_empty() {
                v.push(FieldViolation::new(
                    format!("{path}.hours"),
                    "a closed day has no hours",
                ));
            }
            if !e.closed && e.hours.is_empty() {
                v.push(FieldViolation::new(
                    format!("{path}.hours"),
                    "special hours need at least one interval (or set closed)",
                ));
            }
            let hours: Vec<Hours> = e
                .hours
                .iter()
                .enumerate()
                .filter_map(|(j, &(s, en))| {
                    parse_hours(&format!("{path}.hours[{j}]"), s, en, &mut v)
                })
                .collect();
            if e.name.chars().count() > MAX_NAME {
                v.push(FieldViolation::new(
                    format!("{path}.name"),
                    format!("at most {MAX_NAME} characters"),
                ));
            }
            if let Some(date) = date {
                let ex = Exception {
                    date,
                    closed: e.closed,
                    hours,
                    name: e.name.trim().to_owned(),
                };
                if exceptions.insert(date, ex).is_some() {
                    v.push(FieldViolation::new(
                        format!("{path}.date"),
                        "another exception has the same date",
                    ));
                }
            }
        }
        if raw.closing_soon_minutes > MAX_CLOSING_SOON_MINUTES {
            v.push(FieldViolation::new(
                format!("{prefix}closing_soon_minutes"),
                format!("at most {MAX_CLOSING_SOON_MINUTES}"),
            ));
        }
        match time_zone {
            Some(time_zone) if v.is_empty() => Ok(Self {
                id,
                name,
                time_zone,
                time_zone_name: tz_name.to_owned(),
                intervals,
                exceptions,
                always_open: raw.always_open,
                closing_soon_minutes: raw.closing_soon_minutes,
                is_default,
            }),
            _ => Err(v),
        }
    }

    /// The raw form, for storage and the API.
    pub fn to_raw(&self) -> RawSchedule {
        RawSchedule {
            name: self.name.clone(),
            time_zone: self.time_zone_name.clone(),
            intervals: self
                .intervals
                .iter()
                .map(|i| {
                    (
                        u32::from(i.weekday),
                        u32::from(i.hours.start),
                        u32::from(i.hours.end),
                    )
                })
                .collect(),
            exceptions: self
                .exceptions
                .values()
                .map(|e| RawException {
                    date: e.date.to_string(),
                    closed: e.closed,
                    hours: e
                        .hours
                        .iter()
                        .map(|h| (u32::from(h.start), u32::from(h.end)))
                        .collect(),
                    name: e.name.clone(),
                })
                .collect(),
            always_open: self.always_open,
            closing_soon_minutes: self.closing_soon_minutes,
        }
    }
}

fn parse_hours(path: &str, start: u32, end: u32, v: &mut Vec<FieldViolation>) -> Option<Hours> {
    let mut ok = true;
    if start >= u32::from(DAY_MINUTES) {
        v.push(FieldViolation::new(
            format!("{path}.start_minute"),
            "must be 0..1439",
        ));
        ok = false;
    }
    if end == 0 || end > u32::from(DAY_MINUTES) {
        v.push(FieldViolation::new(
            format!("{path}.end_minute"),
            "must be 1..1440",
        ));
        ok = false;
    }
    match (ok, u16::try_from(start), u16::try_from(end)) {
        (true, Ok(start), Ok(end)) => Some(Hours { start, end }),
        _ => None,
    }
}

/// Parses `YYYY-MM-DD` strictly (no times, no other formats).
pub fn parse_date(raw: &str) -> Option<Date> {
    let b = raw.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape_ok {
        return None;
    }
    let year: i16 = raw.get(0..4)?.parse().ok()?;
    let month: i8 = raw.get(5..7)?.parse().ok()?;
    let day: i8 = raw.get(8..10)?.parse().ok()?;
    Date::new(year, month, day).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn raw(tz: &str, intervals: Vec<(u32, u32, u32)>) -> RawSchedule {
        RawSchedule {
            name: "Office".into(),
            time_zone: tz.into(),
            intervals,
            ..Default::default()
        }
    }

    // spec: SCH-1
    #[test]
    fn a_valid_schedule_parses() {
        let s = Schedule::parse(
            Uuid::now_v7(),
            false,
            &raw("Europe/Paris", vec![(1, 540, 720), (1, 780, 1080)]),
            "",
        )
        .unwrap();
        assert_eq!(s.intervals.len(), 2);
        assert_eq!(s.time_zone_name, "Europe/Paris");
    }

    // spec: TEN-4
    #[test]
    fn every_bad_field_is_reported() {
        let mut r = raw("Mars/Olympus", vec![(0, 1440, 0), (8, 0, 1441)]);
        r.exceptions.push(RawException {
            date: "2026-02-30".into(),
            closed: true,
            hours: vec![(0, 10)],
            name: String::new(),
        });
        r.closing_soon_minutes = 5000;
        let err = Schedule::parse(Uuid::now_v7(), false, &r, "schedule.").unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "schedule.time_zone",
                "schedule.intervals[0].weekday",
                "schedule.intervals[0].start_minute",
                "schedule.intervals[0].end_minute",
                "schedule.intervals[1].weekday",
                "schedule.intervals[1].end_minute",
                "schedule.exceptions[0].date",
                "schedule.exceptions[0].hours",
                "schedule.closing_soon_minutes",
            ]
        );
    }

    // spec: TEN-4
    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-12-25").is_some());
        for bad in [
            "2026-2-05",
            "26-12-25",
            "2026/12/25",
            "2026-12-25T00:00",
            "",
            "２０２６-12-25",
            "2026-13-01",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    // spec: TEN-4
    #[test]
    fn duplicate_exception_dates_are_refused() {
        let mut r = raw("UTC", vec![]);
        let holiday = RawException {
            date: "2026-12-25".into(),
            closed: true,
            hours: vec![],
            name: String::new(),
        };
        r.exceptions = vec![holiday.clone(), holiday];
        let err = Schedule::parse(Uuid::now_v7(), false, &r, "").unwrap_err();
        assert_eq!(err[0].field, "exceptions[1].date");
    }
}
