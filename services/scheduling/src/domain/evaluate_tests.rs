//! Examples and properties of schedule evaluation (SCH-1, SCH-2, SCH-7).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use jiff::{Timestamp, Zoned};
use proptest::prelude::*;
use uuid::Uuid;

use super::{RawException, RawSchedule, Schedule, evaluate};

fn schedule(tz: &str, intervals: Vec<(u32, u32, u32)>, exceptions: Vec<RawException>) -> Schedule {
    let raw = RawSchedule {
        name: "s".into(),
        time_zone: tz.into(),
        intervals,
        exceptions,
        ..Default::default()
    };
    Schedule::parse(Uuid::nil(), false, &raw, "").unwrap()
}

fn at(local: &str) -> Timestamp {
    local.parse::<Zoned>().unwrap().timestamp()
}

fn utc(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Monday to Friday 09:00–12:00 and 13:00–18:00.
fn office(tz: &str, exceptions: Vec<RawException>) -> Schedule {
    let mut intervals = Vec::new();
    for d in 1..=5 {
        intervals.push((d, 540, 720));
        intervals.push((d, 780, 1080));
    }
    schedule(tz, intervals, exceptions)
}

fn every_day(tz: &str, start: u32, end: u32) -> Schedule {
    schedule(tz, (1..=7).map(|d| (d, start, end)).collect(), vec![])
}

// spec: SCH-1
// spec: SCH-7
#[test]
fn a_lunch_break_is_a_gap() {
    let s = office("Europe/Paris", vec![]);
    let morning = evaluate(&s, at("2026-03-02T10:00[Europe/Paris]"));
    assert!(morning.open);
    assert_eq!(
        morning.current_interval_end,
        Some(at("2026-03-02T12:00[Europe/Paris]"))
    );
    let lunch = evaluate(&s, at("2026-03-02T12:30[Europe/Paris]"));
    assert!(!lunch.open);
    assert_eq!(
        lunch.next_opening,
        Some(at("2026-03-02T13:00[Europe/Paris]"))
    );
    let friday_night = evaluate(&s, at("2026-03-06T19:00[Europe/Paris]"));
    assert_eq!(
        friday_night.next_opening,
        Some(at("2026-03-09T09:00[Europe/Paris]")),
        "weekend skipped"
    );
}

// spec: SCH-1
#[test]
fn an_interval_can_cross_midnight() {
    // Friday 22:00 to Saturday 02:00.
    let s = schedule("Europe/Paris", vec![(5, 1320, 120)], vec![]);
    let e = evaluate(&s, at("2026-03-07T01:00[Europe/Paris]"));
    assert!(e.open);
    assert_eq!(
        e.current_interval_end,
        Some(at("2026-03-07T02:00[Europe/Paris]"))
    );
    let before = evaluate(&s, at("2026-03-06T21:00[Europe/Paris]"));
    assert_eq!(
        before.next_opening,
        Some(at("2026-03-06T22:00[Europe/Paris]"))
    );
}

// spec: SCH-1
// spec: SCH-7
#[test]
fn holidays_close_and_special_hours_replace_the_week() {
    let christmas = RawException {
        date: "2026-12-25".into(),
        closed: true,
        hours: vec![],
        name: "Christmas".into(),
    };
    let eve = RawException {
        date: "2026-12-24".into(),
        closed: false,
        hours: vec![(600, 840)],
        name: "Eve".into(),
    };
    let s = office("Europe/Paris", vec![christmas, eve]);
    let holiday = evaluate(&s, at("2026-12-25T10:00[Europe/Paris]"));
    assert!(!holiday.open);
    assert_eq!(
        holiday.next_opening,
        Some(at("2026-12-28T09:00[Europe/Paris]"))
    );
    assert!(
        !evaluate(&s, at("2026-12-24T09:30[Europe/Paris]")).open,
        "special hours start at 10:00"
    );
    let eve = evaluate(&s, at("2026-12-24T12:30[Europe/Paris]"));
    assert!(eve.open, "no lunch break on the eve");
    assert_eq!(
        eve.current_interval_end,
        Some(at("2026-12-24T14:00[Europe/Paris]"))
    );
}

// spec: SCH-1
#[test]
fn paris_spring_forward_and_fall_back() {
    let s = every_day("Europe/Paris", 480, 1200);
    // Saturday evening before the 2026-03-29 change: next opening is 08:00 CEST.
    let e = evaluate(&s, at("2026-03-28T21:00[Europe/Paris]"));
    assert_eq!(e.next_opening, Some(utc("2026-03-29T06:00:00Z")));
    let e = evaluate(&s, at("2026-10-24T21:00[Europe/Paris]"));
    assert_eq!(
        e.next_opening,
        Some(utc("2026-10-25T07:00:00Z")),
        "08:00 CET after fall back"
    );
    // Night shift across the gap: 01:00 CET to 04:00 CEST is two real hours.
    let night = schedule("Europe/Paris", vec![(7, 60, 240)], vec![]);
    let e = evaluate(&night, utc("2026-03-29T00:30:00Z"));
    assert!(e.open);
    assert_eq!(e.current_interval_end, Some(utc("2026-03-29T02:00:00Z")));
    // And across the fold: 01:00 CEST to 04:00 CET is four real hours.
    let e = evaluate(&night, utc("2026-10-25T02:30:00Z"));
    assert!(e.open);
    assert_eq!(e.current_interval_end, Some(utc("2026-10-25T03:00:00Z")));
}

// spec: SCH-1
#[test]
fn new_york_dst() {
    let s = every_day("America/New_York", 540, 1020);
    let e = evaluate(&s, utc("2026-03-08T14:00:00Z")); // 10:00 EDT
    assert!(e.open);
    assert_eq!(e.current_interval_end, Some(utc("2026-03-08T21:00:00Z")));
    let e = evaluate(&s, utc("2026-11-01T13:30:00Z")); // 08:30 EST
    assert!(!e.open);
    assert_eq!(e.next_opening, Some(utc("2026-11-01T14:00:00Z")));
    // An opening time inside the gap moves forward: 02:30 → 03:30 EDT.
    let gap = schedule("America/New_York", vec![(7, 150, 300)], vec![]);
    let e = evaluate(&gap, utc("2026-03-08T05:00:00Z"));
    assert_eq!(e.next_opening, Some(utc("2026-03-08T07:30:00Z")));
}

// spec: SCH-2
#[test]
fn touching_spans_merge_into_one_opening() {
    let s = schedule("UTC", vec![(1, 0, 1440), (2, 0, 1080)], vec![]);
    let e = evaluate(&s, utc("2026-03-02T10:00:00Z"));
    assert_eq!(e.current_interval_end, Some(utc("2026-03-03T18:00:00Z")));
}

// spec: SCH-7
#[test]
fn always_open_and_never_open() {
    let d = Schedule::default_for(Uuid::now_v7());
    let e = evaluate(&d, Timestamp::now());
    assert!(e.open && e.current_interval_end.is_none());
    let never = schedule("UTC", vec![], vec![]);
    let e = evaluate(&never, Timestamp::now());
    assert!(!e.open && e.next_opening.is_none());
    // Always open except a holiday.
    let mut s = Schedule::default_for(Uuid::now_v7());
    s = Schedule::parse(
        s.id,
        true,
        &RawSchedule {
            always_open: true,
            exceptions: vec![RawException {
                date: "2026-05-01".into(),
                closed: true,
                ..Default::default()
            }],
            ..s.to_raw()
        },
        "",
    )
    .unwrap();
    let e = evaluate(&s, utc("2026-04-30T12:00:00Z"));
    assert_eq!(e.current_interval_end, Some(utc("2026-05-01T00:00:00Z")));
    let e = evaluate(&s, utc("2026-05-01T12:00:00Z"));
    assert_eq!(e.next_opening, Some(utc("2026-05-02T00:00:00Z")));
}

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Africa/Casablanca",
];

