//! Shared harness: real PostgreSQL and NATS through testkit, the real
//! scheduling service, and stand-ins for its two peer calls, routing's
//! `GetQueueStatus` and blocking's `CheckIdentities` (those crates are
//! built elsewhere; tests/e2e runs the real ones together).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use livedesk_proto::blocking::v1 as bpb;
use livedesk_proto::blocking::v1::blocking_service_server::{
    BlockingService, BlockingServiceServer,
};

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

/// Answers `CheckIdentities`: blocked (with `block_id`) when the request
/// names `blocked_value` as an identity or as the IP; records what it saw.
#[derive(Clone, Default)]
pub struct FakeBlocking {
    pub blocked_value: Arc<Mutex<Option<String>>>,
    pub block_id: String,
    pub seen: Arc<Mutex<Vec<bpb::CheckIdentitiesRequest>>>,
}

#[tonic::async_trait]
impl BlockingService for FakeBlocking {
    async fn check_identities(
        &self,
        req: tonic::Request<bpb::CheckIdentitiesRequest>,
    ) -> Result<tonic::Response<bpb::CheckIdentitiesResponse>, tonic::Status> {
        if req.metadata().get("authorization").is_none() {
            return Err(tonic::Status::unauthenticated("no token"));
        }
        let body = req.into_inner();
        let target = self.blocked_value.lock().unwrap().clone();
        let blocked = target
            .is_some_and(|t| body.ip_address == t || body.identities.iter().any(|i| i.value == t));
        self.seen.lock().unwrap().push(body);
        Ok(tonic::Response::new(bpb::CheckIdentitiesResponse {
            blocked,
            block_id: if blocked {
                self.block_id.clone()
            } else {
                String::new()
            },
        }))
    }
}

pub async fn start_blocking() -> (FakeBlocking, String) {
    let fake = FakeBlocking {
        block_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    let svc = BlockingServiceServer::new(fake.clone());
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming(incoming)
            .await;
    });
    (fake, format!("http://{addr}"))
}

/// One test's world.
pub struct World {
    pub env: TestEnv,
    pub svc: RunningService,
    pub routing: FakeRouting,
    pub routing_url: String,
    pub blocking: FakeBlocking,
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
    pub async fn new() -> Self {
        let env = TestEnv::new().await.unwrap();
        let (routing, routing_url) = start_routing().await;
        let (blocking, blocking_url) = start_blocking().await;
        let svc = livedesk_testkit::spawn::<livedesk_scheduling::App>(&scheduling_env_with(
            &env,
            &routing_url,
            &blocking_url,
            5000,
        ))
        .await
        .unwrap();
        Self {
            env,
            svc,
            routing,
            routing_url,
            blocking,
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
