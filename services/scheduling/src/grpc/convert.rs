//! Protobuf ⇄ domain conversions.
use jiff::Timestamp;
use livedesk_proto::scheduling::v1 as pb;

use crate::domain::{RawException, RawSchedule, Schedule, Settings};

/// The raw fields of an API schedule.
pub fn raw_schedule(s: &pb::Schedule) -> RawSchedule {
    RawSchedule {
        name: s.name.clone(),
        time_zone: s.time_zone.clone(),
        intervals: s
            .intervals
            .iter()
            .map(|i| (i.weekday, i.start_minute, i.end_minute))
            .collect(),
        exceptions: s
            .exceptions
            .iter()
            .map(|e| RawException {
                date: e.date.clone(),
                closed: e.closed,
                hours: e
                    .hours
                    .iter()
                    .map(|h| (h.start_minute, h.end_minute))
                    .collect(),
                name: e.name.clone(),
            })
            .collect(),
        always_open: s.always_open,
        closing_soon_minutes: s.closing_soon_minutes,
    }
}

/// The API view of a schedule.
pub fn schedule(s: &Schedule) -> pb::Schedule {
    pb::Schedule {
        id: s.id.to_string(),
        name: s.name.clone(),
        time_zone: s.time_zone_name.clone(),
        intervals: s
            .intervals
            .iter()
            .map(|i| pb::Interval {
                weekday: u32::from(i.weekday),
                start_minute: u32::from(i.hours.start),
                end_minute: u32::from(i.hours.end),
            })
            .collect(),
        exceptions: s
            .exceptions
            .values()
            .map(|e| pb::DateException {
                date: e.date.to_string(),
                closed: e.closed,
                hours: e
                    .hours
                    .iter()
                    .map(|h| pb::Interval {
                        weekday: 0,
                        start_minute: u32::from(h.start),
                        end_minute: u32::from(h.end),
                    })
                    .collect(),
                name: e.name.clone(),
            })
            .collect(),
        always_open: s.always_open,
        closing_soon_minutes: s.closing_soon_minutes,
        is_default: s.is_default,
    }
}

/// The API view of settings, with the texts in effect.
pub fn settings(s: &Settings) -> pb::SchedulingSettings {
    pb::SchedulingSettings {
        out_of_hours_message: s.out_of_hours().to_owned(),
        closing_soon_message: s.closing_soon().to_owned(),
        notify_email: s.notify_email.clone(),
    }
}

/// A jiff instant as a protobuf timestamp.
pub fn ts(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: t.subsec_nanosecond(),
    }
}

/// A protobuf timestamp as a jiff instant (`None` when out of range).
pub fn from_ts(t: &prost_types::Timestamp) -> Option<Timestamp> {
    Timestamp::new(t.seconds, t.nanos).ok()
}
