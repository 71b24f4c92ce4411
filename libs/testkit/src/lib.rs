//! Test harness: real PostgreSQL and NATS JetStream for every test that
//! touches them, isolated per test so tests run in parallel.
//!
//! Servers: `LIVEDESK_TEST_DATABASE_URL` (a server URL, e.g.
//! `postgres://postgres@127.0.0.1:5432`) and `LIVEDESK_TEST_NATS_URL`
//! when set; otherwise, with the `docker` feature and a reachable Docker
//! engine, containers started with testcontainers. Each [`TestEnv`] gets
//! its own databases (random names) and its own subject prefix, and drops
//! both when it goes out of scope.

pub mod health;
mod ports;
mod private_nats;
mod private_nats_cluster;
mod private_postgres;
pub mod processes;
mod proxy;
mod servers;
mod services;
pub mod smtp;
mod sql;
mod stream;
pub mod suite;

use std::sync::{Arc, Mutex};

use livedesk_auth::{Issuer, Role};
use livedesk_platform::Env;
use uuid::Uuid;

pub use ports::reserve_port;
pub use private_nats::PrivateNats;
pub use private_nats_cluster::PrivateNatsCluster;
pub use private_postgres::PrivatePostgres;
pub use processes::{ProcessSuite, Replica};
pub use proxy::TcpProxy;
pub use services::{RunningService, spawn};
pub use sql::count;

/// The shared HS256 secret tests sign with.
pub const TEST_SECRET: &str = "livedesk-test-secret-0123456789abcdef";

/// An environment of exactly `pairs` plus the test secret: what a
/// service's config unit tests read (`Config::from_env(&config_env(…))`),
/// so each checks its own keys and nothing of a machine's environment.
pub fn config_env(pairs: &[(&str, &str)]) -> Env {
    Env::from_iter(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([(
                "LIVEDESK_AUTH_HS256_SECRET".to_owned(),
                TEST_SECRET.to_owned(),
            )]),
    )
}
const ISSUER: &str = "livedesk";
const AUDIENCE: &str = "livedesk-api";

/// One test's isolated slice of PostgreSQL and NATS.
pub struct TestEnv {
    /// `postgres://user@host:port` without a database.
    pub database_server: String,
    pub nats_url: String,
    /// Unique subject prefix of this test (EVT-4).
    pub prefix: String,
    databases: Arc<Mutex<Vec<String>>>,
    _servers: Option<Arc<servers::Containers>>,
}

