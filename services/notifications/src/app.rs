//! Wiring: database, NATS, consumers, wake-up fan-out, retention, the
//! email delivery worker, gRPC.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livedesk_events::{Both, Host};
use livedesk_platform::{CommonConfig, ConfigError, Env, ServiceApp};
use livedesk_proto::notifications::v1::notifications_service_server::{
    NotificationsServiceServer, SERVICE_NAME,
};
use livedesk_proto::privacy::v1::data_subject_service_server::{
    DataSubjectServiceServer, SERVICE_NAME as DATA_SUBJECT_SERVICE,
};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::{
    DeliveryWorker, ErasureEvents, Fanout, FeedEvents, Mailer, run_retention_sweep,
};
use crate::grpc::{DataSubjectGrpc, NotificationsGrpc};
use crate::store::Migrator;

/// The streams this service consumes.
const CONSUMES: [&str; 4] = ["routing", "conversations", "scheduling", "blocking"];

/// A built notifications service, ready to serve.
pub struct App {
    host: Host,
    grpc: NotificationsGrpc,
    privacy: DataSubjectGrpc,
}

impl ServiceApp for App {
    type Config = Config;
    type Migrator = Migrator;
    const NAME: &'static str = "notifications";

    fn config(env: &Env) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn common(cfg: &Config) -> &CommonConfig {
        &cfg.common
    }

    async fn build(cfg: Config) -> anyhow::Result<Self> {
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
        let (db, days) = (host.rt.db.clone(), cfg.feed_retention_days);
        host.spawn(move |token| run_retention_sweep(db, days, Duration::from_secs(300), token));
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
        // Open streams never finish on their own: end them when shutdown
        // starts, so the server's drain can complete.
        let streams = self.grpc.shutdown.clone();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            signal.cancelled().await;
            streams.cancel();
        });
        let auth = self.host.rt.auth();
        let routes = tonic::service::Routes::new(NotificationsServiceServer::with_interceptor(
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
