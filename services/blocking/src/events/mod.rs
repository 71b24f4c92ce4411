//! Events the blocking service consumes (and the expiry sweep that
//! publishes `BlockExpired`).

mod consumer;
mod expiry;

pub use consumer::ConversationEvents;
pub use expiry::run_expiry_sweep;
