//! What the benchmark runs against: a suite it started in-process
//! (`--spawn`) or as processes (`--spawn --processes`), or one already
//! running at the livedeskctl URLs.
use std::time::Duration;

use livedesk_e2e::Suite;
use livedesk_testkit::processes::{Layout, bin_dir_beside};
use livedesk_testkit::{ProcessSuite, TEST_SECRET, TestEnv};
use livedeskctl::{Clients, Endpoints, Tokens};
use uuid::Uuid;

use crate::cli::Cli;

/// The suite under test and where its infrastructure is.
pub struct Target {
    pub clients: Clients,
    pub nats_url: String,
    pub prefix: String,
    /// PostgreSQL server URL (no database) for the baselines.
    pub database_server: String,
    /// The reporting service's own database, when known.
    pub reporting_database_url: Option<String>,
    /// What this process started: stopped (and its databases and streams
    /// dropped) by [`Target::stop`].
    spawned: Spawned,
}

/// The suite this process started, if any.
enum Spawned {
    None,
    InProcess(Box<Suite>),
    Processes {
        suite: ProcessSuite,
        /// Holds the databases and prefix until the end.
        env: TestEnv,
    },
}

impl Target {
    /// Starts the suite or connects to the running one.
    pub async fn open(cli: &Cli) -> anyhow::Result<Self> {
        if cli.spawn && cli.processes {
            return Self::processes(cli).await;
        }
        if cli.spawn {
            let suite = Suite::start().await?;
            return Ok(Self {
                clients: suite.clients.clone(),
                nats_url: suite.env.nats_url.clone(),
                prefix: suite.env.prefix.clone(),
                database_server: suite.env.database_server.clone(),
                reporting_database_url: Some(suite.env.database_url("reporting")),
                spawned: Spawned::InProcess(Box::new(suite)),
            });
        }
        let endpoints = Endpoints::from_env();
        livedeskctl::clients::wait_ready(&endpoints, Duration::from_secs(30)).await?;
        Ok(Self {
            clients: Clients::new(&endpoints)?,
            nats_url: cli.nats_url.clone(),
            prefix: cli.prefix.clone(),
            database_server: cli.database_url.clone(),
            reporting_database_url: cli.reporting_database_url.clone(),
            spawned: Spawned::None,
        })
    }

    /// The six services as processes on fresh databases and a fresh NATS
    /// prefix, routing with `--routing-replicas` replicas.
    async fn processes(cli: &Cli) -> anyhow::Result<Self> {
        let env = TestEnv::new().await?;
        let logs = cli
            .json
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(format!("logs-{}", env.prefix));
        let databases: std::collections::HashMap<&str, String> =
            livedesk_testkit::processes::SERVICES
                .iter()
                .map(|s| (*s, env.database_url(s)))
                .collect();
        let nats = env.nats_url.clone();
        let routing = cli.routing_replicas.max(1);
        let suite = ProcessSuite::start(Layout {
            bin_dir: bin_dir_beside()?,
            replicas: Box::new(move |s| if s == "routing" { routing } else { 1 }),
            database_url: Box::new(move |s| databases.get(s).cloned().unwrap_or_default()),
            nats_url: Box::new(move |_| nats.clone()),
            common: vec![
                ("LIVEDESK_SUBJECT_PREFIX".into(), env.prefix.clone()),
                ("LIVEDESK_AUTH_HS256_SECRET".into(), TEST_SECRET.into()),
                ("LIVEDESK_LOG_FORMAT".into(), "json".into()),
                // 8 processes with routing at 3 replicas, and the
                // baselines beside them, within PostgreSQL's default 100
                // connections.
                ("LIVEDESK_DB_MAX_CONNECTIONS".into(), "8".into()),
            ],
            logs,
        })
        .await?;
        let clients = Clients::new(&Endpoints {
            routing: suite.urls("routing"),
            conversations: suite.urls("conversations"),
            blocking: suite.urls("blocking"),
            scheduling: suite.urls("scheduling"),
            reporting: suite.urls("reporting"),
            notifications: suite.urls("notifications"),
        })?;
        Ok(Self {
            clients,
            nats_url: env.nats_url.clone(),
            prefix: env.prefix.clone(),
            database_server: env.database_server.clone(),
            reporting_database_url: Some(env.database_url("reporting")),
            spawned: Spawned::Processes { suite, env },
        })
    }

    /// The process ids of `service`'s replicas (none unless the services
    /// run as processes this one started).
    pub fn pids(&self, service: &str) -> Vec<u32> {
        match &self.spawned {
            Spawned::Processes { suite, .. } => suite
                .replicas
                .iter()
                .filter(|r| r.service == service)
                .filter_map(|r| r.pid())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// "spawn" or "remote", for the report.
    pub fn mode(&self) -> &'static str {
        match self.spawned {
            Spawned::None => "remote",
            Spawned::InProcess(_) => "spawn",
            Spawned::Processes { .. } => "spawn-processes",
        }
    }

    /// Token minting for a brand-new org: every scenario gets its own, so
    /// scenarios never see each other's agents, offers or rows.
    pub fn tokens(&self) -> Tokens {
        match &self.spawned {
            Spawned::InProcess(suite) => suite.tokens(),
            Spawned::Processes { env, .. } => Tokens::new(env.issuer(), Uuid::now_v7()),
            Spawned::None => Tokens::from_env(Uuid::now_v7()),
        }
    }

    /// Stops a spawned suite (a remote one is left running).
    pub async fn stop(self) -> anyhow::Result<()> {
        match self.spawned {
            Spawned::InProcess(suite) => suite.stop().await?,
            Spawned::Processes { mut suite, env } => {
                suite.kill_all().await;
                drop(env);
            }
            Spawned::None => {}
        }
        Ok(())
    }
}
