//! Routing service (SPEC §2): agents and their states, queues, offers of
//! queued conversations to one agent at a time, assignment and wrap-up,
//! correct with any number of replicas (RTG-1 … RTG-15).

mod app;
mod config;
pub mod domain;
mod engine;
mod error;
mod events;
mod gauges;
mod grpc;
mod store;
mod views;

pub use app::App;
pub use config::Config;
pub use error::Error;
