//! Test harness: the conversations service against the REAL blocking
//! service, PostgreSQL and NATS; scheduling is played by a tiny in-test
//! gRPC server whose widget mode each test chooses (the peer's API, not a
//! mock of storage or messaging).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::scheduling::v1::scheduling_service_server::{
    SchedulingService, SchedulingServiceServer,
};
use livedesk_proto::scheduling::v1::{GetWidgetStateRequest, WidgetMode, WidgetState};
use livedesk_testkit::{RunningService, TestEnv, authed, spawn};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tonic::transport::Channel;
use uuid::Uuid;

/// Scheduling as seen by conversations: answers the mode the test set.
#[derive(Clone)]
pub struct FakeScheduling {
    pub mode: Arc<AtomicI32>,
}

#[tonic::async_trait]
impl SchedulingService for FakeScheduling {
    async fn get_widget_state(
        &self,
        _req: tonic::Request<GetWidgetStateRequest>,
    ) -> Result<tonic::Response<WidgetState>, tonic::Status> {
        let mode = self.mode.load(Ordering::SeqCst);
        Ok(tonic::Response::new(WidgetState {
            mode,
            open: mode == WidgetMode::Chat as i32,
            staffed: mode == WidgetMode::Chat as i32,
            form_id: String::new(),
            out_of_hours_message: "We are closed; we answer tomorrow from 9:00.".into(),
            next_opening: None,
        }))
    }
}

/// Everything a test talks to.
pub struct Harness {
    pub env: TestEnv,
    pub conversations: RunningService,
    pub blocking: RunningService,
    pub mode: Arc<AtomicI32>,
    pub org: Uuid,
    pub db: DatabaseConnection,
    /// The conversations service's own keys (for a second replica).
    pub conv_extra: Vec<(String, String)>,
    pub attachments_dir: String,
    _scheduling: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// Starts scheduling (fake), blocking (real) and conversations.
    pub async fn start() -> Harness {
        let env = TestEnv::new().await.unwrap();
        let mode = Arc::new(AtomicI32::new(WidgetMode::Chat as i32));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheduling_url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeScheduling { mode: mode.clone() };
        let scheduling = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(SchedulingServiceServer::new(fake))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        // Blocking and conversations call each other: reserve a port first.
        let port = livedesk_testkit::reserve_port().unwrap();
        let conversations_url = format!("http://127.0.0.1:{port}");
        let blocking = spawn::<livedesk_blocking::App>(&env.service_env(
            "blocking",
            &[(
                "LIVEDESK_BLOCKING__CONVERSATIONS_URL".into(),
                conversations_url,
            )],
        ))
        .await
        .unwrap();
        let attachments_dir = std::env::temp_dir()
            .join(format!("livedesk-attachments-{}", env.prefix))
            .display()
            .to_string();
        let conv_extra = vec![
            (
                "LIVEDESK_CONVERSATIONS__BLOCKING_URL".to_string(),
                blocking.url(),
            ),
            (
                "LIVEDESK_CONVERSATIONS__SCHEDULING_URL".to_string(),
                scheduling_url,
            ),
            (
                "LIVEDESK_CONVERSATIONS__NATURAL_CLOSE_SWEEP_SECS".to_string(),
                "1".to_string(),
            ),
            (
                "LIVEDESK_CONVERSATIONS__ATTACHMENTS_DIR".to_string(),
                attachments_dir.clone(),
            ),
            (
                "LIVEDESK_CONVERSATIONS__ATTACHMENT_MAX_BYTES".to_string(),
                "65536".to_string(),
            ),
        ];
        let mut first = conv_extra.clone();
        first.push((
            "LIVEDESK_CONVERSATIONS__GRPC_ADDR".into(),
            format!("127.0.0.1:{port}"),
        ));
        let conversations =
            spawn::<livedesk_conversations::App>(&env.service_env("conversations", &first))
                .await
                .unwrap();
        let db = livedesk_platform::db::connect(&env.database_url("conversations"))
            .await
            .unwrap();
        Harness {
            env,
            conversations,
            blocking,
            mode,
            org: livedesk_testkit::new_org(),
            db,
            conv_extra,
            attachments_dir,
            _scheduling: scheduling,
        }
    }

    /// Another replica of the conversations service on the same database
    /// and NATS prefix (CNV-13, RTG-6 style concurrency).
    pub async fn replica(&self) -> RunningService {
        spawn::<livedesk_conversations::App>(
            &self.env.service_env("conversations", &self.conv_extra),
        )
        .await
        .unwrap()
    }

