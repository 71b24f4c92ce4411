//! Blocking service (SPEC §4): any agent blocks the customer of an open
//! conversation in one call; every identity known for that customer is
//! recorded and checked by the other services (BLK-1 … BLK-9).

mod app;
mod cache;
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
