//! Spawning services in-process on port 0.
use std::net::SocketAddr;

use livedesk_platform::app::{Served, ServiceConfig};
use livedesk_platform::{Env, ServiceApp};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A service running inside the test process.
#[derive(Debug)]
pub struct RunningService {
    pub name: &'static str,
    pub addr: SocketAddr,
    /// Where its Prometheus `GET /metrics` answers.
    pub metrics_addr: SocketAddr,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningService {
    /// `http://127.0.0.1:<port>` for tonic clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/metrics`.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_addr)
    }

    /// A connected channel.
    pub async fn channel(&self) -> anyhow::Result<tonic::transport::Channel> {
        Ok(tonic::transport::Endpoint::from_shared(self.url())?
            .connect()
            .await?)
    }

    /// Graceful stop, as on SIGTERM; returns the service's result.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown().await
    }

    /// Graceful stop in place (idempotent), for restarts.
    pub async fn shutdown(&mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.handle.take() {
            Some(h) => h.await?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Builds `A` from `env` and runs it in the background.
pub async fn spawn<A: ServiceApp>(env: &Env) -> anyhow::Result<RunningService> {
    let cfg = A::Config::from_env(env)?;
    env.refuse_unknown(A::NAME)?;
    let app = A::build(cfg).await?;
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    Ok(RunningService {
        name: A::NAME,
        addr,
        metrics_addr,
        shutdown,
        handle: Some(handle),
    })
}