    /// Sets what scheduling answers.
    pub fn set_mode(&self, mode: WidgetMode) {
        self.mode.store(mode as i32, Ordering::SeqCst);
    }

    /// A client of the conversations service.
    pub async fn client(&self) -> ConversationsServiceClient<Channel> {
        ConversationsServiceClient::new(self.conversations.channel().await.unwrap())
    }

    /// A token of this test's org.
    pub fn token(&self, sub: &str, role: Role) -> String {
        self.env.token(self.org, sub, role)
    }

    /// Starts a web chat for `visitor` with `text`.
    pub async fn start_chat(
        &self,
        visitor: &str,
        text: &str,
        key: &str,
    ) -> Result<pb::StartConversationResponse, tonic::Status> {
        let req = pb::StartConversationRequest {
            channel: livedesk_proto::common::v1::Channel::WebChat as i32,
            customer: Some(pb::Customer {
                name: "Melissa".into(),
                ..Default::default()
            }),
            first_message: text.into(),
            client_request_id: key.into(),
            ..Default::default()
        };
        self.client()
            .await
            .start_conversation(authed(&self.token(visitor, Role::Visitor), req))
            .await
            .map(|r| r.into_inner())
    }

    /// Every event on the conversations stream so far.
    pub async fn events(&self) -> Vec<EventEnvelope> {
        let js = async_nats::jetstream::new(self.env.nats().await.unwrap());
        let subjects = Subjects::new(self.env.prefix.clone());
        let Ok(mut stream) = js.get_stream(subjects.stream_name("conversations")).await else {
            return vec![];
        };
        let last = stream.info().await.unwrap().state.last_sequence;
        let mut out = Vec::new();
        for seq in 1..=last {
            if let Ok(m) = stream.get_raw_message(seq).await {
                out.push(EventEnvelope::decode(m.payload.as_ref()).unwrap());
            }
        }
        out
    }

    /// Waits for an event of type `E` about `aggregate` and decodes it.
    pub async fn event<E: livedesk_proto::EventType>(&self, aggregate: &str) -> E {
        livedesk_testkit::eventually(10, E::TYPE, || async {
            self.events()
                .await
                .into_iter()
                .find(|e| e.r#type == E::TYPE && e.aggregate_id == aggregate)
                .map(|e| E::decode(e.payload.as_slice()).unwrap())
        })
        .await
        .unwrap()
    }

    /// Plays another service publishing an event.
    pub async fn publish<E: livedesk_proto::EventType>(
        &self,
        producer: &str,
        aggregate: &str,
        event: &E,
    ) {
        let js = async_nats::jetstream::new(self.env.nats().await.unwrap());
        livedesk_events::publish_direct(
            &js,
            &Subjects::new(self.env.prefix.clone()),
            producer,
            self.org,
            aggregate,
            event,
        )
        .await
        .unwrap();
    }

    /// Waits until the conversation has `status` (read as a supervisor).
    pub async fn wait_status(&self, id: &str, status: pb::ConversationStatus) -> pb::Conversation {
        let token = self.token("sup", Role::Supervisor);
        livedesk_testkit::eventually(10, "conversation status", || async {
            let c = self
                .client()
                .await
                .get_conversation(authed(&token, pb::GetConversationRequest { id: id.into() }))
                .await
                .ok()?
                .into_inner();
            (c.status == status as i32).then_some(c)
        })
        .await
        .unwrap()
    }

    /// Counts rows with a raw SQL query returning `n`.
    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(livedesk_platform::db::stmt(sql, []))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// The conversation of a start response.
pub fn conversation(resp: &pb::StartConversationResponse) -> pb::Conversation {
    match &resp.outcome {
        Some(pb::start_conversation_response::Outcome::Conversation(c)) => c.clone(),
        other => panic!("expected a conversation, got {other:?}"),
    }
}

/// A SendMessage request.
pub fn send(id: &str, text: &str, key: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: id.into(),
        text: text.into(),
        client_message_id: key.into(),
        ..Default::default()
    }
}

impl Harness {
    /// Plays routing assigning `agent` (display name `name`) and waits for ACTIVE.
    pub async fn assign(&self, id: &str, agent: &str, name: &str) -> pb::Conversation {
        let event = livedesk_proto::routing::v1::ConversationAssigned {
            conversation_id: id.into(),
            agent_id: agent.into(),
            agent_display_name: name.into(),
            ..Default::default()
        };
        self.publish("routing", id, &event).await;
        livedesk_testkit::eventually(10, "assigned", || async {
            let c = self.get(id).await;
            (c.assigned_agent_id == agent && c.status == pb::ConversationStatus::Active as i32)
                .then_some(c)
        })
        .await
        .unwrap()
    }

