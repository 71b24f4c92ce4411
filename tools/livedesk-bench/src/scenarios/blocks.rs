//! A block check: CheckIdentities, the question asked before a
//! conversation starts and a message is delivered.
//!
//! `--ip-blocks` IP ranges are blocked first so the check searches a
//! non-empty table; then N checks (a web-visitor id, an email and an IP
//! each; every tenth IP inside a blocked range) run with C in flight.
//! Baseline: single-row indexed SELECTs/s with the same concurrency.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use livedesk_auth::Role;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::blocking::v1::{BlockIpRequest, CheckIdentitiesRequest};
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
use livedeskctl::tokens::authed;
use tonic::transport::Channel;

use super::Ctx;
use crate::load::{drive, pace};
use crate::report::{HalfLoad, ScenarioResult};
use crate::stats::{Latency, per_second};

/// Runs the scenario.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<ScenarioResult> {
    let (n, c, blocks) = (
        ctx.cli.checks.max(1),
        ctx.cli.check_concurrency.max(1),
        ctx.cli.ip_blocks.min(250),
    );
    let clients = ctx.target.clients.clone();
    let tokens = ctx.target.tokens();
    let agent = Arc::new(tokens.mint("bench-agent", Role::Agent, Some("Bench Agent"))?);
    eprintln!("▶ blocks: {blocks} IP blocks, then {n} checks ({c} at once)");
    for b in 0..blocks {
        clients
            .blocking
            .clone()
            .block_ip(authed(
                &agent,
                BlockIpRequest {
                    ip_cidr: format!("10.{b}.0.0/16"),
                    expires_at: Some(to_proto(Utc::now() + chrono::Duration::hours(1))),
                    reason: "benchmark".into(),
                },
            ))
            .await?;
    }

    let hits = Arc::new(AtomicU64::new(0));
    let run = {
        let (clients, agent, hits) = (clients.clone(), agent.clone(), hits.clone());
        drive(n, c, move |i| {
            let (blocking, agent, hits) = (clients.blocking.clone(), agent.clone(), hits.clone());
            async move {
                if check(blocking, &agent, blocks, i).await? {
                    hits.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        })
        .await
    };
    // The same checks at half that rate, paced (the latency bar).
    let half_rate = per_second(run.ok(), run.wall) / 2.0;
    let half_load = if half_rate > 0.0 {
        let half = pace(n.div_ceil(2), half_rate, move |i, _| {
            let (blocking, agent) = (clients.blocking.clone(), agent.clone());
            async move {
                check(blocking, &agent, blocks, i).await?;
                Ok(())
            }
        })
        .await;
        Some(HalfLoad::of(half_rate, &half))
    } else {
        None
    };
    let expected_hits = if blocks > 0 { n.div_ceil(10) } else { 0 } as u64;
    let hits = hits.load(Ordering::Relaxed);
    let baseline = ctx.scratch.select_rate(ctx.cli.baseline_ops, c).await;
    Ok(ScenarioResult {
        name: "blocks",
        unit: "checks/s",
        ops: run.ok(),
        concurrency: c,
        wall_seconds: run.wall.as_secs_f64(),
        rate_per_s: per_second(run.ok(), run.wall),
        latency: Latency::of(&run.latencies),
        errors: run.errors,
        first_error: run.first_error.or_else(|| {
            (hits != expected_hits && run.errors == 0)
                .then(|| format!("{hits} checks blocked, {expected_hits} expected"))
        }),
        baseline: None,
        ratio: None,
        half_load,
        extra: Default::default(),
    }
    .with("ip_blocks", blocks)
    .with("blocked_answers", hits)
    .with("expected_blocked_answers", expected_hits)
    .against(Some(baseline)))
}

/// Check `i`: a web-visitor id, an email and an IP, every tenth IP inside
/// a blocked range (when there are `blocks`). Whether it was blocked.
async fn check(
    mut blocking: BlockingServiceClient<Channel>,
    agent: &str,
    blocks: usize,
    i: usize,
) -> anyhow::Result<bool> {
    let ip = if blocks > 0 && i.is_multiple_of(10) {
        format!("10.{}.1.2", (i / 10) % blocks)
    } else {
        format!("192.0.2.{}", i % 250)
    };
    let resp = blocking
        .check_identities(authed(
            agent,
            CheckIdentitiesRequest {
                identities: vec![
                    CustomerIdentity {
                        kind: IdentityKind::WebVisitor as i32,
                        value: format!("visitor-bench-{i}"),
                    },
                    CustomerIdentity {
                        kind: IdentityKind::Email as i32,
                        value: format!("customer{i}@example.com"),
                    },
                ],
                ip_address: ip,
            },
        ))
        .await?
        .into_inner();
    Ok(resp.blocked)
}
