//! Wiring: database, NATS, peers, gRPC server and consumers.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
use crate::events::{BlockingEvents, FormEvents, RoutingEvents, run_natural_close};
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
        let refresh = cfg.common.peer_dns_refresh;
        let mut host =
            Host::start::<Migrator>(cfg.common.clone(), &["routing", "blocking", "scheduling"])
                .await?;
        let grpc = ConversationsGrpc {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            rt: host.rt.clone(),
            blocking: BlockingServiceClient::new(peer_channel(&cfg.blocking_url, refresh)?),
            scheduling: SchedulingServiceClient::new(peer_channel(&cfg.scheduling_url, refresh)?),
            email_domain: cfg.email_domain.clone(),
            email_from: cfg.email_from.clone(),
            attachments: object_store(&cfg)?,
            attachment_max_bytes: cfg.attachment_max_bytes,
            typing: Default::default(),
        };
        let (db, outbox) = (host.rt.db.clone(), host.outbox.clone());
        let period = Duration::from_secs(cfg.natural_close_sweep_secs);
        host.spawn(move |token| run_natural_close(db, outbox, period, token));
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
        host.consume("scheduling", Arc::new(FormEvents));
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

/// The attachments' object store: the local directory by default, S3 with
/// the `s3` feature and an `s3://` URL (CNV-6).
fn object_store(cfg: &Config) -> anyhow::Result<Arc<dyn object_store::ObjectStore>> {
    match cfg.attachments_url.as_deref() {
        None => {
            std::fs::create_dir_all(&cfg.attachments_dir)?;
            Ok(Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(&cfg.attachments_dir)?,
            ))
        }
        #[cfg(feature = "s3")]
        Some(url) if url.starts_with("s3://") => Ok(Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .build()?,
        )),
        Some(url) => anyhow::bail!(
            "LIVEDESK_CONVERSATIONS__ATTACHMENTS_URL={url:?}: only s3:// URLs, with the s3 feature"
        ),
    }
}
