//! Wiring: database, read-model generation, the four consumers, gRPC.
use std::net::SocketAddr;
use std::sync::Arc;

use livedesk_events::{Both, ConsumerConfig, ConsumerContext, EventHandler, Host};
use livedesk_platform::{CommonConfig, ConfigError, Env, ServiceApp};
use livedesk_proto::privacy::v1::data_subject_service_server::{
    DataSubjectServiceServer, SERVICE_NAME as DATA_SUBJECT_SERVICE,
};
use livedesk_proto::reporting::v1::reporting_service_server::{
    ReportingServiceServer, SERVICE_NAME,
};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::{
    BlockingEvents, ConversationEvents, ErasureEvents, RoutingEvents, SchedulingEvents,
};
use crate::grpc::{DataSubjectGrpc, ReportingGrpc};
use crate::store::{Migrator, ensure_generation};

/// The producers whose streams the read model is built from (RPT-1).
const PRODUCERS: [&str; 4] = ["conversations", "routing", "blocking", "scheduling"];

/// A built reporting service, ready to serve.
pub struct App {
    host: Host,
    grpc: ReportingGrpc,
    privacy: DataSubjectGrpc,
}

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
    const NAME: &'static str = "reporting";

    fn config(env: &Env) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn common(cfg: &Config) -> &CommonConfig {
        &cfg.common
    }

    async fn build(cfg: Config) -> anyhow::Result<Self> {
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
        let routes = tonic::service::Routes::new(ReportingServiceServer::with_interceptor(
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