impl std::fmt::Debug for TestEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEnv")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl TestEnv {
    /// Finds the servers and reserves a fresh prefix.
    pub async fn new() -> anyhow::Result<Self> {
        livedesk_platform::telemetry::init_for_tests();
        let (database_server, nats_url, containers) = servers::locate().await?;
        let id = Uuid::now_v7().simple().to_string();
        let prefix = format!("t{}", &id[id.len() - 12..]);
        Ok(Self {
            database_server,
            nats_url,
            prefix,
            databases: Arc::default(),
            _servers: containers,
        })
    }

    /// A fresh database URL for `service` in this test (created on connect).
    pub fn database_url(&self, service: &str) -> String {
        let name = format!("livedesk_{}_{service}", self.prefix);
        if let Ok(mut dbs) = self.databases.lock()
            && !dbs.contains(&name)
        {
            dbs.push(name.clone());
        }
        format!("{}/{name}", self.database_server.trim_end_matches('/'))
    }

    /// The environment a service reads in this test: port 0, its own
    /// database, this test's NATS prefix and secret, plus `extra` keys.
    pub fn service_env(&self, service: &str, extra: &[(String, String)]) -> Env {
        let upper = service.to_ascii_uppercase();
        let mut vars = vec![
            (
                format!("LIVEDESK_{upper}__GRPC_ADDR"),
                "127.0.0.1:0".to_string(),
            ),
            (
                format!("LIVEDESK_{upper}__METRICS_ADDR"),
                "127.0.0.1:0".to_string(),
            ),
            (
                format!("LIVEDESK_{upper}__DATABASE_URL"),
                self.database_url(service),
            ),
            ("LIVEDESK_NATS_URL".to_string(), self.nats_url.clone()),
            ("LIVEDESK_SUBJECT_PREFIX".to_string(), self.prefix.clone()),
            (
                "LIVEDESK_AUTH_HS256_SECRET".to_string(),
                TEST_SECRET.to_string(),
            ),
            (
                "LIVEDESK_SHUTDOWN_GRACE_SECONDS".to_string(),
                "5".to_string(),
            ),
        ];
        vars.extend(extra.iter().cloned());
        Env::from_iter(vars)
    }

    /// Signs tokens for this test.
    pub fn issuer(&self) -> Issuer {
        Issuer::hs256(ISSUER, AUDIENCE, TEST_SECRET.as_bytes())
    }

    /// A bearer token for `sub` with `role` in `org`.
    pub fn token(&self, org: Uuid, sub: &str, role: Role) -> String {
        self.issuer()
            .mint(org, sub, role, Some(sub), 3600)
            .unwrap_or_default()
    }

    /// A database of this test named `name` with `migrations` (SQL texts)
    /// applied in order: a schema as an older release left it, for tests
    /// of the migration that follows.
    pub async fn schema_at(
        &self,
        name: &str,
        migrations: &[&str],
    ) -> anyhow::Result<sea_orm::DatabaseConnection> {
        use sea_orm::ConnectionTrait;
        let db = livedesk_platform::db::connect(&self.database_url(name)).await?;
        for sql in migrations {
            db.execute_unprepared(sql).await?;
        }
        Ok(db)
    }

    /// Publishes `event` on `producer`'s stream as that service's relay
    /// would (envelope, subject, headers), for consumers under test.
    pub async fn publish<E: livedesk_proto::EventType>(
        &self,
        producer: &str,
        org: Uuid,
        aggregate: &str,
        event: &E,
    ) -> anyhow::Result<()> {
        let js = async_nats::jetstream::new(self.nats().await?);
        let subjects = livedesk_events::Subjects::new(self.prefix.clone());
        livedesk_events::publish_direct(&js, &subjects, producer, org, aggregate, event).await?;
        Ok(())
    }

    /// A NATS client for this test.
    pub async fn nats(&self) -> anyhow::Result<async_nats::Client> {
        Ok(async_nats::connect(&self.nats_url).await?)
    }

    async fn cleanup(server: String, nats_url: String, prefix: String, dbs: Vec<String>) {
        for name in dbs {
            let url = format!("{}/{name}", server.trim_end_matches('/'));
            if let Err(e) = livedesk_platform::db::drop_database(&url).await {
                eprintln!("testkit: could not drop {name}: {e}");
            }
        }
        if let Ok(client) = async_nats::connect(&nats_url).await {
            let js = async_nats::jetstream::new(client);
            let stream_prefix = livedesk_events_prefix(&prefix);
            let mut names = js.stream_names();
            let mut mine = Vec::new();
            use futures::StreamExt as _;
            while let Some(Ok(n)) = names.next().await {
                if n.starts_with(&stream_prefix) {
                    mine.push(n);
                }
            }
            for n in mine {
                let _ = js.delete_stream(&n).await;
            }
        }
    }
}

/// `T…_`: the start of this test's stream names (stream `<PREFIX>_<PRODUCER>`).
fn livedesk_events_prefix(prefix: &str) -> String {
    format!("{}_", livedesk_platform::nats::stream_prefix(prefix))
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let dbs = self.databases.lock().map(|d| d.clone()).unwrap_or_default();
        let (server, nats, prefix) = (
            self.database_server.clone(),
            self.nats_url.clone(),
            self.prefix.clone(),
        );
        // Drop runs inside the test's runtime: clean up on a thread of our own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(Self::cleanup(server, nats, prefix, dbs));
            }
        })
        .join();
    }
}

/// A fresh organization id.
pub fn new_org() -> Uuid {
    Uuid::now_v7()
}

/// Adds `authorization: Bearer <token>` to a request.
pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Ok(v) = tonic::metadata::MetadataValue::try_from(format!("Bearer {token}")) {
        req.metadata_mut().insert("authorization", v);
    }
    req
}

/// Polls `check` every 25 ms until it returns `Some`, or fails after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("timed out after {secs}s waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
