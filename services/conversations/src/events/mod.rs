//! Events the conversations service consumes: routing's assignments and
//! abandonments, blocking's blocks (kept in a local cache, BLK-6).

mod blocking;
mod routing;

pub use blocking::BlockingEvents;
pub use routing::RoutingEvents;
