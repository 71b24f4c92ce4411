//! Events the blocking service consumes (and the expiry sweep that
//! publishes `BlockExpired`).

mod consumer;
mod erasure;
mod expiry;

pub use consumer::{ConversationEvents, SchedulingEvents};
pub use erasure::ErasureEvents;
pub use expiry::run_expiry_sweep;
