//! Hosting a service: the runtime, its listener, outbox relay, consumers
//! and background loops, stopped in order on shutdown (house style rule 7).
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livedesk_platform::metrics::MetricsListener;
use livedesk_platform::tasks::Tasks;
use livedesk_platform::{CommonConfig, Runtime};
use sea_orm_migration::MigratorTrait;
use std::convert::Infallible;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::codegen::{Service as Service_, http};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use crate::consumer::{self, ConsumerConfig, ConsumerContext, EventHandler};
use crate::{Outbox, Subjects};

/// A service instance being assembled, then served.
pub struct Host {
    pub rt: Runtime,
    pub outbox: Outbox,
    pub subjects: Subjects,
    listener: TcpListener,
    metrics: MetricsListener,
    workers: Tasks,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("service", &self.rt.config.service)
            .finish()
    }
}

impl Host {
    /// Connects, migrates (`M`), binds the gRPC listener and creates the
    /// streams of the service itself and of `consumes` (best effort: with
    /// the broker down the service still starts, NOT_SERVING, and retries).
    pub async fn start<M: MigratorTrait>(
        config: CommonConfig,
        consumes: &[&str],
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.grpc_addr).await?;
        let metrics = MetricsListener::bind(config.metrics_addr).await?;
        let rt = Runtime::start::<M>(config).await?;
        let subjects = Subjects::new(rt.config.subject_prefix.clone())
            .with_stream_replicas(rt.config.nats_stream_replicas);
        let mut producers = vec![rt.config.service];
        producers.extend_from_slice(consumes);
        match tokio::time::timeout(
            Duration::from_secs(5),
            crate::ensure_streams(&rt.jetstream, &subjects, &producers),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not create streams yet"),
            Err(_) => tracing::warn!("creating streams timed out; NATS may be down"),
        }
        let outbox = Outbox::new(
            rt.db.clone(),
            rt.jetstream.clone(),
            subjects.clone(),
            rt.config.service,
        );
        Ok(Self {
            rt,
            outbox,
            subjects,
            listener,
            metrics,
            workers: Tasks::new(),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The bound metrics address (`GET /metrics`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// Consumes `producer`'s events with `handler` (one durable consumer).
    pub fn consume<H: EventHandler>(&mut self, producer: &'static str, handler: Arc<H>) {
        let ctx = ConsumerContext {
            db: self.rt.db.clone(),
            js: self.rt.jetstream.clone(),
            subjects: self.subjects.clone(),
            outbox: Some(self.outbox.clone()),
        };
        let cfg = ConsumerConfig::for_handler::<H>(self.rt.config.service, producer);
        self.workers
            .spawn(move |token| consumer::run(ctx, handler, cfg, token));
    }

    /// Runs a background loop (sweeps, timers) until shutdown.
    pub fn spawn<F, Fut>(&mut self, make: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.workers.spawn(make);
    }

    /// The service built on this host: its gRPC API is added with
    /// [`Service::serving`], the one way every service wires its handlers.
    pub fn into_service(self) -> Service {
        Service {
            host: self,
            routes: Routes::default(),
            names: Vec::new(),
            streams: Vec::new(),
        }
    }

    /// Serves until `shutdown`: then the server drains, workers stop, and
    /// the outbox is flushed last so no event staged by a worker is left.
    async fn serve(
        self,
        routes: Routes,
        service_names: &[&'static str],
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let Host {
            rt,
            outbox,
            listener,
            metrics,
            workers,
            ..
        } = self;
        let relay_token = CancellationToken::new();
        let relay = tokio::spawn(outbox.clone().run_relay(relay_token.clone()));
        let served = livedesk_platform::server::serve(
            &rt,
            listener,
            metrics,
            routes,
            service_names,
            shutdown,
        )
        .await;
        workers.stop().await;
        relay_token.cancel();
        let _ = relay.await;
        tracing::info!(service = rt.config.service, "stopped");
        served
    }
}

/// A built service instance: its host (database, broker, listener, relay,
/// consumers, sweeps) and the gRPC services it answers, each behind the
/// same authentication. What every service's `App::build` returns, and what
/// `main` and the tests run.
pub struct Service {
    host: Host,
    routes: Routes,
    names: Vec<&'static str>,
    streams: Vec<CancellationToken>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("host", &self.host)
            .field("serving", &self.names)
            .finish()
    }
}

impl Service {
    /// Answers the gRPC service `server` (a generated `FooServiceServer`)
    /// behind the authentication every RPC passes first (TEN-2): a service
    /// cannot be added without it. Its name is registered for health and
    /// reflection.
    pub fn serving<S>(mut self, server: S) -> Self
    where
        S: Service_<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes = self
            .routes
            .add_service(InterceptedService::new(server, self.host.rt.auth()));
        self
    }

    /// Cancels `streams` as soon as shutdown starts: server streams (a
    /// `Subscribe` feed) never finish on their own, and the server's drain
    /// waits for every open RPC, so without this a stop would hang until the
    /// grace period ran out.
    pub fn ending_streams(mut self, streams: CancellationToken) -> Self {
        self.streams.push(streams);
        self
    }

    /// The bound gRPC address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// The bound metrics address (`GET /metrics`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.host.metrics_addr()
    }

    /// Serves until `shutdown`, then ends open streams, drains RPCs, stops
    /// consumers and sweeps, and flushes the outbox (house style rule 7).
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Service {
            host,
            routes,
            names,
            streams,
        } = self;
        if !streams.is_empty() {
            let signal = shutdown.clone();
            tokio::spawn(async move {
                signal.cancelled().await;
                streams.iter().for_each(CancellationToken::cancel);
            });
        }
        host.serve(routes, &names, shutdown).await
    }
}

impl livedesk_platform::app::Served for Service {
    fn local_addr(&self) -> SocketAddr {
        Service::local_addr(self)
    }

    fn metrics_addr(&self) -> SocketAddr {
        Service::metrics_addr(self)
    }

    fn run_until_stopped(
        self,
        shutdown: CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        Service::run_until_stopped(self, shutdown)
    }
}
