//! Reporting service (SPEC §6): a read model built only from the events of
//! the other services (RPT-1), statistics over ended conversations (RPT-2,
//! RPT-3) and streamed CSV exports (RPT-4, BLK-7), within the caller's org
//! and role (RPT-5).

mod app;
mod config;
pub mod domain;
mod error;
mod events;
mod grpc;
mod store;

pub use app::App;
pub use config::Config;
pub use error::Error;
