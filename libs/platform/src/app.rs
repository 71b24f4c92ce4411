//! The shape every service binary shares: `serve` (default), `migrate`
//! (the Helm migration Job) and `config` (print the effective config).
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::{CommonConfig, ConfigError, Env};

/// A Livedesk service: built from config, served until stopped. Tests build
/// the same `App` on port 0 (house style rule 1).
pub trait ServiceApp: Sized + Send + 'static {
    /// Typed configuration of the service.
    type Config: Send + 'static;
    /// The service's migrations.
    type Migrator: MigratorTrait;
    /// Service name: `routing`, `conversations`, ...
    const NAME: &'static str;

    /// Reads the configuration from `env`.
    fn config(env: &Env) -> Result<Self::Config, ConfigError>;
    /// The shared part of the configuration.
    fn common(cfg: &Self::Config) -> &CommonConfig;
    /// Connects, migrates, binds the listener.
    fn build(cfg: Self::Config) -> impl Future<Output = anyhow::Result<Self>> + Send;
    /// The bound gRPC address (useful with port 0).
    fn local_addr(&self) -> SocketAddr;
    /// The bound metrics address (`GET /metrics`, useful with port 0),
    /// found from the gRPC address of the same instance.
    fn metrics_addr(&self) -> Option<SocketAddr> {
        crate::metrics::bound_for(self.local_addr())
    }
    /// Serves until `shutdown`, then drains RPCs, stops consumers and flushes the outbox.
    fn run_until_stopped(
        self,
        shutdown: CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
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
    let cfg = A::config(&env)?;
    env.refuse_unknown(A::NAME)?;
    match command {
        "config" => {
            print!("{}", env.effective());
            Ok(())
        }
        "migrate" => {
            let _telemetry = crate::telemetry::init(A::NAME)?;
            let db = crate::db::connect(A::common(&cfg).database_url.expose_secret()).await?;
            crate::db::migrate::<A::Migrator>(&db).await?;
            tracing::info!(service = A::NAME, "migrations applied");
            Ok(())
        }
        "serve" => {
            let _telemetry = crate::telemetry::init(A::NAME)?;
            let shutdown = crate::Shutdown::on_signals();
            let app = A::build(cfg).await?;
            let metrics = app
                .metrics_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            tracing::info!(service = A::NAME, addr = %app.local_addr(), %metrics, "serving");
            app.run_until_stopped(shutdown.token()).await
        }
        other => anyhow::bail!("unknown command {other:?}: expected serve, migrate or config"),
    }
}
