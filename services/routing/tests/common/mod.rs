//! Shared helpers of the routing integration tests: a running service,
//! clients with tokens, publishing conversation events as the
//! conversations service would, and a recorder of the routing stream.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::conversations::v1::{ConversationEnded, ConversationQueued};
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::routing::v1 as pb;
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_testkit::{RunningService, TestEnv, authed, spawn};
use prost::Message;
use tonic::transport::Channel;
use uuid::Uuid;

pub type Client = RoutingServiceClient<Channel>;

/// Starts one routing instance in `env`.
pub async fn start(env: &TestEnv) -> RunningService {
    spawn::<livedesk_routing::App>(&env.service_env("routing", &[]))
        .await
        .unwrap()
}

/// A client to `svc`.
pub async fn client(svc: &RunningService) -> Client {
    RoutingServiceClient::new(svc.channel().await.unwrap())
}

/// A request carrying a token for `sub` with `role` in `org`.
pub fn req<T>(env: &TestEnv, org: Uuid, sub: &str, role: Role, msg: T) -> tonic::Request<T> {
    authed(&env.token(org, sub, role), msg)
}

/// Registers `agent` (agent role) and sets them AVAILABLE.
pub async fn available(env: &TestEnv, c: &mut Client, org: Uuid, agent: &str) -> pb::Agent {
    c.set_agent_state(req(
        env,
        org,
        agent,
        Role::Agent,
        pb::SetAgentStateRequest {
            state: pb::AgentState::Available as i32,
            ..Default::default()
        },
    ))
    .await
    .unwrap()
    .into_inner()
}

/// Publishes `ConversationQueued` as the conversations service would.
pub async fn queue_conversation(env: &TestEnv, org: Uuid, queue_id: &str, customer: &str) -> Uuid {
    let conv = Uuid::now_v7();
    let event = ConversationQueued {
        conversation_id: conv.to_string(),
        queue_id: queue_id.to_owned(),
        customer_name: customer.to_owned(),
        channel: 1,
        first_messages: vec!["Hello, I need help".into()],
        proactive: false,
        created_at: Some(livedesk_platform::time::to_proto(
            chrono::Utc::now() - chrono::Duration::seconds(30),
        )),
        ..Default::default()
    };
    env.publish("conversations", org, &conv.to_string(), &event)
        .await
        .unwrap();
    conv
}

/// Publishes `ConversationEnded`.
pub async fn end_conversation(env: &TestEnv, org: Uuid, conv: Uuid) {
    let event = ConversationEnded {
        conversation_id: conv.to_string(),
        ..Default::default()
    };
    env.publish("conversations", org, &conv.to_string(), &event)
        .await
        .unwrap();
}

/// Everything published on the routing stream, in order.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<EventEnvelope>>>);

impl Recorder {
    /// Starts reading the routing stream from its beginning.
    pub async fn start(env: &TestEnv) -> Self {
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
        let mut messages = consumer.messages().await.unwrap();
        let rec = Self::default();
        let sink = rec.0.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = messages.next().await {
                if let Ok(env) = EventEnvelope::decode(m.payload.as_ref()) {
                    sink.lock().unwrap().push(env);
                }
            }
        });
        rec
    }

    /// Decoded payloads of every event of type `E` so far.
    pub fn all<E: livedesk_proto::EventType>(&self) -> Vec<E> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.r#type == E::TYPE)
            .filter_map(|e| E::decode(e.payload.as_slice()).ok())
            .collect()
    }

    /// Waits for an event of type `E` matching `pred`.
    pub async fn wait<E: livedesk_proto::EventType + Clone>(
        &self,
        what: &str,
        pred: impl Fn(&E) -> bool,
    ) -> E {
        livedesk_testkit::eventually(30, what, || {
            let found = self.all::<E>().into_iter().find(|e| pred(e));
            async move { found }
        })
        .await
        .unwrap()
    }
}

