//! `livedesk-bench`: the benchmark harness of DESIGN.md "Performance".
//! It drives the public gRPC APIs of a suite (running, or started
//! in-process with `--spawn`) along the four hot paths and measures each
//! against its physical limit on the same PostgreSQL in the same run,
//! printing the ratios. Figures are reported, never asserted.

pub mod baseline;
pub mod cli;
pub mod desk;
pub mod feed;
pub mod load;
pub mod machine;
pub mod memory;
pub mod report;
pub mod scenarios;
pub mod stats;
pub mod target;

use chrono::Utc;

use crate::baseline::Scratch;
use crate::cli::Cli;
use crate::report::{BenchResult, Machine, SuiteInfo, hide_password};
use crate::scenarios::Ctx;
use crate::target::Target;

/// Runs every requested scenario and returns the result (not yet written).
pub async fn run(cli: &Cli) -> anyhow::Result<BenchResult> {
    let started_at = Utc::now().to_rfc3339();
    eprintln!(
        "▶ {} the suite",
        if cli.spawn {
            "starting"
        } else {
            "connecting to"
        }
    );
    let target = Box::pin(Target::open(cli)).await?;
    // Each service's memory before any load (services as processes only).
    let idle = memory::of_services(&target);
    let concurrency = [
        cli.conversations,
        cli.start_concurrency,
        cli.check_concurrency,
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    let outcome = async {
        let scratch = Scratch::create(&target.database_server, concurrency as u32).await?;
        let machine = Machine::here(scratch.server_version().await);
        let ctx = Ctx {
            target: &target,
            cli,
            scratch: &scratch,
        };
        let mut scenarios = Vec::new();
        let mut failure = None;
        for scenario in &cli.scenarios {
            match scenarios::run(*scenario, &ctx).await {
                Ok(r) => scenarios.push(r),
                Err(e) => {
                    failure = Some(e.context(format!("scenario {}", scenario.name())));
                    break;
                }
            }
        }
        scratch.drop().await?;
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(BenchResult {
            started_at,
            mode: target.mode().to_owned(),
            machine,
            suite: SuiteInfo {
                database_server: hide_password(&target.database_server),
                nats_url: hide_password(&target.nats_url),
                prefix: target.prefix.clone(),
                reporting_database_known: target.reporting_database_url.is_some(),
            },
            params: cli.clone(),
            idle_memory: idle,
            scenarios,
        })
    }
    .await;
    target.stop().await?;
    outcome
}
