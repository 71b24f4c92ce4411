//! Conversions between chrono UTC times and protobuf timestamps.
use chrono::{DateTime, TimeZone, Utc};

/// Converts a UTC time to a protobuf timestamp.
pub fn to_proto(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// Converts an optional UTC time.
pub fn opt_to_proto(t: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    t.map(to_proto)
}

/// Converts a protobuf timestamp; `None` when out of range.
pub fn from_proto(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(t.seconds, u32::try_from(t.nanos).ok()?)
        .single()
}
