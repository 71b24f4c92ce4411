//! Shared harness: real PostgreSQL and NATS through testkit, the real
//! scheduling service and its two real peers, routing (`GetQueueStatus`:
//! a queue is staffed when one of its members is AVAILABLE) and blocking
//! (`CheckIdentities`). A block of a customer's identities needs the
//! conversation it was made in, so [`World::with_conversations`] adds the
//! real conversations service too; IP blocks need none.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
use chrono::Utc;
use livedesk_auth::Role;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1 as bpb;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::common::v1::{Channel as ChatChannel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as cpb;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::routing::v1 as rpb;
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_proto::scheduling::v1 as pb;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use livedesk_testkit::{RunningService, TestEnv, authed, new_org, spawn};
use tonic::transport::Channel;
use uuid::Uuid;

/// The routing agent whose state makes a queue staffed or not.
pub const AGENT: &str = "agent-1";

/// A URL nothing listens on: a port that was free a moment ago.
pub fn nowhere() -> String {
    format!(
        "http://127.0.0.1:{}",
        livedesk_testkit::reserve_port().unwrap()
    )
}

/// The real routing service.
pub async fn spawn_routing(env: &TestEnv) -> RunningService {
    spawn::<livedesk_routing::App>(&env.service_env("routing", &[]))
        .await
        .unwrap()
}

/// The real blocking service, asking `conversations_url` for a blocked
/// customer's identities.
pub async fn spawn_blocking(env: &TestEnv, conversations_url: &str) -> RunningService {
    spawn::<livedesk_blocking::App>(&env.service_env(
        "blocking",
        &[(
            "LIVEDESK_BLOCKING__CONVERSATIONS_URL".into(),
            conversations_url.into(),
        )],
    ))
    .await
    .unwrap()
}

/// One test's world.
pub struct World {
    pub env: TestEnv,
    /// The scheduling service under test.
    pub svc: RunningService,
    pub routing: RunningService,
    pub blocking: RunningService,
    /// Only in [`World::with_conversations`].
    pub conversations: Option<RunningService>,
    pub org: Uuid,
}

pub fn scheduling_env(env: &TestEnv, routing_url: &str, ttl_ms: u64) -> livedesk_platform::Env {
    scheduling_env_with(env, routing_url, "http://127.0.0.1:9", ttl_ms)
}

pub fn scheduling_env_with(
    env: &TestEnv,
    routing_url: &str,
    blocking_url: &str,
    ttl_ms: u64,
) -> livedesk_platform::Env {
    env.service_env(
        "scheduling",
        &[
            (
                "LIVEDESK_SCHEDULING__BLOCKING_URL".into(),
                blocking_url.into(),
            ),
            (
                "LIVEDESK_SCHEDULING__ROUTING_URL".into(),
                routing_url.into(),
            ),
            (
                "LIVEDESK_SCHEDULING__CACHE_TTL_MS".into(),
                ttl_ms.to_string(),
            ),
            (
                "LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS".into(),
                "200".into(),
            ),
        ],
    )
}

impl World {
    /// Routing, blocking (its conversations peer down: only IP blocks can
    /// be made) and scheduling.
    pub async fn new() -> Self {
        Self::start(false).await
    }

    /// As [`World::new`], with the real conversations service, so a
    /// customer's identities can be blocked (`BlockCustomer`).
    pub async fn with_conversations() -> Self {
        Self::start(true).await
    }

    async fn start(conversations: bool) -> Self {
        let env = TestEnv::new().await.unwrap();
        // Blocking and conversations call each other: reserve a port first.
        let conversations_port = livedesk_testkit::reserve_port().unwrap();
        let routing = spawn_routing(&env).await;
        let blocking =
            spawn_blocking(&env, &format!("http://127.0.0.1:{conversations_port}")).await;
        let svc = spawn::<livedesk_scheduling::App>(&scheduling_env_with(
            &env,
            &routing.url(),
            &blocking.url(),
            5000,
        ))
        .await
        .unwrap();
        let conversations = if conversations {
            let dir = std::env::temp_dir()
                .join(format!("livedesk-scheduling-attachments-{}", env.prefix))
                .display()
                .to_string();
            Some(
                spawn::<livedesk_conversations::App>(&env.service_env(
                    "conversations",
                    &[
                        (
                            "LIVEDESK_CONVERSATIONS__GRPC_ADDR".into(),
                            format!("127.0.0.1:{conversations_port}"),
                        ),
                        (
                            "LIVEDESK_CONVERSATIONS__BLOCKING_URL".into(),
                            blocking.url(),
                        ),
                        ("LIVEDESK_CONVERSATIONS__SCHEDULING_URL".into(), svc.url()),
                        ("LIVEDESK_CONVERSATIONS__ROUTING_URL".into(), routing.url()),
                        ("LIVEDESK_CONVERSATIONS__ATTACHMENTS_DIR".into(), dir),
                    ],
                ))
                .await
                .unwrap(),
            )
        } else {
            None
        };
        let w = Self {
            env,
            svc,
            routing,
            blocking,
            conversations,
            org: new_org(),
        };
        // Registers the agent (a member of the default queue), not staffed.
        w.set_staffed(false).await;
        w
    }

    pub async fn client(&self) -> SchedulingServiceClient<Channel> {
        SchedulingServiceClient::new(self.svc.channel().await.unwrap())
    }

    pub async fn routing_client(&self) -> RoutingServiceClient<Channel> {
        RoutingServiceClient::new(self.routing.channel().await.unwrap())
    }

    pub async fn blocking_client(&self) -> BlockingServiceClient<Channel> {
        BlockingServiceClient::new(self.blocking.channel().await.unwrap())
    }

    pub fn token(&self, role: Role) -> String {
        self.env
            .token(self.org, &format!("{}-1", role.as_str()), role)
    }

    pub fn admin<T>(&self, msg: T) -> tonic::Request<T> {
        authed(&self.token(Role::Admin), msg)
    }

    /// Puts [`AGENT`] AVAILABLE (staffed) or OFFLINE through routing's API:
    /// it is a member of the default queue and of every [`World::queue`].
    pub async fn set_staffed(&self, staffed: bool) {
        let state = if staffed {
            rpb::AgentState::Available
        } else {
            rpb::AgentState::Offline
        };
        self.routing_client()
            .await
            .set_agent_state(authed(
                &self.env.token(self.org, AGENT, Role::Agent),
                rpb::SetAgentStateRequest {
                    state: state as i32,
                    display_name: "Ada".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
    }

    /// A new routing queue of the org with [`AGENT`] as its member.
    pub async fn queue(&self) -> Uuid {
        let q = self
            .routing_client()
            .await
            .create_queue(self.admin(rpb::CreateQueueRequest {
                queue: Some(rpb::Queue {
                    name: format!("Queue {}", Uuid::now_v7().simple()),
                    member_agent_ids: vec![AGENT.into()],
                    ..Default::default()
                }),
                client_request_id: String::new(),
            }))
            .await
            .unwrap()
            .into_inner();
        q.id.parse().unwrap()
    }

    /// Blocks `cidr` for an hour (BLK-9) and returns the block.
    pub async fn block_ip(&self, cidr: &str) -> bpb::Block {
        self.blocking_client()
            .await
            .block_ip(authed(
                &self.token(Role::Agent),
                bpb::BlockIpRequest {
                    ip_cidr: cidr.into(),
                    expires_at: Some(to_proto(Utc::now() + chrono::Duration::hours(1))),
                    reason: "spam".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    /// Blocks the customer of a web chat whose one identity is the email
    /// `email` (BLK-1): the chat is started on the default queue through
    /// conversations, then blocked by a supervisor. Needs
    /// [`World::with_conversations`].
    pub async fn block_email(&self, email: &str) -> bpb::Block {
        let conversations = self
            .conversations
            .as_ref()
            .expect("World::with_conversations");
        // Conversations asks scheduling for the widget state: staffed = chat.
        self.set_staffed(true).await;
        let started = ConversationsServiceClient::new(conversations.channel().await.unwrap())
            .start_conversation(authed(
                &self.env.token(self.org, "visitor-blocked", Role::Visitor),
                cpb::StartConversationRequest {
                    channel: ChatChannel::WebChat as i32,
                    customer: Some(cpb::Customer {
                        name: "Customer".into(),
                        identities: vec![CustomerIdentity {
                            kind: IdentityKind::Email as i32,
                            value: email.into(),
                        }],
                        ..Default::default()
                    }),
                    first_message: "hello".into(),
                    client_request_id: Uuid::now_v7().to_string(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let chat = match started.outcome {
            Some(cpb::start_conversation_response::Outcome::Conversation(c)) => c,
            other => panic!("no conversation: {other:?}"),
        };
        self.set_staffed(false).await;
        self.blocking_client()
            .await
            .block_customer(authed(
                &self.token(Role::Supervisor),
                bpb::BlockCustomerRequest {
                    conversation_id: chat.id,
                    reason: "abuse".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    /// The block `id` as its staff see it (with `dropped_messages`).
    pub async fn block(&self, id: &str) -> bpb::Block {
        self.blocking_client()
            .await
            .get_block(authed(
                &self.token(Role::Supervisor),
                bpb::GetBlockRequest { id: id.into() },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    /// Waits until blocking has counted `n` dropped submissions on `id`.
    pub async fn wait_dropped(&self, id: &str, n: u64) {
        livedesk_testkit::eventually(30, &format!("{n} drops counted on {id}"), || async {
            (self.block(id).await.dropped_messages == n).then_some(())
        })
        .await
        .unwrap();
    }
}

/// Monday to Friday 09:00–12:00 and 13:00–18:00.
pub fn office(tz: &str) -> pb::Schedule {
    let mut intervals = Vec::new();
    for weekday in 1..=5 {
        intervals.push(pb::Interval {
            weekday,
            start_minute: 540,
            end_minute: 720,
        });
        intervals.push(pb::Interval {
            weekday,
            start_minute: 780,
            end_minute: 1080,
        });
    }
    pb::Schedule {
        name: "Office".into(),
        time_zone: tz.into(),
        intervals,
        ..Default::default()
    }
}

/// A protobuf timestamp for a local time such as `2026-03-02T12:30[Europe/Paris]`.
pub fn at(local: &str) -> prost_types::Timestamp {
    let t = local.parse::<jiff::Zoned>().unwrap().timestamp();
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: 0,
    }
}