fn arb_schedule() -> impl Strategy<Value = Schedule> {
    let interval = (1u32..=7, 0u32..1440, 1u32..=1440);
    let exception = (0i64..60, any::<bool>(), 0u32..1440, 1u32..=1440);
    (
        prop::sample::select(ZONES),
        prop::collection::vec(interval, 0..8),
        prop::collection::vec(exception, 0..3),
        any::<bool>(),
    )
        .prop_map(|(tz, intervals, exceptions, always_open)| {
            let base = jiff::civil::date(2026, 3, 1);
            let mut seen = std::collections::BTreeSet::new();
            let exceptions = exceptions
                .into_iter()
                .filter(|(d, ..)| seen.insert(*d))
                .map(|(d, closed, s, e)| RawException {
                    date: base
                        .checked_add(jiff::Span::new().days(d))
                        .unwrap()
                        .to_string(),
                    closed,
                    hours: if closed { vec![] } else { vec![(s, e)] },
                    name: String::new(),
                })
                .collect();
            let raw = RawSchedule {
                name: "p".into(),
                time_zone: tz.into(),
                intervals,
                exceptions,
                always_open,
                closing_soon_minutes: 0,
            };
            Schedule::parse(Uuid::nil(), false, &raw, "").unwrap()
        })
}

fn arb_instant() -> impl Strategy<Value = Timestamp> {
    // 1990..2045, where the zones above had all their odd transitions, and
    // often around the exception dates (2026-03-01 + 0..60 days).
    prop_oneof![
        631_152_000i64..2_366_841_600,
        1_772_000_000i64..1_778_000_000
    ]
    .prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    // spec: SCH-1
    // spec: SCH-2
    #[test]
    fn answers_are_consistent(s in arb_schedule(), t in arb_instant()) {
        let e = evaluate(&s, t);
        if e.open {
            prop_assert!(e.next_opening.is_none());
            if let Some(end) = e.current_interval_end {
                prop_assert!(t < end, "open at t implies t < end");
                prop_assert!(!evaluate(&s, end).open, "closed at its end");
            }
        } else {
            prop_assert!(e.current_interval_end.is_none());
            if let Some(next) = e.next_opening {
                prop_assert!(next > t, "next opening is in the future");
                prop_assert!(evaluate(&s, next).open, "open at next opening");
                let mid = Timestamp::from_second(t.as_second() + (next.as_second() - t.as_second()) / 2).unwrap();
                prop_assert!(!evaluate(&s, mid).open, "closed until next opening");
            }
        }
    }

    // spec: SCH-2
    #[test]
    fn never_panics_for_any_instant_or_zone(s in arb_schedule(), secs in -377_705_116_800i64..253_402_207_200) {
        let t = Timestamp::from_second(secs).unwrap();
        let _ = evaluate(&s, t);
    }
}
