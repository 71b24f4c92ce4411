//! Test harness: the conversations service against the REAL blocking,
//! scheduling and routing services, PostgreSQL and NATS. What the widget
//! shows is set up through scheduling's and routing's own APIs (a schedule,
//! forms, an AVAILABLE agent), not answered by a stand-in.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::routing::v1 as rtg;
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_proto::scheduling::v1 as sch;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use livedesk_testkit::{RunningService, TestEnv, authed, spawn};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tonic::transport::Channel;
use uuid::Uuid;

/// The agent whose AVAILABLE state staffs the default queue, so the
/// widget offers chat (SCH-3).
pub const STAFF: &str = "staff-on-duty";

/// A skill no agent has: the default queue requires it, so real routing
/// never offers a conversation and the tests play routing's decisions
/// (assignments, transfers …) themselves, while the queue still counts as
/// staffed (staffing counts AVAILABLE members, skills aside).
const UNMATCHED_SKILL: &str = "played-by-the-tests";

/// Everything a test talks to.
pub struct Harness {
    pub env: TestEnv,
    pub conversations: RunningService,
    pub blocking: RunningService,
    pub scheduling: RunningService,
    pub routing: RunningService,
    pub org: Uuid,
    pub db: DatabaseConnection,
    /// The conversations service's own keys (for a second replica).
    pub conv_extra: Vec<(String, String)>,
    pub attachments_dir: String,
}