/// The offer of `conv` in an `OfferCreated` to `agent`.
pub async fn offer_to(rec: &Recorder, conv: Uuid, agent: &str) -> pb::Offer {
    let c = conv.to_string();
    let a = agent.to_owned();
    rec.wait::<pb::OfferCreated>("offer created", move |e| {
        e.offer
            .as_ref()
            .is_some_and(|o| o.conversation_id == c && o.agent_id == a)
    })
    .await
    .offer
    .unwrap()
}

/// Starts one routing instance with extra `LIVEDESK_ROUTING__*` settings.
pub async fn start_with(env: &TestEnv, extra: &[(&str, &str)]) -> RunningService {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    spawn::<livedesk_routing::App>(&env.service_env("routing", &extra))
        .await
        .unwrap()
}

/// Publishes any conversations event as the conversations service would.
pub async fn publish<E: livedesk_proto::EventType>(env: &TestEnv, org: Uuid, conv: Uuid, e: &E) {
    env.publish("conversations", org, &conv.to_string(), e)
        .await
        .unwrap();
}

/// A `ConversationQueued` with sensible defaults for `conv`.
pub fn queued_event(conv: Uuid, queue_id: &str, customer: &str) -> ConversationQueued {
    ConversationQueued {
        conversation_id: conv.to_string(),
        queue_id: queue_id.to_owned(),
        customer_name: customer.to_owned(),
        channel: 1,
        first_messages: vec!["Hello".into()],
        created_at: Some(livedesk_platform::time::to_proto(chrono::Utc::now())),
        ..Default::default()
    }
}

/// Creates a queue as an admin.
pub async fn create_queue(env: &TestEnv, c: &mut Client, org: Uuid, q: pb::Queue) -> pb::Queue {
    c.create_queue(req(
        env,
        org,
        "boss",
        Role::Admin,
        pb::CreateQueueRequest {
            queue: Some(q),
            ..Default::default()
        },
    ))
    .await
    .unwrap()
    .into_inner()
}

/// Accepts `offer` as `agent`.
pub async fn accept(
    env: &TestEnv,
    c: &mut Client,
    org: Uuid,
    agent: &str,
    offer: &pb::Offer,
) -> pb::Assignment {
    c.accept_offer(req(
        env,
        org,
        agent,
        Role::Agent,
        pb::AcceptOfferRequest {
            offer_id: offer.id.clone(),
        },
    ))
    .await
    .unwrap()
    .into_inner()
}

/// The agent as routing sees them now.
pub async fn agent(env: &TestEnv, c: &mut Client, org: Uuid, id: &str) -> pb::Agent {
    c.get_agent(req(
        env,
        org,
        "boss",
        Role::Supervisor,
        pb::GetAgentRequest { id: id.to_owned() },
    ))
    .await
    .unwrap()
    .into_inner()
}

/// The event type of a withdrawn offer (declared in events.proto; its
/// layout is OfferDeclined's).
pub const OFFER_WITHDRAWN: &str = "livedesk.routing.v1.OfferWithdrawn";

impl Recorder {
    /// Withdrawn offers so far, decoded with OfferDeclined's layout.
    pub fn withdrawn(&self) -> Vec<pb::OfferDeclined> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.r#type == OFFER_WITHDRAWN)
            .filter_map(|e| pb::OfferDeclined::decode(e.payload.as_slice()).ok())
            .collect()
    }

    /// Every envelope so far, in stream order.
    pub fn envelopes(&self) -> Vec<EventEnvelope> {
        self.0.lock().unwrap().clone()
    }

    /// Waits for a withdrawn offer of `conv` with `reason`.
    pub async fn wait_withdrawn(&self, conv: Uuid, reason: &str) -> pb::Offer {
        let c = conv.to_string();
        livedesk_testkit::eventually(30, "offer withdrawn", || {
            let found = self.withdrawn().into_iter().find(|w| {
                w.reason == reason && w.offer.as_ref().is_some_and(|o| o.conversation_id == c)
            });
            async move { found.and_then(|w| w.offer) }
        })
        .await
        .unwrap()
    }
}
pub mod invariants;
pub mod world;
