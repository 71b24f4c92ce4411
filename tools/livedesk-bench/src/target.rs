//! What the benchmark runs against: a suite it started in-process
//! (`--spawn`), or one already running at the livedeskctl URLs.
use std::time::Duration;

use livedesk_e2e::Suite;
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
    /// `Some` when this process started the suite: stopped (and its
    /// databases and streams dropped) by [`Target::stop`].
    suite: Option<Suite>,
}

impl Target {
    /// Starts the suite or connects to the running one.
    pub async fn open(cli: &Cli) -> anyhow::Result<Self> {
        if cli.spawn {
            let suite = Suite::start().await?;
            return Ok(Self {
                clients: suite.clients.clone(),
                nats_url: suite.env.nats_url.clone(),
                prefix: suite.env.prefix.clone(),
                database_server: suite.env.database_server.clone(),
                reporting_database_url: Some(suite.env.database_url("reporting")),
                suite: Some(suite),
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
            suite: None,
        })
    }

    /// "spawn" or "remote", for the report.
    pub fn mode(&self) -> &'static str {
        if self.suite.is_some() {
            "spawn"
        } else {
            "remote"
        }
    }

    /// Token minting for a brand-new org: every scenario gets its own, so
    /// scenarios never see each other's agents, offers or rows.
    pub fn tokens(&self) -> Tokens {
        match &self.suite {
            Some(suite) => suite.tokens(),
            None => Tokens::from_env(Uuid::now_v7()),
        }
    }

    /// Stops a spawned suite (a remote one is left running).
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(suite) = self.suite {
            suite.stop().await?;
        }
        Ok(())
    }
}
