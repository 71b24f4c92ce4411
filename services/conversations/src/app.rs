//! Wiring: database, NATS, peers, gRPC server and consumers.
use std::net::SocketAddr;
use std::sync::Arc;

use livedesk_events::Host;
use livedesk_platform::runtime::peer_channel;
use livedesk_platform::{CommonConfig, ConfigError, Env, ServiceApp};
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::conversations::v1::conversations_service_server::{
    ConversationsServiceServer, SERVICE_NAME,
};
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::{BlockingEvents, RoutingEvents};
use crate::grpc::ConversationsGrpc;
use crate::store::Migrator;

/// A built conversations service, ready to serve.
pub struct App {
    host: Host,
    grpc: ConversationsGrpc,
}

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    const NAME: &'static str = "conversations";

    fn config(env: &Env) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn common(cfg: &Config) -> &CommonConfig {
        &cfg.common
    }

    async fn build(cfg: Config) -> anyhow::Result<Self> {
        let mut host = Host::start::<Migrator>(cfg.common, &["routing", "blocking"]).await?;
        let grpc = ConversationsGrpc {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            rt: host.rt.clone(),
            blocking: BlockingServiceClient::new(peer_channel(&cfg.blocking_url)?),
            scheduling: SchedulingServiceClient::new(peer_channel(&cfg.scheduling_url)?),
        };
        host.consume(
            "routing",
            Arc::new(RoutingEvents {
                outbox: host.outbox.clone(),
            }),
        );
        host.consume(
            "blocking",
            Arc::new(BlockingEvents {
                outbox: host.outbox.clone(),
            }),
        );
        Ok(Self { host, grpc })
    }

    fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let auth = self.host.rt.auth();
        let routes = tonic::service::Routes::new(ConversationsServiceServer::with_interceptor(
            self.grpc, auth,
        ));
        self.host.serve(routes, &[SERVICE_NAME], shutdown).await
    }
}