impl Harness {
    /// Starts routing, scheduling, blocking and conversations, and
    /// staffs the org's default queue (the widget offers chat).
    pub async fn start() -> Harness {
        let env = TestEnv::new().await.unwrap();
        let routing = spawn::<livedesk_routing::App>(&env.service_env("routing", &[]))
            .await
            .unwrap();
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
        let scheduling = spawn::<livedesk_scheduling::App>(&env.service_env(
            "scheduling",
            &[
                ("LIVEDESK_SCHEDULING__ROUTING_URL".into(), routing.url()),
                ("LIVEDESK_SCHEDULING__BLOCKING_URL".into(), blocking.url()),
            ],
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
                scheduling.url(),
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
        let h = Harness {
            env,
            conversations,
            blocking,
            scheduling,
            routing,
            org: livedesk_testkit::new_org(),
            db,
            conv_extra,
            attachments_dir,
        };
        h.staff().await;
        h
    }

    /// A routing client.
    pub async fn routing_client(&self) -> RoutingServiceClient<Channel> {
        RoutingServiceClient::new(self.routing.channel().await.unwrap())
    }

    /// A scheduling client.
    pub async fn scheduling_client(&self) -> SchedulingServiceClient<Channel> {
        SchedulingServiceClient::new(self.scheduling.channel().await.unwrap())
    }

    /// Staffs the default queue: [`STAFF`] is AVAILABLE in it, and the
    /// queue requires a skill nobody has (see [`UNMATCHED_SKILL`]). Waits
    /// until scheduling offers chat.
    async fn staff(&self) {
        let admin = self.token("admin", Role::Admin);
        let mut routing = self.routing_client().await;
        let mut queue = routing
            .get_queue(authed(&admin, rtg::GetQueueRequest { id: String::new() }))
            .await
            .unwrap()
            .into_inner();
        queue.required_skills = vec![UNMATCHED_SKILL.into()];
        queue.member_agent_ids.clear();
        routing
            .update_queue(authed(
                &admin,
                rtg::UpdateQueueRequest { queue: Some(queue) },
            ))
            .await
            .unwrap();
        routing
            .set_agent_state(authed(
                &self.token(STAFF, Role::Agent),
                rtg::SetAgentStateRequest {
                    state: rtg::AgentState::Available as i32,
                    display_name: "Staff".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
        self.wait_widget(
            livedesk_proto::common::v1::Channel::WebChat,
            sch::WidgetMode::Chat,
        )
        .await;
    }

    /// A new queue in routing, staffed like the default one (see
    /// [`Harness::staff`]); waits until scheduling offers chat in it.
    pub async fn queue(&self) -> Uuid {
        let admin = self.token("admin", Role::Admin);
        let mut routing = self.routing_client().await;
        let queue = routing
            .create_queue(authed(
                &admin,
                rtg::CreateQueueRequest {
                    queue: Some(rtg::Queue {
                        name: format!("Queue {}", Uuid::now_v7()),
                        required_skills: vec![UNMATCHED_SKILL.into()],
                        ..Default::default()
                    }),
                    client_request_id: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        routing
            .set_queue_members(authed(
                &admin,
                rtg::SetQueueMembersRequest {
                    queue_id: queue.id.clone(),
                    agent_ids: vec![STAFF.into()],
                },
            ))
            .await
            .unwrap();
        self.wait_widget_in(
            &queue.id,
            livedesk_proto::common::v1::Channel::WebChat,
            sch::WidgetMode::Chat,
        )
        .await;
        Uuid::parse_str(&queue.id).unwrap()
    }

    /// Waits until scheduling shows `mode` on `channel` for the default queue.
    pub async fn wait_widget(
        &self,
        channel: livedesk_proto::common::v1::Channel,
        mode: sch::WidgetMode,
    ) {
        self.wait_widget_in("", channel, mode).await;
    }

    /// Waits until scheduling shows `mode` on `channel` for `queue`.
    pub async fn wait_widget_in(
        &self,
        queue: &str,
        channel: livedesk_proto::common::v1::Channel,
        mode: sch::WidgetMode,
    ) {
        let token = self.token("v-probe", Role::Visitor);
        livedesk_testkit::eventually(10, "widget mode", || async {
            let state = self
                .scheduling_client()
                .await
                .get_widget_state(authed(
                    &token,
                    sch::GetWidgetStateRequest {
                        queue_id: queue.to_owned(),
                        channel: channel as i32,
                    },
                ))
                .await
                .ok()?
                .into_inner();
            (state.mode == mode as i32).then_some(())
        })
        .await
        .unwrap();
    }

    /// Closes the default queue now (a schedule closed today and
    /// tomorrow, UTC, however close to midnight the test runs) with
    /// `out_of_hours` as the org's out-of-hours text.
    pub async fn close(&self, out_of_hours: &str) {
        let admin = self.token("admin", Role::Admin);
        let mut c = self.scheduling_client().await;
        c.update_settings(authed(
            &admin,
            sch::SchedulingSettings {
                out_of_hours_message: out_of_hours.into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
        let today = chrono::Utc::now().date_naive();
        let exceptions = [today, today.succ_opt().unwrap()]
            .iter()
            .map(|d| sch::DateException {
                date: d.format("%Y-%m-%d").to_string(),
                closed: true,
                hours: vec![],
                name: "Closed".into(),
            })
            .collect();
        let schedule = c
            .create_schedule(authed(
                &admin,
                sch::CreateScheduleRequest {
                    schedule: Some(sch::Schedule {
                        name: "Closed".into(),
                        time_zone: "UTC".into(),
                        always_open: true,
                        exceptions,
                        ..Default::default()
                    }),
                    client_request_id: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        c.assign_schedule(authed(
            &admin,
            sch::AssignScheduleRequest {
                queue_id: livedesk_platform::defaults::default_queue_id(self.org).to_string(),
                schedule_id: schedule.id,
            },
        ))
        .await
        .unwrap();
    }

    /// Closes the default queue with its offline form on (the default):
    /// web chats are offered the offline form.
    pub async fn close_with_offline_form(&self) {
        self.close("").await;
        self.wait_widget(
            livedesk_proto::common::v1::Channel::WebChat,
            sch::WidgetMode::OfflineForm,
        )
        .await;
    }

    /// Turns the org's offline form off (and no contact form is on): a
    /// closed web chat is hidden.
    pub async fn hide_when_closed(&self) {
        self.scheduling_client()
            .await
            .upsert_form(authed(
                &self.token("admin", Role::Admin),
                sch::UpsertFormRequest {
                    form: Some(sch::Form {
                        kind: sch::FormKind::Offline as i32,
                        enabled: false,
                        ..Default::default()
                    }),
                },
            ))
            .await
            .unwrap();
        self.wait_widget(
            livedesk_proto::common::v1::Channel::WebChat,
            sch::WidgetMode::Hidden,
        )
        .await;
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
        self.env
            .publish(producer, self.org, aggregate, event)
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
