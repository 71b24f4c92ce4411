//! Measurement, not assertion (DESIGN: timing goals are measured, never
//! asserted): offers per second and enqueue → offer latency with many
//! agents and three replicas. Run with
//! `cargo nextest run -p livedesk-routing --test bench --run-ignored only --no-capture`.
//! `LIVEDESK_BENCH_AGENTS` (default 1000), `LIVEDESK_BENCH_REPLICAS` (3),
//! `LIVEDESK_BENCH_BURST` (2000), `LIVEDESK_BENCH_RATE` (50 per second for
//! the latency phase, 10 s).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::world::{AgentSpec, Msg, World};
use crate::common::*;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::conversations::v1::ConversationEnded;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, authed, eventually};
use uuid::Uuid;

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Publishes `convs` and returns their publish instants.
async fn enqueue(env: &TestEnv, org: Uuid, convs: &[Uuid]) -> HashMap<String, Instant> {
    let mut sent = HashMap::new();
    for chunk in convs.chunks(100) {
        let futs = chunk.iter().map(|c| {
            let e = queued_event(*c, "", "Customer");
            async move {
                let t = Instant::now();
                publish(env, org, *c, &e).await;
                (c.to_string(), t)
            }
        });
        sent.extend(futures::future::join_all(futs).await);
    }
    sent
}

fn latencies(world: &World, sent: &HashMap<String, Instant>) -> Vec<Duration> {
    let first = world.seen.first_offer.lock().unwrap();
    let mut v: Vec<Duration> = sent
        .iter()
        .filter_map(|(c, t)| first.get(c).map(|o| o.saturating_duration_since(*t)))
        .collect();
    v.sort();
    v
}

// Measures RTG-4/RTG-6 throughput; asserts nothing about time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measurement: run on demand"]
async fn measure_offers_per_second_and_enqueue_to_offer_latency() {
    let n_agents = env_or("LIVEDESK_BENCH_AGENTS", 1000);
    let replicas = env_or("LIVEDESK_BENCH_REPLICAS", 3);
    let burst = env_or("LIVEDESK_BENCH_BURST", 2000);
    let rate = env_or("LIVEDESK_BENCH_RATE", 50);
    let env = TestEnv::new().await.unwrap();
    let mut world = World::start(
        &env,
        replicas,
        &[("LIVEDESK_ROUTING__ROUTING_SWEEP_MS", "1000")],
    )
    .await;
    let org = world.org;
    let general = livedesk_platform::defaults::default_queue_id(org).to_string();
    let t = Instant::now();
    let specs: Vec<AgentSpec> = (0..n_agents)
        .map(|i| AgentSpec {
            id: format!("agent-{i:04}"),
            capacity: 2,
            queues: vec![general.clone()],
        })
        .collect();
    world.register(&env, specs.clone()).await;
    println!("bench: registered {n_agents} agents in {:.1?}", t.elapsed());
    world.dispatch(&env).await;

    // Agents accept at once, the conversation ends at once, wrap-up at once:
    // capacity recycles and routing is the bottleneck being measured.
    let js = async_nats::jetstream::new(env.nats().await.unwrap());
    let subjects = Subjects::new(env.prefix.clone());
    for (i, a) in specs.iter().enumerate() {
        let mut rx = world.inboxes.remove(&a.id).unwrap();
        let token = env.token(org, &a.id, Role::Agent);
        let c = world.client(i);
        let (js, subjects) = (js.clone(), subjects.clone());
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                let mut c = c.clone();
                let token = token.clone();
                let (js, subjects) = (js.clone(), subjects.clone());
                tokio::spawn(async move {
                    match msg {
                        Msg::Offer(o) => {
                            let a = pb::AcceptOfferRequest {
                                offer_id: o.id.clone(),
                            };
                            if c.accept_offer(authed(&token, a)).await.is_ok() {
                                let e = ConversationEnded {
                                    conversation_id: o.conversation_id.clone(),
                                    ..Default::default()
                                };
                                let _ = livedesk_events::publish_direct(
                                    &js,
                                    &subjects,
                                    "conversations",
                                    org,
                                    &o.conversation_id,
                                    &e,
                                )
                                .await;
                            }
                        }
                        Msg::WrapUp(conv) => {
                            let w = pb::SubmitWrapUpRequest {
                                conversation_id: conv,
                                code: "resolved".into(),
                            };
                            let _ = c.submit_wrap_up(authed(&token, w)).await;
                        }
                        Msg::Rona => {}
                    }
                });
            }
        });
    }

    // Phase 1: a burst larger than the free capacity; offers per second.
    let convs: Vec<Uuid> = (0..burst).map(|_| Uuid::now_v7()).collect();
    let start = Instant::now();
    let sent = enqueue(&env, org, &convs).await;
    let publish_time = start.elapsed();
    let seen = world.seen.clone();
    eventually(600, "every burst conversation offered", || {
        let n = {
            let f = seen.first_offer.lock().unwrap();
            convs
                .iter()
                .filter(|c| f.contains_key(&c.to_string()))
                .count()
        };
        let total = convs.len();
        async move { (n == total).then_some(()) }
    })
    .await
    .unwrap();
    let burst_time = start.elapsed();
    let offers = world.seen.offers.load(Ordering::Relaxed);
    let lat = latencies(&world, &sent);

    // Phase 2: a steady arrival rate well below saturation; latency.
    let before = world.seen.offers.load(Ordering::Relaxed);
    let mut steady = HashMap::new();
    let tick = Duration::from_millis(100);
    let per_tick = (rate / 10).max(1);
    let t2 = Instant::now();
    while t2.elapsed() < Duration::from_secs(10) {
        let batch: Vec<Uuid> = (0..per_tick).map(|_| Uuid::now_v7()).collect();
        steady.extend(enqueue(&env, org, &batch).await);
        tokio::time::sleep(tick).await;
    }
    let seen = world.seen.clone();
    let keys: Vec<String> = steady.keys().cloned().collect();
    eventually(120, "every steady conversation offered", || {
        let n = {
            let f = seen.first_offer.lock().unwrap();
            keys.iter().filter(|c| f.contains_key(*c)).count()
        };
        let total = keys.len();
        async move { (n == total).then_some(()) }
    })
    .await
    .unwrap();
    let steady_lat = latencies(&world, &steady);
    let steady_offers = world.seen.offers.load(Ordering::Relaxed) - before;
    let report = Arc::new(format!(
        "bench: {n_agents} agents (capacity 2), {replicas} replicas, 2 cores\n\
         burst: {burst} conversations published in {publish_time:.2?}, all offered after {burst_time:.2?} \
         -> {:.0} first offers/s ({offers} offers incl. re-offers)\n\
         burst enqueue->offer latency: p50 {:.0?} p99 {:.0?} max {:.0?}\n\
         steady {rate}/s for 10 s: {} conversations, {steady_offers} offers, latency p50 {:.1?} p99 {:.1?} max {:.1?}",
        burst as f64 / burst_time.as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or_default(),
        steady.len(),
        percentile(&steady_lat, 0.5),
        percentile(&steady_lat, 0.99),
        steady_lat.last().copied().unwrap_or_default(),
    ));
    println!("{report}");
}
