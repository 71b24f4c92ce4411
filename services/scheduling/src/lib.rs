//! Scheduling service (SPEC §5): business hours per queue with IANA time
//! zones, widget state (chat, offline form, contact form, hidden, messaging
//! out of hours), offline and contact forms, and queue open/close events
//! (SCH-1 … SCH-8).

mod app;
mod cache;
mod config;
pub mod domain;
mod error;
mod events;
mod grpc;
mod store;

pub use app::App;
pub use config::Config;
pub use error::Error;
