//! The shape every service binary shares: `serve` (default), `migrate`
//! (the Helm migration Job) and `config` (print the effective config).
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::{CommonConfig, ConfigError, Env};

/// A service's typed configuration.
pub trait ServiceConfig: Sized + Send + 'static {
    /// Reads it from `env` (`LIVEDESK_<SERVICE>__*` and the shared keys).
    fn from_env(env: &Env) -> Result<Self, ConfigError>;
    /// The part every service shares.
    fn common(&self) -> &CommonConfig;
}

/// A built service instance, ready to serve (`livedesk_events::Service`).
pub trait Served: Send + 'static {
    /// The bound gRPC address (useful with port 0).
    fn local_addr(&self) -> SocketAddr;
    /// The bound metrics address (`GET /metrics`).
    fn metrics_addr(&self) -> SocketAddr;
    /// Serves until `shutdown`, then drains RPCs, stops consumers and
    /// flushes the outbox.
    fn run_until_stopped(
        self,
        shutdown: CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A Livedesk service: what it is called, how it is configured and
/// migrated, and how it is built. `main` and the tests build it the same
/// way, the tests on port 0 (house style rule 1).
pub trait ServiceApp: 'static {
    /// Typed configuration of the service.
    type Config: ServiceConfig;
    /// The service's migrations.
    type Migrator: MigratorTrait;
    /// The built instance.
    type Served: Served;
    /// Service name: `routing`, `conversations`, ...
    const NAME: &'static str;

    /// Connects, migrates, binds the listener and wires the handlers.
    fn build(cfg: Self::Config) -> impl Future<Output = anyhow::Result<Self::Served>> + Send;
}

/// The whole `main` of a service binary.
pub fn main<A: ServiceApp>() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::<A>(&command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "exiting");
            eprintln!("livedesk-{}: {e:#}", A::NAME);
            ExitCode::FAILURE
        }
    }
}

async fn run<A: ServiceApp>(command: &str) -> anyhow::Result<()> {
    let env = Env::from_process();
    let cfg = A::Config::from_env(&env)?;
    env.refuse_unknown(A::NAME)?;
    match command {
        "config" => {
            print!("{}", env.effective());
            Ok(())
        }
        "migrate" => {
            let _telemetry = crate::telemetry::init(A::NAME)?;
            let db = crate::db::connect(cfg.common().database_url.expose_secret()).await?;
            crate::db::migrate::<A::Migrator>(&db).await?;
            tracing::info!(service = A::NAME, "migrations applied");
            Ok(())
        }
        "serve" => {
            let _telemetry = crate::telemetry::init(A::NAME)?;
            let shutdown = crate::Shutdown::on_signals();
            let app = A::build(cfg).await?;
            let metrics = app.metrics_addr();
            tracing::info!(service = A::NAME, addr = %app.local_addr(), %metrics, "serving");
            app.run_until_stopped(shutdown.token()).await
        }
        other => anyhow::bail!("unknown command {other:?}: expected serve, migrate or config"),
    }
}
