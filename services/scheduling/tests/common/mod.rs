//! Shared harness: real PostgreSQL and NATS through testkit, the real
//! scheduling service, and a stand-in for routing's `GetQueueStatus` (the
//! one peer call scheduling makes; the routing crate is built elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use livedesk_auth::Role;
use livedesk_proto::routing::v1 as rpb;
use livedesk_proto::routing::v1::routing_service_server::{RoutingService, RoutingServiceServer};
use livedesk_proto::scheduling::v1 as pb;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use livedesk_testkit::{RunningService, TestEnv, authed, new_org};
use tonic::transport::Channel;
use uuid::Uuid;

/// Answers `GetQueueStatus` with a switchable `staffed` flag.
#[derive(Clone, Default)]
pub struct FakeRouting {
    pub staffed: Arc<AtomicBool>,
}

#[tonic::async_trait]
impl RoutingService for FakeRouting {
    async fn get_queue_status(
        &self,
        req: tonic::Request<rpb::GetQueueStatusRequest>,
    ) -> Result<tonic::Response<rpb::QueueStatus>, tonic::Status> {
        // Scheduling must call with a service token.
        if req.metadata().get("authorization").is_none() {
            return Err(tonic::Status::unauthenticated("no token"));
        }
        let staffed = self.staffed.load(Ordering::SeqCst);
        Ok(tonic::Response::new(rpb::QueueStatus {
            queue_id: req.into_inner().queue_id,
            staffed,
            available_agents: u32::from(staffed),
            ..Default::default()
        }))
    }
}

/// One test's world.
pub struct World {
    pub env: TestEnv,
    pub svc: RunningService,
    pub routing: FakeRouting,
    pub routing_url: String,
    pub org: Uuid,
}

pub async fn start_routing() -> (FakeRouting, String) {
    let fake = FakeRouting::default();
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    let svc = RoutingServiceServer::new(fake.clone());
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming(incoming)
            .await;
    });
    (fake, format!("http://{addr}"))
}

pub fn scheduling_env(env: &TestEnv, routing_url: &str, ttl_ms: u64) -> livedesk_platform::Env {
    env.service_env(
        "scheduling",
        &[
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
    pub async fn new() -> Self {
        let env = TestEnv::new().await.unwrap();
        let (routing, routing_url) = start_routing().await;
        let svc = livedesk_testkit::spawn::<livedesk_scheduling::App>(&scheduling_env(
            &env,
            &routing_url,
            5000,
        ))
        .await
        .unwrap();
        Self {
            env,
            svc,
            routing,
            routing_url,
            org: new_org(),
        }
    }

    pub async fn client(&self) -> SchedulingServiceClient<Channel> {
        SchedulingServiceClient::new(self.svc.channel().await.unwrap())
    }

    pub fn token(&self, role: Role) -> String {
        self.env
            .token(self.org, &format!("{}-1", role.as_str()), role)
    }

    pub fn admin<T>(&self, msg: T) -> tonic::Request<T> {
        authed(&self.token(Role::Admin), msg)
    }

    pub fn set_staffed(&self, staffed: bool) {
        self.routing.staffed.store(staffed, Ordering::SeqCst);
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
