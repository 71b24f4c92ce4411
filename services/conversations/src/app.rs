//! Wiring: database, NATS, peers, gRPC server and consumers.
use std::sync::Arc;

use livedesk_events::{Both, Host, Service};
use livedesk_platform::ServiceApp;
use livedesk_platform::runtime::peer_channel;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::conversations::v1::conversations_service_server::ConversationsServiceServer;
use livedesk_proto::privacy::v1::data_subject_service_client::DataSubjectServiceClient;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectServiceServer;
use livedesk_proto::privacy::v1::privacy_service_server::PrivacyServiceServer;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use tonic::transport::Channel;

use crate::config::Config;
use crate::events::{
    BlockingEvents, ErasureEvents, FormEvents, RoutingEvents, run_natural_close, run_retention,
};
use crate::grpc::{ConversationsGrpc, PrivacyGrpc};
use crate::store::Migrator;

/// The conversations service.
pub struct App;

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    type Served = Service;
    const NAME: &'static str = "conversations";

    async fn build(cfg: Config) -> anyhow::Result<Service> {
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
        let peer = |url: &str| -> anyhow::Result<DataSubjectServiceClient<Channel>> {
            Ok(DataSubjectServiceClient::new(peer_channel(url, refresh)?))
        };
        let privacy = PrivacyGrpc {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            rt: host.rt.clone(),
            peers: vec![
                ("routing", peer(&cfg.routing_url)?),
                ("blocking", peer(&cfg.blocking_url)?),
                ("scheduling", peer(&cfg.scheduling_url)?),
                ("reporting", peer(&cfg.reporting_url)?),
                ("notifications", peer(&cfg.notifications_url)?),
            ],
        };
        // Erasure requests come from this service's own stream; every
        // service answers `CustomerErased` on its own (PRV-2).
        let erasure = || ErasureEvents {
            outbox: host.outbox.clone(),
            attachments: grpc.attachments.clone(),
        };
        let (from_routing, from_blocking, from_scheduling) = (erasure(), erasure(), erasure());
        let (own, from_reporting, from_notifications) = (erasure(), erasure(), erasure());
        host.consume("conversations", Arc::new(own));
        host.consume("reporting", Arc::new(from_reporting));
        host.consume("notifications", Arc::new(from_notifications));
        let (db, outbox) = (host.rt.db.clone(), host.outbox.clone());
        let retention = cfg.retention_sweep;
        host.spawn(move |token| run_retention(db, outbox, retention, token));
        let (db, outbox) = (host.rt.db.clone(), host.outbox.clone());
        let period = cfg.natural_close_sweep;
        host.spawn(move |token| run_natural_close(db, outbox, period, token));
        host.consume(
            "routing",
            Arc::new(Both(
                RoutingEvents {
                    outbox: host.outbox.clone(),
                },
                from_routing,
            )),
        );
        host.consume(
            "blocking",
            Arc::new(Both(
                BlockingEvents {
                    outbox: host.outbox.clone(),
                },
                from_blocking,
            )),
        );
        host.consume("scheduling", Arc::new(Both(FormEvents, from_scheduling)));
        Ok(host
            .into_service()
            .serving(ConversationsServiceServer::new(grpc))
            .serving(PrivacyServiceServer::new(privacy.clone()))
            .serving(DataSubjectServiceServer::new(privacy)))
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
