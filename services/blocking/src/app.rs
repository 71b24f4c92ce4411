//! Wiring: database, NATS, gRPC server, consumers and sweeps.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livedesk_events::{Both, Host};
use livedesk_platform::{CommonConfig, ConfigError, Env, ServiceApp};
use livedesk_proto::blocking::v1::blocking_service_server::{BlockingServiceServer, SERVICE_NAME};
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::privacy::v1::data_subject_service_server::{
    DataSubjectServiceServer, SERVICE_NAME as DATA_SUBJECT_SERVICE,
};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::{ConversationEvents, ErasureEvents, SchedulingEvents, run_expiry_sweep};
use crate::grpc::{BlockingGrpc, DataSubjectGrpc};
use crate::store::Migrator;

/// A built blocking service, ready to serve.
pub struct App {
    host: Host,
    grpc: BlockingGrpc,
    privacy: DataSubjectGrpc,
}

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    const NAME: &'static str = "blocking";

    fn config(env: &Env) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn common(cfg: &Config) -> &CommonConfig {
        &cfg.common
    }

    async fn build(cfg: Config) -> anyhow::Result<Self> {
        let refresh = cfg.common.peer_dns_refresh;
        let mut host =
            Host::start::<Migrator>(cfg.common, &["conversations", "scheduling"]).await?;
        let conversations = ConversationsServiceClient::new(
            livedesk_platform::runtime::peer_channel(&cfg.conversations_url, refresh)?,
        );
        let grpc = BlockingGrpc {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            conversations,
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
        let (db, outbox) = (host.rt.db.clone(), host.outbox.clone());
        host.spawn(move |token| run_expiry_sweep(db, outbox, Duration::from_secs(5), token));
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
        let routes = tonic::service::Routes::new(BlockingServiceServer::with_interceptor(
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
