//! A routing deployment for load tests: several replicas on one database
//! and NATS prefix, an org with queues and many agents, and a dispatcher
//! that reads the routing stream once and hands each agent its events.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_nats::jetstream;
use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::EventType;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{RunningService, TestEnv};
use prost::Message;
use sea_orm::{Database, DatabaseConnection};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Client, client, req, start_with};

/// What the dispatcher tells an agent.
#[derive(Debug, Clone)]
pub enum Msg {
    Offer(Box<pb::Offer>),
    Rona,
    WrapUp(String),
}

/// One simulated agent.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub id: String,
    pub capacity: u32,
    pub queues: Vec<String>,
}

/// The deployment under test.
pub struct World {
    pub services: Vec<RunningService>,
    pub clients: Vec<Client>,
    pub org: Uuid,
    pub db: DatabaseConnection,
    pub agents: Vec<AgentSpec>,
    pub inboxes: HashMap<String, mpsc::UnboundedReceiver<Msg>>,
    pub seen: Seen,
}

/// What the dispatcher saw, shared with the test.
#[derive(Clone, Default)]
pub struct Seen {
    pub assigned: Arc<Mutex<HashSet<String>>>,
    /// When the first offer of each conversation was received.
    pub first_offer: Arc<Mutex<HashMap<String, Instant>>>,
    pub offers: Arc<std::sync::atomic::AtomicUsize>,
}

impl World {
    /// Starts `replicas` routing instances with `extra` settings.
    pub async fn start(env: &TestEnv, replicas: usize, extra: &[(&str, &str)]) -> Self {
        let mut services = Vec::new();
        let mut clients = Vec::new();
        for _ in 0..replicas {
            let s = start_with(env, extra).await;
            clients.push(client(&s).await);
            services.push(s);
        }
        let db = Database::connect(env.database_url("routing"))
            .await
            .unwrap();
        Self {
            services,
            clients,
            org: livedesk_testkit::new_org(),
            db,
            agents: Vec::new(),
            inboxes: HashMap::new(),
            seen: Seen::default(),
        }
    }

    /// The client of replica `i % replicas`.
    pub fn client(&self, i: usize) -> Client {
        self.clients[i % self.clients.len()].clone()
    }

    /// Registers the agents (admin upsert, several at once) and sets them
    /// AVAILABLE.
    pub async fn register(&mut self, env: &TestEnv, agents: Vec<AgentSpec>) {
        let org = self.org;
        let chunks: Vec<Vec<(usize, AgentSpec)>> = agents
            .iter()
            .cloned()
            .enumerate()
            .collect::<Vec<_>>()
            .chunks(25)
            .map(<[_]>::to_vec)
            .collect();
        for chunk in chunks {
            let futs = chunk.into_iter().map(|(i, a)| {
                let mut c = self.client(i);
                async move {
                    c.upsert_agent(req(
                        env,
                        org,
                        "boss",
                        Role::Admin,
                        pb::UpsertAgentRequest {
                            id: a.id.clone(),
                            display_name: a.id.clone(),
                            queue_ids: a.queues.clone(),
                            capacities: vec![pb::ChannelCapacity {
                                channel: 1,
                                capacity: a.capacity,
                            }],
                            ..Default::default()
                        },
                    ))
                    .await
                    .unwrap();
                    set_state(env, &mut c, org, &a.id, pb::AgentState::Available).await;
                }
            });
            futures::future::join_all(futs).await;
        }
        self.agents = agents;
    }

    /// Starts reading the routing stream, handing each agent its offers,
    /// RONA and wrap-ups. Call after [`Self::register`].
    pub async fn dispatch(&mut self, env: &TestEnv) {
        let mut senders = HashMap::new();
        for a in &self.agents {
            let (tx, rx) = mpsc::unbounded_channel();
            senders.insert(a.id.clone(), tx);
            self.inboxes.insert(a.id.clone(), rx);
        }
        let mut messages = stream_messages(env).await;
        let seen = self.seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = messages.next().await {
                let Ok(e) = EventEnvelope::decode(m.payload.as_ref()) else {
                    continue;
                };
                let p = e.payload.as_slice();
                let (to, msg) = if e.r#type == pb::OfferCreated::TYPE {
                    let Some(o) = pb::OfferCreated::decode(p).ok().and_then(|o| o.offer) else {
                        continue;
                    };
                    seen.offers
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    seen.first_offer
                        .lock()
                        .unwrap()
                        .entry(o.conversation_id.clone())
                        .or_insert_with(Instant::now);
                    (o.agent_id.clone(), Msg::Offer(Box::new(o)))
                } else if e.r#type == pb::AgentStateChanged::TYPE {
                    let Ok(s) = pb::AgentStateChanged::decode(p) else {
                        continue;
                    };
                    if s.to != pb::AgentState::Rona as i32 {
                        continue;
                    }
                    (s.agent_id, Msg::Rona)
                } else if e.r#type == pb::WrapUpStarted::TYPE {
                    let Ok(w) = pb::WrapUpStarted::decode(p) else {
                        continue;
                    };
                    (w.agent_id, Msg::WrapUp(w.conversation_id))
                } else if e.r#type == pb::ConversationAssigned::TYPE {
                    if let Ok(a) = pb::ConversationAssigned::decode(p) {
                        seen.assigned.lock().unwrap().insert(a.conversation_id);
                    }
                    continue;
                } else {
                    continue;
                };
                if let Some(tx) = senders.get(&to) {
                    let _ = tx.send(msg);
                }
            }
        });
    }
}

/// Sets an agent's state as that agent.
pub async fn set_state(env: &TestEnv, c: &mut Client, org: Uuid, id: &str, s: pb::AgentState) {
    let _ = c
        .set_agent_state(req(
            env,
            org,
            id,
            Role::Agent,
            pb::SetAgentStateRequest {
                state: s as i32,
                ..Default::default()
            },
        ))
        .await;
}

async fn stream_messages(env: &TestEnv) -> jetstream::consumer::pull::Stream {
    let js = jetstream::new(env.nats().await.unwrap());
    let subjects = Subjects::new(env.prefix.clone());
    livedesk_events::ensure_streams(&js, &subjects, &["routing"])
        .await
        .unwrap();
    let stream = js
        .get_stream(subjects.stream_name("routing"))
        .await
        .unwrap();
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    consumer.messages().await.unwrap()
}

/// Reads the whole routing stream as it is now (for the replay).
pub async fn read_stream(env: &TestEnv) -> Vec<EventEnvelope> {
    let js = jetstream::new(env.nats().await.unwrap());
    let subjects = Subjects::new(env.prefix.clone());
    let mut stream = js
        .get_stream(subjects.stream_name("routing"))
        .await
        .unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut messages = stream_messages(env).await;
    let mut out = Vec::new();
    while let Some(Ok(m)) = messages.next().await {
        let seq = m.info().map(|i| i.stream_sequence).unwrap_or(u64::MAX);
        if let Ok(e) = EventEnvelope::decode(m.payload.as_ref()) {
            out.push(e);
        }
        if seq >= last {
            break;
        }
    }
    out
}
