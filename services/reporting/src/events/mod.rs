//! Events the reporting service consumes to build its read model (RPT-1).
//! It publishes none.

mod blocking;
mod conversations;
mod erasure;
mod routing;
mod scheduling;

pub use blocking::BlockingEvents;
pub use conversations::ConversationEvents;
pub use erasure::ErasureEvents;
pub use routing::RoutingEvents;
pub use scheduling::SchedulingEvents;

use chrono::{DateTime, Utc};
use livedesk_events::{HandlerError, ReceivedEvent};
use livedesk_platform::time::from_proto;
use uuid::Uuid;

use crate::domain::{StoredEnum, from_wire, label_of_wire};

/// Parses an id an event must carry; a malformed one can never succeed,
/// so it is dead-lettered at once.
fn required_uuid(field: &'static str, raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| HandlerError::permanent(format!("{field} is not a UUID")))
}

/// The value of an enum an event carries; a number the enum does not have
/// can never succeed, so it is dead-lettered at once.
fn required_enum<E: StoredEnum + Into<i32>>(
    field: &'static str,
    number: i32,
) -> Result<E, HandlerError> {
    from_wire::<E>(field, number).map_err(HandlerError::permanent)
}

/// The stored label of an enum an event carries; a number the enum does
/// not have can never succeed either, so it is dead-lettered at once
/// rather than stored as a default.
fn required_label<E: StoredEnum + Into<i32>>(
    field: &'static str,
    number: i32,
) -> Result<String, HandlerError> {
    label_of_wire::<E>(field, number)
        .map(str::to_owned)
        .map_err(HandlerError::permanent)
}

/// A time the event carries, or when the event occurred when it has none.
fn time_or_occurred(event: &ReceivedEvent, t: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    t.and_then(from_proto)
        .unwrap_or_else(|| event.occurred_at())
}
