//! Wiring: database, read-model generation, the four consumers, gRPC.
use std::sync::Arc;

use livedesk_events::{Both, ConsumerConfig, ConsumerContext, EventHandler, Host, Service};
use livedesk_platform::ServiceApp;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectServiceServer;
use livedesk_proto::reporting::v1::reporting_service_server::ReportingServiceServer;

use crate::config::Config;
use crate::events::{
    BlockingEvents, ConversationEvents, ErasureEvents, RoutingEvents, SchedulingEvents,
};
use crate::grpc::{DataSubjectGrpc, ReportingGrpc};
use crate::store::{Migrator, ensure_generation};

/// The producers whose streams the read model is built from (RPT-1).
const PRODUCERS: [&str; 4] = ["conversations", "routing", "blocking", "scheduling"];

/// The reporting service.
pub struct App;

/// The consumer identity of a read-model generation. Generation 1 uses
/// the standard names (`reporting-from-<producer>`); a raised generation
/// gets fresh durable consumers that replay every stream from the start.
fn consumer_service(generation: u32) -> &'static str {
    if generation <= 1 {
        "reporting"
    } else {
        // Built once at start; consumer configs want a 'static name.
        Box::leak(format!("reporting-g{generation}").into_boxed_str())
    }
}

fn consume<H: EventHandler>(
    host: &mut Host,
    service: &'static str,
    producer: &'static str,
    handler: Arc<H>,
) {
    let ctx = ConsumerContext {
        db: host.rt.db.clone(),
        js: host.rt.jetstream.clone(),
        subjects: host.subjects.clone(),
        // Reporting publishes only `CustomerErased` (PRV-2).
        outbox: Some(host.outbox.clone()),
    };
    let cfg = ConsumerConfig::new(service, producer);
    host.spawn(move |token| livedesk_events::consumer::run(ctx, handler, cfg, token));
}

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    type Served = Service;
    const NAME: &'static str = "reporting";

    async fn build(cfg: Config) -> anyhow::Result<Service> {
        let mut host = Host::start::<Migrator>(cfg.common, &PRODUCERS).await?;
        if ensure_generation(&host.rt.db, cfg.read_model_generation).await? {
            tracing::warn!(
                generation = cfg.read_model_generation,
                "read model emptied, replaying the event streams"
            );
        }
        let service = consumer_service(cfg.read_model_generation);
        let erasure = ErasureEvents {
            outbox: host.outbox.clone(),
            share: crate::store::SubjectData,
        };
        consume(
            &mut host,
            service,
            "conversations",
            Arc::new(Both(ConversationEvents, erasure)),
        );
        consume(&mut host, service, "routing", Arc::new(RoutingEvents));
        consume(&mut host, service, "blocking", Arc::new(BlockingEvents));
        consume(&mut host, service, "scheduling", Arc::new(SchedulingEvents));
        let grpc = ReportingGrpc {
            db: host.rt.db.clone(),
        };
        let privacy = DataSubjectGrpc {
            db: host.rt.db.clone(),
            share: crate::store::SubjectData,
        };
        Ok(host
            .into_service()
            .serving(ReportingServiceServer::new(grpc))
            .serving(DataSubjectServiceServer::new(privacy)))
    }
}
