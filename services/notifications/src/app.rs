//! Wiring: database, NATS, consumers, wake-up fan-out, retention, the
//! email delivery worker, gRPC.
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use livedesk_events::{Both, Host, Service};
use livedesk_platform::ServiceApp;
use livedesk_proto::notifications::v1::notifications_service_server::NotificationsServiceServer;
use livedesk_proto::privacy::v1::data_subject_service_server::DataSubjectServiceServer;

use crate::config::Config;
use crate::events::{
    DeliveryWorker, ErasureEvents, Fanout, FeedEvents, Mailer, run_retention_sweep,
};
use crate::grpc::{DataSubjectGrpc, NotificationsGrpc, StreamTiming};
use crate::store::Migrator;

/// The streams this service consumes.
const CONSUMES: [&str; 4] = ["routing", "conversations", "scheduling", "blocking"];

/// The notifications service.
pub struct App;

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    type Served = Service;
    const NAME: &'static str = "notifications";

    async fn build(cfg: Config) -> anyhow::Result<Service> {
        let mailer = Mailer::new(&cfg.smtp)?;
        if cfg.smtp.is_dev_default {
            tracing::warn!(
                url = crate::config::DEV_SMTP_URL,
                "LIVEDESK_NOTIFICATIONS__SMTP_URL is not set: email goes to the local development relay"
            );
        }
        let mut host = Host::start::<Migrator>(cfg.common, &CONSUMES).await?;
        let email_wake = Arc::new(tokio::sync::Notify::new());
        let handler = Arc::new(
            FeedEvents::new(
                host.rt.nats.clone(),
                host.subjects.clone(),
                host.outbox.clone(),
            )
            .with_email_wake(email_wake.clone()),
        );
        for producer in CONSUMES {
            if producer == "conversations" {
                // Erasure requests (PRV-2) share the conversations consumer.
                let erasure = ErasureEvents {
                    outbox: host.outbox.clone(),
                    share: crate::store::SubjectData,
                };
                host.consume(producer, Arc::new(Both(handler.clone(), erasure)));
            } else {
                host.consume(producer, handler.clone());
            }
        }
        let fanout = Fanout::new();
        let (f, nats, subjects) = (fanout.clone(), host.rt.nats.clone(), host.subjects.clone());
        host.spawn(move |token| f.run(nats, subjects, token));
        let (db, days, every) = (
            host.rt.db.clone(),
            cfg.feed_retention_days,
            cfg.retention_sweep,
        );
        host.spawn(move |token| run_retention_sweep(db, days, every, token));
        let worker = DeliveryWorker {
            db: host.rt.db.clone(),
            outbox: host.outbox.clone(),
            mailer,
            retry: cfg.smtp.retry,
            lease: cfg.smtp.lease(),
            period: cfg.smtp.worker_period,
            wake: email_wake,
        };
        host.spawn(move |token| worker.run(token));
        let grpc = NotificationsGrpc {
            db: host.rt.db.clone(),
            fanout,
            shutdown: CancellationToken::new(),
            timing: StreamTiming {
                reread: cfg.stream_reread,
                heartbeat: cfg.stream_heartbeat,
            },
        };
        let privacy = DataSubjectGrpc {
            db: host.rt.db.clone(),
            share: crate::store::SubjectData,
        };
        let streams = grpc.shutdown.clone();
        Ok(host
            .into_service()
            .serving(NotificationsServiceServer::new(grpc))
            .serving(DataSubjectServiceServer::new(privacy))
            .ending_streams(streams))
    }
}
