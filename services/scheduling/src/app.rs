//! Wiring: database, NATS, cache, gRPC server and the announcement sweep.
use std::sync::Arc;

use livedesk_events::{Host, Service};
use livedesk_platform::ServiceApp;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectServiceServer;
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_proto::scheduling::v1::scheduling_service_server::SchedulingServiceServer;

use crate::cache::OrgCache;
use crate::config::Config;
use crate::events::{ErasureEvents, run_sweep};
use crate::grpc::{DataSubjectGrpc, SchedulingGrpc};
use crate::store::Migrator;

/// The scheduling service.
pub struct App;

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    type Served = Service;
    const NAME: &'static str = "scheduling";

    async fn build(cfg: Config) -> anyhow::Result<Service> {
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
        let privacy = DataSubjectGrpc {
            db: host.rt.db.clone(),
            share: crate::store::SubjectData,
        };
        Ok(host
            .into_service()
            .serving(SchedulingServiceServer::new(grpc))
            .serving(DataSubjectServiceServer::new(privacy)))
    }
}
