//! The connections and credentials a running service holds.
use std::sync::Arc;

use livedesk_auth::{AuthInterceptor, Issuer, Verifier};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::config::CommonConfig;

/// Database, NATS and auth of one service instance.
#[derive(Clone)]
pub struct Runtime {
    pub config: CommonConfig,
    pub db: DatabaseConnection,
    pub nats: async_nats::Client,
    pub jetstream: async_nats::jetstream::Context,
    pub verifier: Arc<Verifier>,
    pub issuer: Issuer,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("service", &self.config.service)
            .finish()
    }
}

impl Runtime {
    /// Connects to PostgreSQL (creating the database if needed), applies
    /// migrations `M` when configured, and connects to NATS.
    pub async fn start<M: MigratorTrait>(config: CommonConfig) -> anyhow::Result<Self> {
        let verifier = Arc::new(config.auth.verifier()?);
        let issuer = config.auth.issuer()?;
        let db = crate::db::connect_with(
            config.database_url.expose_secret(),
            config.db_max_connections,
        )
        .await?;
        if config.migrate_on_start {
            crate::db::migrate::<M>(&db).await?;
        }
        let nats =
            crate::nats::connect(&config.nats_url, &format!("livedesk-{}", config.service)).await?;
        let jetstream = async_nats::jetstream::new(nats.clone());
        Ok(Self {
            config,
            db,
            nats,
            jetstream,
            verifier,
            issuer,
        })
    }

    /// The interceptor authenticating this service's RPCs.
    pub fn auth(&self) -> AuthInterceptor {
        AuthInterceptor::new(self.verifier.clone())
    }

    /// Wraps `message` in a request to another Livedesk service on behalf of
    /// `org`: a short-lived service token and the current trace context.
    pub fn peer_request<T>(
        &self,
        org: Uuid,
        message: T,
    ) -> Result<tonic::Request<T>, tonic::Status> {
        let token = self
            .issuer
            .service_token(org, self.config.service)
            .map_err(tonic::Status::from)?;
        let mut req = tonic::Request::new(message);
        let value = tonic::metadata::MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| tonic::Status::internal("token is not a valid header"))?;
        req.metadata_mut().insert("authorization", value);
        crate::grpc_telemetry::inject_trace(req.metadata_mut());
        req.set_timeout(std::time::Duration::from_secs(5));
        Ok(req)
    }
}

/// A lazily connected channel to another service, balanced over every
/// replica its URL (or comma-separated URLs) resolves to, re-resolved every
/// `refresh` (see [`crate::peer`]).
pub fn peer_channel(
    url: &str,
    refresh: std::time::Duration,
) -> anyhow::Result<tonic::transport::Channel> {
    crate::peer::balanced_channel(url, refresh)
}

/// Builds a request to another service carrying the caller's own
/// `authorization`, so the callee applies the caller's role (TEN-3).
pub fn forwarded<T, U>(incoming: &tonic::Request<U>, message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Some(auth) = incoming.metadata().get("authorization") {
        req.metadata_mut().insert("authorization", auth.clone());
    }
    crate::grpc_telemetry::inject_trace(req.metadata_mut());
    req.set_timeout(std::time::Duration::from_secs(5));
    req
}
