//! Events the blocking service consumes (and the expiry sweep that
//! publishes `BlockExpired`).

mod consumer;
mod expiry;
mod erasure;

pub use erasure::ErasureEvents;
pub use consumer::{ConversationEvents, SchedulingEvents};
pub use expiry::run_expiry_sweep;
