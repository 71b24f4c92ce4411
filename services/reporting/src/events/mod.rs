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

use livedesk_events::HandlerError;
use uuid::Uuid;

/// Parses an id an event must carry; a malformed one can never succeed,
/// so it is dead-lettered at once.
fn required_uuid(field: &'static str, raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| HandlerError::permanent(format!("{field} is not a UUID")))
}
