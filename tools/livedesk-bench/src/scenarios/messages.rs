//! A customer message from SendMessage to the agent's Subscribe stream.
//!
//! K conversations are made ACTIVE (started, offered, accepted), then K
//! visitors send M messages each, concurrently, each waiting for its RPC
//! before the next. Latency: SendMessage call → the message on the
//! agent's stream (matched by `client_message_id`). Rate: delivered
//! messages ÷ (last delivery − first send). Baseline: single-row INSERT
//! commits/s with the same concurrency K.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1::notification::Kind;
use livedeskctl::Clients;
use livedeskctl::tokens::authed;
use uuid::Uuid;

use super::Ctx;
use crate::desk::{self, MAX_CAPACITY};
use crate::feed::Feeds;
use crate::load::{drive, pace};
use crate::report::{HalfLoad, ScenarioResult};
use crate::stats::{Latency, matched, per_second};

/// One visitor in an ACTIVE conversation.
struct Chat {
    visitor: String,
    conversation_id: String,
}

/// Send instants by client message id, and each SendMessage's latency.
#[derive(Default)]
struct Sent {
    at: Mutex<HashMap<String, Instant>>,
    rpc: Mutex<Vec<Duration>>,
}

/// Runs the scenario.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<ScenarioResult> {
    let (k, m) = (ctx.cli.conversations.max(1), ctx.cli.messages.max(1));
    let clients = &ctx.target.clients;
    let mut feeds = Feeds::default();
    let chats = Arc::new(open_chats(ctx, k, &mut feeds).await?);
    eprintln!("▶ messages: {k} conversations ACTIVE, sending {m} messages each");

    let sent: Arc<Sent> = Arc::default();
    let sender = {
        let (clients, chats, sent) = (clients.clone(), chats.clone(), sent.clone());
        tokio::spawn(drive(k, k, move |i| {
            let (clients, chats, sent) = (clients.clone(), chats.clone(), sent.clone());
            async move {
                let chat = chats.get(i).ok_or_else(|| anyhow::anyhow!("no chat {i}"))?;
                for j in 0..m {
                    send(&clients, chat, &sent, MAX_RUN, Instant::now(), i, j).await?;
                }
                Ok(())
            }
        }))
    };
    let expected = k * m;
    let arrived = arrivals(&mut feeds, MAX_RUN, expected, ctx.deadline()).await;
    let rpc = sender.await?;
    let rpc_latency = sent.rpc.lock().ok().and_then(|r| Latency::of(&r));
    let measured = matched(
        &sent.at.lock().map(|s| s.clone()).unwrap_or_default(),
        &arrived,
    );
    let delivered = measured.latencies.len() as u64;
    let lost = (expected as u64).saturating_sub(delivered);
    let rate = per_second(delivered, measured.wall);

    // Half that rate, paced over the same conversations (the latency bar):
    // each message's latency runs from its scheduled send to the agent.
    let half_load = if rate > 0.0 {
        let half: Arc<Sent> = Arc::default();
        let n = expected.div_ceil(2);
        let pacer = {
            let (clients, chats, half) = (clients.clone(), chats.clone(), half.clone());
            tokio::spawn(pace(n, rate / 2.0, move |i, at| {
                let (clients, chats, half) = (clients.clone(), chats.clone(), half.clone());
                async move {
                    let chat = chats
                        .get(i % k)
                        .ok_or_else(|| anyhow::anyhow!("no chat {i}"))?;
                    send(&clients, chat, &half, HALF_RUN, at, i % k, i / k).await
                }
            }))
        };
        let arrived = arrivals(&mut feeds, HALF_RUN, n, ctx.deadline()).await;
        let paced = pacer.await?;
        let measured = matched(
            &half.at.lock().map(|s| s.clone()).unwrap_or_default(),
            &arrived,
        );
        Some(HalfLoad::of_matched(rate / 2.0, n, &paced, &measured))
    } else {
        None
    };
    let baseline = ctx.scratch.insert_rate(ctx.cli.baseline_ops, k).await;
    Ok(ScenarioResult {
        name: "messages",
        unit: "messages/s",
        ops: delivered,
        concurrency: k,
        wall_seconds: measured.wall.as_secs_f64(),
        rate_per_s: rate,
        latency: Latency::of(&measured.latencies),
        errors: lost,
        first_error: rpc.first_error.or_else(|| {
            (lost > 0).then(|| format!("{lost} message(s) not delivered to the agent in time"))
        }),
        baseline: None,
        ratio: None,
        half_load,
        extra: Default::default(),
    }
    .with("messages_per_conversation", m)
    .with("send_rpc_latency", rpc_latency)
    .with("visitor_send_loop_seconds", rpc.wall.as_secs_f64())
    .against(Some(baseline)))
}

