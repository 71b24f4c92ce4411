//! Notifications service (SPEC §7): a numbered, resumable feed per
//! principal streamed by `Subscribe` (NTF-1) with fan-out across replicas
//! through core-NATS wake-ups, email deliveries with a queryable status
//! (NTF-2), and nothing ever pushed to a blocked customer (NTF-3).

mod app;
mod config;
pub mod domain;
mod error;
mod events;
mod grpc;
mod store;
mod views;

pub use app::App;
pub use config::Config;
pub use error::Error;
pub use events::{FeedEvents, sweep_once as sweep_retention};
