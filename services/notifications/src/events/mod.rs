//! Events the notifications service consumes (routing, conversations,
//! scheduling, blocking), the wake-up fan-out between replicas, the
//! retention sweep and the email delivery worker.

mod batch;
mod consumer;
mod conversations;
mod delivery;
mod email;
mod erasure;
mod fanout;
mod others;
mod retention;
mod routing;

pub use consumer::FeedEvents;
pub use delivery::{DeliveryWorker, Mailer};
pub use erasure::ErasureEvents;
pub use fanout::{Fanout, TypingNote, Wake};
pub use retention::{run_retention_sweep, sweep_once};
