//! Wiring: database, NATS, cache, gRPC server and the announcement sweep.
use std::net::SocketAddr;
use std::sync::Arc;

use livedesk_events::Host;
use livedesk_platform::{CommonConfig, ConfigError, Env, ServiceApp};
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::privacy::v1::data_subject_service_server::{
    DataSubjectServiceServer, SERVICE_NAME as DATA_SUBJECT_SERVICE,
};
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_proto::scheduling::v1::scheduling_service_server::{
    SERVICE_NAME, SchedulingServiceServer,
};
use tokio_util::sync::CancellationToken;

use crate::cache::OrgCache;
use crate::config::Config;
use crate::events::{ErasureEvents, run_sweep};
use crate::grpc::{DataSubjectGrpc, SchedulingGrpc};
use crate::store::Migrator;

/// A built scheduling service, ready to serve.
pub struct App {
    host: Host,
    grpc: SchedulingGrpc,
    privacy: DataSubjectGrpc,
}

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    const NAME: &'static str = "scheduling";

    fn config(env: &Env) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn common(cfg: &Config) -> &CommonConfig {
        &cfg.common
    }

    async fn build(cfg: Config) -> anyhow::Result<Self> {
        let refresh = cfg.common.peer_dns_refresh;
        let mut host = Host::start::<Migrator>(cfg.common, &[]).await?;
        let routing = RoutingServiceClient::new(livedesk_platform::runtime::peer_channel(
            &cfg.routing_url,
            refresh,
        )?);
        let blocking = BlockingServiceClient::new(livedesk_platform::runtime::peer_channel(
            &cfg.blocking_url,
            refresh,
        )?);
        let cache = OrgCache::new(host.rt.db.clone(), cfg.cache_ttl);
        let grpc = SchedulingGrpc {
            db: host.rt.db.clone(),
            rt: host.rt.clone(),
            cache,
            outbox: host.outbox.clone(),
            routing,
            blocking,
        };
        let (db, outbox, period) = (host.rt.db.clone(), host.outbox.clone(), cfg.sweep_interval);
        let sweep_cache = grpc.cache.clone();
        host.spawn(move |token| run_sweep(db, outbox, sweep_cache, period, token));
        // Erasure requests (PRV-2) are scheduling's only consumed events.
        host.consume(
            "conversations",
            Arc::new(ErasureEvents {
                outbox: host.outbox.clone(),
                share: crate::store::SubjectData,
            }),
        );
        Ok(Self {
            privacy: DataSubjectGrpc {
                db: host.rt.db.clone(),
                share: crate::store::SubjectData,
            },
            host,
            grpc,
        })
    }

    fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let auth = self.host.rt.auth();
        let routes = tonic::service::Routes::new(SchedulingServiceServer::with_interceptor(
            self.grpc,
            auth.clone(),
        ))
        .add_service(DataSubjectServiceServer::with_interceptor(
            self.privacy,
            auth,
        ));
        self.host
            .serve(routes, &[SERVICE_NAME, DATA_SUBJECT_SERVICE], shutdown)
            .await
    }
}
