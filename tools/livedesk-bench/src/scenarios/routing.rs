//! An enqueue to an offer: StartConversation → the offer on an agent's
//! Subscribe stream.
//!
//! A agents with capacity 25 are AVAILABLE; E conversations are started
//! with C calls in flight. Latency: StartConversation call → the offer
//! (matched by conversation id once the call returned it). Rate: offers ÷
//! (last offer − first start). Baseline: single-row INSERT commits/s with
//! the same concurrency C.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use livedesk_proto::notifications::v1::notification::Kind;

use super::Ctx;
use crate::desk::{self, MAX_CAPACITY};
use crate::feed::Feeds;
use crate::load::drive;
use crate::report::ScenarioResult;
use crate::stats::{Latency, per_second};

/// Runs the scenario.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<ScenarioResult> {
    let (a, e, c) = (
        ctx.cli.agents.max(1),
        ctx.cli.starts.max(1),
        ctx.cli.start_concurrency.max(1),
    );
    if e > a * MAX_CAPACITY {
        anyhow::bail!(
            "--starts {e} exceeds what {a} agent(s) of capacity {MAX_CAPACITY} can be offered at once"
        );
    }
    let clients = ctx.target.clients.clone();
    let tokens = Arc::new(ctx.target.tokens());
    let mut feeds = Feeds::default();
    desk::ready_agents(&clients, &tokens, a, &mut feeds).await?;
    eprintln!("▶ routing: {a} agents AVAILABLE, starting {e} conversations ({c} at once)");

    // Start instants by conversation id (known once each call returns).
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let starter = {
        let started = started.clone();
        tokio::spawn(drive(e, c, move |i| {
            let (clients, tokens, started) = (clients.clone(), tokens.clone(), started.clone());
            async move {
                let visitor = desk::visitor(&tokens)?;
                let t0 = Instant::now();
                let id = desk::start(&clients, &visitor, i).await?;
                if let Ok(mut s) = started.lock() {
                    s.insert(id, t0);
                }
                Ok(())
            }
        }))
    };

    // The org is new: every offer on these feeds is one of ours.
    let mut offered: HashMap<String, Instant> = HashMap::with_capacity(e);
    let deadline = ctx.deadline();
    while offered.len() < e {
        let Some((at, n)) = feeds.next(deadline).await else {
            break;
        };
        if let Some(Kind::Offer(offer)) = n.kind {
            offered.entry(offer.conversation_id).or_insert(at);
        }
    }
    let rpc = starter.await?;
    let started = started.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latencies = Vec::with_capacity(e);
    let mut last = None::<Instant>;
    for (id, t0) in &started {
        if let Some(at) = offered.get(id) {
            latencies.push(at.saturating_duration_since(*t0));
            last = last.max(Some(*at));
        }
    }
    let wall = match (started.values().min(), last) {
        (Some(f), Some(l)) => l.saturating_duration_since(*f),
        _ => Duration::ZERO,
    };
    let ok = latencies.len() as u64;
    let missing = (e as u64).saturating_sub(ok);
    let baseline = ctx.scratch.insert_rate(ctx.cli.baseline_ops, c).await;
    Ok(ScenarioResult {
        name: "routing",
        unit: "offers/s",
        ops: ok,
        concurrency: c,
        wall_seconds: wall.as_secs_f64(),
        rate_per_s: per_second(ok, wall),
        latency: Latency::of(&latencies),
        errors: missing,
        first_error: rpc.first_error.or_else(|| {
            (missing > 0).then(|| format!("{missing} conversation(s) not offered in time"))
        }),
        baseline: None,
        ratio: None,
        extra: Default::default(),
    }
    .with("agents", a)
    .with("start_rpc_latency", Latency::of(&rpc.latencies))
    .against(Some(baseline)))
}
