//! `livedeskctl`: the operator CLI of Livedesk, and the walking-skeleton
//! demo it plays (the end-to-end test plays the very same scenario).

pub mod clients;
pub mod commands;
pub mod demo;
pub mod tokens;

pub use clients::{Clients, Endpoints};
pub use tokens::Tokens;
