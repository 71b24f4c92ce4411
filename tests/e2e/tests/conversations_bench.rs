//! In-repo measurement of the conversations hot path (ARCHITECTURE
//! "Performance"): customer messages from `SendMessage` to the agent's
//! `Subscribe` stream, end to end through conversations → outbox →
//! JetStream → notifications, with the single-row INSERT commit rate of
//! the same PostgreSQL, same concurrency, in the same run for comparison.
//! Measures and prints; asserts nothing about time (DESIGN: timing goals
//! belong to the benchmark harness). Run with:
//! `cargo nextest run -p livedesk-e2e --run-ignored only -E 'binary(conversations_bench)' --no-capture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use livedesk_auth::Role;
use livedesk_e2e::Suite;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::routing::v1 as rtg;
use livedeskctl::tokens::authed;
use sea_orm::ConnectionTrait;

/// Conversations talking at once (the agent's default chat capacity).
const CONVERSATIONS: usize = 4;
/// Messages each customer sends, one after the other.
const MESSAGES: usize = 150;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Single-row INSERT commits per second with `tasks` concurrent writers.
async fn insert_rate(url: &str, tasks: usize, per_task: usize) -> f64 {
    let db = livedesk_platform::db::connect(url).await.unwrap();
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS bench_inserts (id bigserial PRIMARY KEY, conversation_id uuid, body text, at timestamptz DEFAULT now())",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..per_task {
                db.execute_raw(livedesk_platform::db::stmt(
                    "INSERT INTO bench_inserts (conversation_id, body) VALUES ($1, $2)",
                    [uuid::Uuid::now_v7().into(), format!("message {i}").into()],
                ))
                .await
                .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    (tasks * per_task) as f64 / started.elapsed().as_secs_f64()
}

// No spec tag: an ignored measurement that asserts nothing; CNV-4 is
// proven by the skeleton.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measurement: run explicitly, prints figures"]
async fn messages_from_send_to_the_agents_stream() {
    let suite = Suite::start().await.unwrap();
    let tokens = suite.tokens();
    let c = &suite.clients;
    let agent = tokens
        .mint("agent-bench", Role::Agent, Some("Bench Agent"))
        .unwrap();
    c.routing
        .clone()
        .set_agent_state(authed(
            &agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                display_name: "Bench Agent".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let mut feed = livedesk_e2e::subscribe(c, &agent, false).await.unwrap();

    // Open the conversations and accept every offer.
    let mut visitors = Vec::new();
    for i in 0..CONVERSATIONS {
        let visitor = tokens
            .mint(&format!("bench-visitor-{i}"), Role::Visitor, None)
            .unwrap();
        let resp = c
            .conversations
            .clone()
            .start_conversation(authed(
                &visitor,
                cnv::StartConversationRequest {
                    channel: Channel::WebChat as i32,
                    first_message: "hello".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let Some(cnv::start_conversation_response::Outcome::Conversation(conv)) = resp.outcome
        else {
            panic!("no conversation: {resp:?}");
        };
        let offer = loop {
            let n = tokio::time::timeout(Duration::from_secs(30), feed.message())
                .await
                .expect("offer in time")
                .unwrap()
                .unwrap();
            if let Some(Kind::Offer(o)) = n.kind
                && o.conversation_id == conv.id
            {
                break o;
            }
        };
        c.routing
            .clone()
            .accept_offer(authed(
                &agent,
                rtg::AcceptOfferRequest { offer_id: offer.id },
            ))
            .await
            .unwrap();
        visitors.push((visitor, conv.id));
    }
    for (_, id) in &visitors {
        livedesk_testkit::eventually(20, "active", || async {
            let conv = c
                .conversations
                .clone()
                .get_conversation(authed(
                    &agent,
                    cnv::GetConversationRequest { id: id.clone() },
                ))
                .await
                .ok()?
                .into_inner();
            (conv.status == cnv::ConversationStatus::Active as i32).then_some(())
        })
        .await
        .unwrap();
    }

    // The agent's receiver records when each text arrives.
    let total = CONVERSATIONS * MESSAGES;
    let receiver = tokio::spawn(async move {
        let mut arrived: HashMap<String, Instant> = HashMap::with_capacity(total);
        while arrived.len() < total {
            match tokio::time::timeout(Duration::from_secs(30), feed.message()).await {
                Ok(Ok(Some(n))) => {
                    if let Some(Kind::Message(m)) = n.kind
                        && m.text.starts_with("bench ")
                    {
                        arrived.insert(m.text, Instant::now());
                    }
                }
                _ => break,
            }
        }
        arrived
    });

    let started = Instant::now();
    let mut senders = Vec::new();
    for (i, (visitor, id)) in visitors.into_iter().enumerate() {
        let mut client = c.conversations.clone();
        senders.push(tokio::spawn(async move {
            let mut sent = Vec::with_capacity(MESSAGES);
            for k in 0..MESSAGES {
                let text = format!("bench {i} {k}");
                let at = Instant::now();
                client
                    .send_message(authed(
                        &visitor,
                        cnv::SendMessageRequest {
                            conversation_id: id.clone(),
                            text: text.clone(),
                            ..Default::default()
                        },
                    ))
                    .await
                    .unwrap();
                sent.push((text, at));
            }
            sent
        }));
    }
    let mut sent = Vec::with_capacity(total);
    for s in senders {
        sent.extend(s.await.unwrap());
    }
    let send_done = started.elapsed();
    let arrived = receiver.await.unwrap();
    let last = arrived.values().max().copied().unwrap_or_else(Instant::now);
    let end_to_end = last.duration_since(started);
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(t, at)| arrived.get(t).map(|r| r.duration_since(*at)))
        .collect();
    latencies.sort();

    let inserts = insert_rate(
        &suite.env.database_url("conversations"),
        CONVERSATIONS,
        MESSAGES,
    )
    .await;
    let rate = arrived.len() as f64 / end_to_end.as_secs_f64();
    println!(
        "conversations bench ({CONVERSATIONS} conversations x {MESSAGES} messages, one agent)"
    );
    println!("  delivered            {} / {total}", arrived.len());
    println!(
        "  SendMessage done in  {:.2} s ({:.0} msg/s accepted)",
        send_done.as_secs_f64(),
        total as f64 / send_done.as_secs_f64()
    );
    println!(
        "  end to end           {rate:.0} msg/s (last arrival {:.2} s)",
        end_to_end.as_secs_f64()
    );
    println!(
        "  latency send->stream p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "  single-row INSERT    {inserts:.0} commits/s (same PostgreSQL, {CONVERSATIONS} writers)"
    );
    println!(
        "  ratio                {:.2} (end-to-end msg/s / INSERT commits/s)",
        rate / inserts
    );
    suite.stop().await.unwrap();
}