/// Client message ids of the closed-loop run start with this…
const MAX_RUN: &str = "bench-m-";
/// …and those of the paced run with this.
const HALF_RUN: &str = "bench-h-";

/// When each message of a run (ids starting with `prefix`) reached an
/// agent, until `expected` arrived or `deadline`.
async fn arrivals(
    feeds: &mut Feeds,
    prefix: &str,
    expected: usize,
    deadline: tokio::time::Instant,
) -> HashMap<String, Instant> {
    let mut arrived: HashMap<String, Instant> = HashMap::with_capacity(expected);
    while arrived.len() < expected {
        let Some((at, n)) = feeds.next(deadline).await else {
            break;
        };
        if let Some(Kind::Message(msg)) = n.kind
            && msg.client_message_id.starts_with(prefix)
        {
            arrived.entry(msg.client_message_id).or_insert(at);
        }
    }
    arrived
}

/// Starts `k` conversations, accepts each offer as the agent it went to,
/// and waits until all are ACTIVE.
async fn open_chats(ctx: &Ctx<'_>, k: usize, feeds: &mut Feeds) -> anyhow::Result<Vec<Chat>> {
    let clients = &ctx.target.clients;
    let tokens = ctx.target.tokens();
    let agents = desk::ready_agents(clients, &tokens, 0, k.div_ceil(MAX_CAPACITY), feeds).await?;
    let by_id: HashMap<&str, &str> = agents
        .iter()
        .map(|a| (a.id.as_str(), a.token.as_str()))
        .collect();
    let mut chats = Vec::with_capacity(k);
    for i in 0..k {
        let visitor = desk::visitor(&tokens)?;
        let conversation_id = desk::start(clients, &visitor, i).await?;
        chats.push(Chat {
            visitor,
            conversation_id,
        });
    }
    let mut waiting: HashSet<&str> = chats.iter().map(|c| c.conversation_id.as_str()).collect();
    let mut accepted_by = Vec::with_capacity(k);
    let deadline = ctx.deadline();
    while !waiting.is_empty() {
        let Some((_, n)) = feeds.next(deadline).await else {
            anyhow::bail!("{} conversation(s) were never offered", waiting.len());
        };
        if let Some(Kind::Offer(offer)) = n.kind
            && waiting.remove(offer.conversation_id.as_str())
        {
            let token = by_id
                .get(offer.agent_id.as_str())
                .ok_or_else(|| anyhow::anyhow!("offer to unknown agent {}", offer.agent_id))?;
            desk::accept(clients, token, &offer.id).await?;
            accepted_by.push((offer.conversation_id, (*token).to_owned()));
        }
    }
    for (id, token) in &accepted_by {
        livedeskctl::demo::wait_status(
            clients,
            token,
            id,
            cnv::ConversationStatus::Active,
            ctx.timeout(),
        )
        .await?;
    }
    Ok(chats)
}

/// Sends message `j` of visitor `i` with an id starting with `prefix`;
/// its latency counts from `t0` (now, or its scheduled instant).
async fn send(
    clients: &Clients,
    chat: &Chat,
    sent: &Sent,
    prefix: &str,
    t0: Instant,
    i: usize,
    j: usize,
) -> anyhow::Result<()> {
    let id = format!("{prefix}{}", Uuid::now_v7().simple());
    if let Ok(mut s) = sent.at.lock() {
        s.insert(id.clone(), t0);
    }
    clients
        .conversations
        .clone()
        .send_message(authed(
            &chat.visitor,
            cnv::SendMessageRequest {
                conversation_id: chat.conversation_id.clone(),
                text: format!("bench message {j} of visitor {i}"),
                client_message_id: id,
                ..Default::default()
            },
        ))
        .await?;
    if let Ok(mut r) = sent.rpc.lock() {
        r.push(t0.elapsed());
    }
    Ok(())
}
