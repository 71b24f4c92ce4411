//! What every Livedesk service shares: typed configuration from the
//! environment, telemetry, the gRPC server bootstrap (health, reflection,
//! authentication, tracing and metrics, graceful shutdown), PostgreSQL
//! connection and migration, and the NATS connection.
//!
//! A service's `main.rs` reads its config, installs telemetry, builds its
//! `App` and runs it until SIGTERM; tests build the same `App` on port 0.

pub mod app;
pub mod config;
pub mod db;
pub mod defaults;
pub mod email;
pub mod errors;
pub mod grpc_telemetry;
pub mod identity;
pub mod labels;
pub mod metrics;
pub mod nats;
pub mod page;
pub mod peer;
pub mod runtime;
pub mod server;
pub mod shutdown;
pub mod subject;
pub mod tasks;
pub mod telemetry;
pub mod time;

pub use app::ServiceApp;
pub use config::{CommonConfig, ConfigError, Env, Period};
pub use email::EmailAddress;
pub use livedesk_auth::AuthInterceptor;
pub use runtime::Runtime;
pub use shutdown::Shutdown;
