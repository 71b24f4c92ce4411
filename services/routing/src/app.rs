//! Wiring: database, NATS, gRPC server, the conversations consumer and
//! the sweeps (offer expiry, max wait, auto wrap-up, positions, periodic
//! routing) and the backlog gauges.
use std::sync::Arc;

use livedesk_events::{Both, Host, Service};
use livedesk_platform::ServiceApp;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectServiceServer;
use livedesk_proto::routing::v1::routing_service_server::RoutingServiceServer;

use crate::config::Config;
use crate::engine::{Router, sweeps};
use crate::events::{ConversationEvents, ErasureEvents};
use crate::gauges;
use crate::grpc::{DataSubjectGrpc, RoutingGrpc};
use crate::store::Migrator;

/// The routing service.
pub struct App;

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    type Served = Service;
    const NAME: &'static str = "routing";

    async fn build(cfg: Config) -> anyhow::Result<Service> {
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
        host.spawn(move |token| sweeps::run_form_offers(r, cfg.form_offer_sweep, token));
        let r = router.clone();
        host.spawn(move |token| sweeps::run_positions(r, cfg.positions_period, token));
        let r = router;
        host.spawn(move |token| sweeps::run_routing_sweep(r, cfg.routing_sweep, token));
        let db = host.rt.db.clone();
        host.spawn(move |token| gauges::run_gauges(db, cfg.gauges_period, token));
        let privacy = DataSubjectGrpc {
            db: host.rt.db.clone(),
            share: crate::store::SubjectData,
        };
        Ok(host
            .into_service()
            .serving(RoutingServiceServer::new(grpc))
            .serving(DataSubjectServiceServer::new(privacy)))
    }
}