    /// Reads a conversation as a supervisor.
    pub async fn get(&self, id: &str) -> pb::Conversation {
        self.client()
            .await
            .get_conversation(authed(
                &self.token("sup", Role::Supervisor),
                pb::GetConversationRequest { id: id.into() },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    /// A web chat of `visitor`, assigned to `agent`.
    pub async fn active_chat(&self, visitor: &str, agent: &str) -> pb::Conversation {
        let c = conversation(&self.start_chat(visitor, "hello", "").await.unwrap());
        self.assign(&c.id, agent, "Alice").await
    }

    /// A social conversation started by the messaging connector (a service)
    /// for the customer `customer` on `channel`.
    pub async fn start_social(
        &self,
        channel: livedesk_proto::common::v1::Channel,
        customer: &str,
        text: &str,
    ) -> pb::Conversation {
        use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
        let kind = match channel {
            livedesk_proto::common::v1::Channel::Whatsapp => IdentityKind::Whatsapp,
            livedesk_proto::common::v1::Channel::Instagram => IdentityKind::Instagram,
            _ => IdentityKind::Messenger,
        };
        let req = pb::StartConversationRequest {
            channel: channel as i32,
            customer: Some(pb::Customer {
                name: "Melissa".into(),
                identities: vec![CustomerIdentity {
                    kind: kind as i32,
                    value: customer.into(),
                }],
                ..Default::default()
            }),
            first_message: text.into(),
            ..Default::default()
        };
        conversation(
            &self
                .client()
                .await
                .start_conversation(authed(&self.token("connector", Role::Service), req))
                .await
                .unwrap()
                .into_inner(),
        )
    }

    /// The connector relays a customer message on a social channel.
    pub async fn social_message(
        &self,
        id: &str,
        text: &str,
    ) -> Result<pb::SendMessageResponse, tonic::Status> {
        let mut req = send(id, text, "");
        req.author_kind = pb::AuthorKind::Customer as i32;
        self.client()
            .await
            .send_message(authed(&self.token("connector", Role::Service), req))
            .await
            .map(|r| r.into_inner())
    }

    /// Every event of type `E` about `aggregate` so far.
    pub async fn events_of<E: livedesk_proto::EventType>(&self, aggregate: &str) -> Vec<E> {
        self.events()
            .await
            .into_iter()
            .filter(|e| e.r#type == E::TYPE && e.aggregate_id == aggregate)
            .map(|e| E::decode(e.payload.as_slice()).unwrap())
            .collect()
    }

    /// Runs a SQL statement (tests that move time, CNV-13).
    pub async fn exec(&self, sql: &str) {
        self.db
            .execute_raw(livedesk_platform::db::stmt(sql, []))
            .await
            .unwrap();
    }
}

impl Harness {
    /// Plays routing: each of `agents` serves the org's default queue
    /// (TEN-3), and waits until the read model holds it.
    pub async fn serve(&self, agents: &[&str]) {
        let queue = livedesk_platform::defaults::default_queue_id(self.org).to_string();
        for agent in agents {
            self.serve_in(agent, &queue).await;
        }
    }

    /// Plays routing: `agent` serves exactly `queue` (TEN-3), and waits
    /// until the read model holds it.
    pub async fn serve_in(&self, agent: &str, queue: &str) {
        // Versions only need to grow: the clock does.
        let version = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap();
        let e = livedesk_proto::routing::v1::AgentQueuesChanged {
            agent_id: agent.into(),
            queue_ids: vec![queue.into()],
            deleted: false,
            version,
        };
        self.publish("routing", agent, &e).await;
        let sql = format!(
            "SELECT count(*) AS n FROM queue_members WHERE org_id = '{}' AND agent_id = '{agent}' AND queue_id = '{queue}'",
            self.org
        );
        livedesk_testkit::eventually(10, "agent serves the queue", || async {
            (self.count(&sql).await == 1).then_some(())
        })
        .await
        .unwrap();
    }
}
