//! Command-line parameters. Every one lands in the JSON result, so a
//! figure can always be traced to the load that produced it.
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde::Serialize;

/// One hot path of DESIGN.md "Performance".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// A customer message from SendMessage to the agent's Subscribe stream.
    Messages,
    /// StartConversation (an enqueue) to the offer on an agent's stream.
    Routing,
    /// ExportCsv streaming of the conversations read model.
    Export,
    /// CheckIdentities (the block check).
    Blocks,
}

impl Scenario {
    /// The name printed and written.
    pub fn name(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::Routing => "routing",
            Self::Export => "export",
            Self::Blocks => "blocks",
        }
    }
}

/// How the export scenario fills the reporting read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportSeed {
    /// `direct` above 20,000 rows, `events` up to that.
    Auto,
    /// `ConversationEnded` events published as the conversations service
    /// publishes them, ingested by reporting (about 1,000 rows/s).
    Events,
    /// Rows inserted straight into reporting's database (`INSERT …
    /// SELECT … FROM generate_series`), for exports of a million rows;
    /// needs the reporting database (--spawn or --reporting-database-url).
    Direct,
}

/// Measures Livedesk's hot paths through the public gRPC APIs, each
/// against its physical limit (PostgreSQL itself) on the same run, and
/// prints the ratios. Timing is reported, never asserted.
///
/// Against a running suite, service URLs are LIVEDESK_CTL_<SERVICE>_URL
/// (as for livedeskctl) and tokens are minted as livedeskctl mints them
/// (`LIVEDESK_CTL_HS256_SECRET`, `LIVEDESK_CTL_PRIVATE_KEY` or `LIVEDESK_CTL_DEV=true`).
#[derive(Debug, Clone, Parser, Serialize)]
#[command(name = "livedesk-bench", version)]
pub struct Cli {
    /// Start the six services in-process on fresh databases and a fresh
    /// NATS prefix (servers from LIVEDESK_TEST_DATABASE_URL and
    /// LIVEDESK_TEST_NATS_URL, or the local defaults).
    #[arg(long)]
    pub spawn: bool,

    /// With --spawn: each service as a process of its own (the
    /// `livedesk-<service>` binaries beside this one: `cargo build
    /// --release --bins`), so each one's memory is measured.
    #[arg(long, requires = "spawn")]
    pub processes: bool,

    /// With --processes: replicas of the routing service (peers and
    /// clients are balanced over them).
    #[arg(long, default_value_t = 1, requires = "processes")]
    pub routing_replicas: usize,

    /// Scenarios to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "messages,routing,export,blocks"
    )]
    pub scenarios: Vec<Scenario>,

    /// Where the machine-readable result goes.
    #[arg(long, default_value = "target/bench/result.json")]
    pub json: PathBuf,

    /// PostgreSQL server (no database) for the baselines' scratch
    /// database; ignored with --spawn (the suite's server is used).
    #[arg(
        long,
        env = "LIVEDESK_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub database_url: String,

    /// The reporting service's database, for the COPY baseline of the
    /// export; without it (and without --spawn) that ratio is not measured.
    #[arg(long, env = "LIVEDESK_BENCH_REPORTING_DATABASE_URL")]
    pub reporting_database_url: Option<String>,

    /// NATS of the running suite (the export scenario seeds events there).
    #[arg(
        long,
        env = "LIVEDESK_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,

    /// Subject prefix of the running suite.
    #[arg(long, env = "LIVEDESK_SUBJECT_PREFIX", default_value = "livedesk")]
    pub prefix: String,

    /// messages: active conversations, each with its own visitor sending
    /// concurrently (this is the scenario's concurrency).
    #[arg(long, default_value_t = 20)]
    pub conversations: usize,

    /// messages: messages each visitor sends, one after the other.
    #[arg(long, default_value_t = 40)]
    pub messages: usize,

    /// routing: agents AVAILABLE with chat capacity 25.
    #[arg(long, default_value_t = 4)]
    pub agents: usize,

    /// routing: conversations started (at most agents × 25).
    #[arg(long, default_value_t = 100)]
    pub starts: usize,

    /// routing: StartConversation calls in flight at once.
    #[arg(long, default_value_t = 20)]
    pub start_concurrency: usize,

    /// export: conversations seeded into the reporting read model.
    #[arg(long, default_value_t = 10000)]
    pub export_rows: usize,

    /// export: how the rows get into the read model: events (through
    /// ingestion), direct (inserted into reporting's database) or auto
    /// (direct above 20,000 rows).
    #[arg(long, value_enum, default_value_t = ExportSeed::Auto)]
    pub export_seed: ExportSeed,

    /// export: timed exports (and COPYs); the median is reported.
    #[arg(long, default_value_t = 3)]
    pub export_repeats: usize,

    /// blocks: CheckIdentities calls.
    #[arg(long, default_value_t = 5000)]
    pub checks: usize,

    /// blocks: calls in flight at once.
    #[arg(long, default_value_t = 16)]
    pub check_concurrency: usize,

    /// blocks: IP-range blocks created first, so the check runs against
    /// a non-empty table (every tenth check hits one).
    #[arg(long, default_value_t = 50)]
    pub ip_blocks: usize,

    /// Operations of each PostgreSQL baseline run.
    #[arg(long, default_value_t = 3000)]
    pub baseline_ops: usize,

    /// Longest wait for anything asynchronous (offers, deliveries, ingestion).
    #[arg(long, default_value_t = 60)]
    pub timeout_seconds: u64,
}
