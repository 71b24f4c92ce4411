//! Events the notifications service consumes (routing, conversations,
//! scheduling, blocking), the wake-up fan-out between replicas, and the
//! retention sweep.

mod batch;
mod consumer;
mod conversations;
mod email;
mod fanout;
mod others;
mod retention;
mod routing;

pub use consumer::FeedEvents;
pub use fanout::{Fanout, Wake};
pub use retention::{run_retention_sweep, sweep_once};
