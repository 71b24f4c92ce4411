//! Wiring: database, NATS, gRPC server, the conversations consumer and
//! the sweeps (offer expiry, max wait, auto wrap-up, positions, periodic
//! routing) and the backlog gauges.
use std::net::SocketAddr;
use std::sync::Arc;

use livedesk_events::{Both, Host};
use livedesk_platform::{CommonConfig, ConfigError, Env, ServiceApp};
use livedesk_proto::privacy::v1::data_subject_service_server::{
    DataSubjectServiceServer, SERVICE_NAME as DATA_SUBJECT_SERVICE,
};
use livedesk_proto::routing::v1::routing_service_server::{RoutingServiceServer, SERVICE_NAME};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::{ConversationEvents, ErasureEvents, Router, gauges, sweeps};
use crate::grpc::{DataSubjectGrpc, RoutingGrpc};
use crate::store::Migrator;

/// A built routing service, ready to serve.
pub struct App {
    host: Host,
    grpc: RoutingGrpc,
    privacy: DataSubjectGrpc,
}

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    const NAME: &'static str = "routing";

    fn config(env: &Env) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn common(cfg: &Config) -> &CommonConfig {
        &cfg.common
    }

    async fn build(cfg: Config) -> anyhow::Result<Self> {
        let mut host = Host::start::<Migrator>(cfg.common.clone(), &["conversations"]).await?;
        let router = Router::new(host.rt.db.clone(), host.outbox.clone());
        let grpc = RoutingGrpc {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            router: router.clone(),
        };
        host.consume(
            "conversations",
            Arc::new(Both(
                ConversationEvents {
                    router: router.clone(),
                },
                ErasureEvents {
                    outbox: host.outbox.clone(),
                    share: crate::store::SubjectData,
                },
            )),
        );
        let r = router.clone();
        host.spawn(move |token| r.run(token));
        let r = router.clone();
        host.spawn(move |token| sweeps::run_offer_expiry(r, cfg.offer_sweep, token));
        let r = router.clone();
        host.spawn(move |token| sweeps::run_wrap_up_expiry(r, cfg.wrap_up_sweep, token));
        let r = router.clone();
        host.spawn(move |token| sweeps::run_max_wait(r, cfg.max_wait_sweep, token));
        let r = router.clone();
        // SCH-8 waits are measured in seconds like max wait: the same period.
        host.spawn(move |token| sweeps::run_form_offers(r, cfg.max_wait_sweep, token));
        let r = router.clone();
        host.spawn(move |token| sweeps::run_positions(r, cfg.positions_period, token));
        let r = router;
        host.spawn(move |token| sweeps::run_routing_sweep(r, cfg.routing_sweep, token));
        let db = host.rt.db.clone();
        host.spawn(move |token| gauges::run_gauges(db, cfg.gauges_period, token));
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
        let routes = tonic::service::Routes::new(RoutingServiceServer::with_interceptor(
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
