//! Conversations service (SPEC §3): starts conversations after the blocking
//! and business-hours checks, stores ordered messages (PCI masked before
//! storage), follows routing's assignments and blocking's blocks, and ends
//! conversations with every fact reporting needs (CNV-1 … CNV-16).

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
pub use error::{Entity, Error};
