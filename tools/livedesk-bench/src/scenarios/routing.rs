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
use std::time::Instant;

use livedesk_proto::notifications::v1::notification::Kind;

use super::Ctx;
use crate::desk::{self, MAX_CAPACITY};
use crate::feed::Feeds;
use crate::load::{drive, pace};
use crate::report::{HalfLoad, ScenarioResult};
use crate::stats::{Latency, matched, per_second};

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
    desk::ready_agents(&clients, &tokens, 0, a, &mut feeds).await?;
    eprintln!("▶ routing: {a} agents AVAILABLE, starting {e} conversations ({c} at once)");

    // Start instants by conversation id (known once each call returns).
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let starter = {
        let (clients, tokens, started) = (clients.clone(), tokens.clone(), started.clone());
        tokio::spawn(drive(e, c, move |i| {
            let (clients, tokens, started) = (clients.clone(), tokens.clone(), started.clone());
            async move { start(&clients, &tokens, &started, Instant::now(), i).await }
        }))
    };
    let offered = offers(&mut feeds, e, ctx.deadline()).await;
    let rpc = starter.await?;
    let measured = matched(
        &started.lock().map(|s| s.clone()).unwrap_or_default(),
        &offered,
    );
    let ok = measured.latencies.len() as u64;
    let missing = (e as u64).saturating_sub(ok);
    let rate = per_second(ok, measured.wall);

    // Half that rate, paced, to agents of their own (the first ones are
    // full): each latency runs from the scheduled start to the offer.
    let half_load = if rate > 0.0 {
        let n = e.div_ceil(2);
        desk::ready_agents(&clients, &tokens, a, n.div_ceil(MAX_CAPACITY), &mut feeds).await?;
        let half: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let pacer = {
            let (clients, tokens, half) = (clients.clone(), tokens.clone(), half.clone());
            tokio::spawn(pace(n, rate / 2.0, move |i, at| {
                let (clients, tokens, half) = (clients.clone(), tokens.clone(), half.clone());
                async move { start(&clients, &tokens, &half, at, e + i).await }
            }))
        };
        let offered = offers(&mut feeds, n, ctx.deadline()).await;
        let paced = pacer.await?;
        let measured = matched(
            &half.lock().map(|s| s.clone()).unwrap_or_default(),
            &offered,
        );
        Some(HalfLoad::of_matched(rate / 2.0, n, &paced, &measured))
    } else {
        None
    };
    let baseline = ctx.scratch.insert_rate(ctx.cli.baseline_ops, c).await;
    Ok(ScenarioResult {
        name: "routing",
        unit: "offers/s",
        ops: ok,
        concurrency: c,
        wall_seconds: measured.wall.as_secs_f64(),
        rate_per_s: rate,
        latency: Latency::of(&measured.latencies),
        errors: missing,
        first_error: rpc.first_error.or_else(|| {
            (missing > 0).then(|| format!("{missing} conversation(s) not offered in time"))
        }),
        baseline: None,
        ratio: None,
        half_load,
        extra: Default::default(),
    }
    .with("agents", a)
    .with("start_rpc_latency", Latency::of(&rpc.latencies))
    .against(Some(baseline)))
}

/// Starts conversation `i` as a new visitor; records `t0` (now, or its
/// scheduled instant) under the conversation's id.
async fn start(
    clients: &livedeskctl::Clients,
    tokens: &livedeskctl::Tokens,
    started: &Mutex<HashMap<String, Instant>>,
    t0: Instant,
    i: usize,
) -> anyhow::Result<()> {
    let visitor = desk::visitor(tokens)?;
    let id = desk::start(clients, &visitor, i).await?;
    if let Ok(mut s) = started.lock() {
        s.insert(id, t0);
    }
    Ok(())
}

/// When each of the next `expected` conversations was offered, until
/// `deadline`. The org is new: every offer on these feeds is one of ours.
async fn offers(
    feeds: &mut Feeds,
    expected: usize,
    deadline: tokio::time::Instant,
) -> HashMap<String, Instant> {
    let mut offered: HashMap<String, Instant> = HashMap::with_capacity(expected);
    while offered.len() < expected {
        let Some((at, n)) = feeds.next(deadline).await else {
            break;
        };
        if let Some(Kind::Offer(offer)) = n.kind {
            offered.entry(offer.conversation_id).or_insert(at);
        }
    }
    offered
}
