//! Wiring: database, NATS, gRPC server, consumers, sweeps and the block
//! cache's listener and heartbeat.
use std::sync::Arc;

use livedesk_events::{Both, Host, Service};
use livedesk_platform::ServiceApp;
use livedesk_proto::blocking::v1::blocking_service_server::BlockingServiceServer;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectServiceServer;

use crate::cache::{BlockCache, run_heartbeat, run_listener};
use crate::config::Config;
use crate::events::{ConversationEvents, ErasureEvents, SchedulingEvents, run_expiry_sweep};
use crate::grpc::{BlockingGrpc, DataSubjectGrpc};
use crate::store::Migrator;

/// The blocking service.
pub struct App;

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    type Served = Service;
    const NAME: &'static str = "blocking";

    async fn build(cfg: Config) -> anyhow::Result<Service> {
        let refresh = cfg.common.peer_dns_refresh;
        let mut host =
            Host::start::<Migrator>(cfg.common, &["conversations", "scheduling"]).await?;
        let conversations = ConversationsServiceClient::new(
            livedesk_platform::runtime::peer_channel(&cfg.conversations_url, refresh)?,
        );
        let checks = BlockCache::new(host.rt.db.clone(), cfg.cache);
        let listener = checks.clone();
        host.spawn(move |token| run_listener(listener, token));
        let heartbeat = checks.clone();
        host.spawn(move |token| run_heartbeat(heartbeat, token));
        let grpc = BlockingGrpc {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            conversations,
            checks,
        };
        host.consume(
            "conversations",
            Arc::new(Both(
                ConversationEvents,
                ErasureEvents {
                    outbox: host.outbox.clone(),
                    share: crate::store::SubjectData,
                },
            )),
        );
        host.consume("scheduling", Arc::new(SchedulingEvents));
        let (db, outbox, period) = (host.rt.db.clone(), host.outbox.clone(), cfg.expiry_sweep);
        host.spawn(move |token| run_expiry_sweep(db, outbox, period, token));
        let privacy = DataSubjectGrpc {
            db: host.rt.db.clone(),
            share: crate::store::SubjectData,
        };
        Ok(host
            .into_service()
            .serving(BlockingServiceServer::new(grpc))
            .serving(DataSubjectServiceServer::new(privacy)))
    }
}
