//! SIGTERM during traffic loses no acknowledged write and no event
//! (TEN-7, EVT-2): the real binary, a real signal, real PostgreSQL and NATS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_events::{ReceivedEvent, Subjects};
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::blocking::v1::{BlockIpRequest, IpBlocked};
use livedesk_testkit::{TestEnv, authed, eventually, new_org};
use sea_orm::ConnectionTrait;

// spec: TEN-7, EVT-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_traffic_loses_no_acknowledged_block_nor_its_event() {
    let env = TestEnv::new().await.unwrap();
    let port = livedesk_testkit::reserve_port().unwrap();
    let db_url = env.database_url("blocking");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedesk-blocking"))
        .env("LIVEDESK_BLOCKING__GRPC_ADDR", format!("127.0.0.1:{port}"))
        .env("LIVEDESK_BLOCKING__DATABASE_URL", &db_url)
        .env("LIVEDESK_NATS_URL", &env.nats_url)
        .env("LIVEDESK_SUBJECT_PREFIX", &env.prefix)
        .env("LIVEDESK_AUTH_HS256_SECRET", livedesk_testkit::TEST_SECRET)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let channel = eventually(30, "the binary to listen", || {
        let url = url.clone();
        async move {
            tonic::transport::Endpoint::from_shared(url)
                .ok()?
                .connect()
                .await
                .ok()
        }
    })
    .await
    .unwrap();

    let org = new_org();
    let token = env.token(org, "agent-1", Role::Agent);
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let mut senders = Vec::new();
    for worker in 0..8u32 {
        let mut client = BlockingServiceClient::new(channel.clone());
        let (token, acknowledged) = (token.clone(), acknowledged.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..10_000u32 {
                let ip = format!("10.{}.{}.{}", worker, i / 250, i % 250 + 1);
                let req = BlockIpRequest {
                    ip_cidr: ip,
                    expires_at: Some(to_proto(Utc::now() + chrono::Duration::hours(1))),
                    reason: String::new(),
                };
                match client.block_ip(authed(&token, req)).await {
                    Ok(r) => {
                        acknowledged.lock().unwrap().insert(r.into_inner().id);
                    }
                    Err(_) => return, // the server is going away
                }
            }
        }));
    }
    eventually(30, "traffic to build up", || {
        let n = acknowledged.lock().unwrap().len();
        async move { (n >= 50).then_some(()) }
    })
    .await
    .unwrap();

    let pid = child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful exit, got {status}");
    for s in senders {
        s.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    // Every acknowledged block is stored…
    let db = livedesk_platform::db::connect(&db_url).await.unwrap();
    let rows = db
        .query_all_raw(livedesk_platform::db::stmt(
            "SELECT id::text AS id FROM blocks",
            [],
        ))
        .await
        .unwrap();
    let stored: HashSet<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "id").unwrap())
        .collect();
    assert!(
        acknowledged.is_subset(&stored),
        "{} acknowledged blocks missing",
        acknowledged.difference(&stored).count()
    );
    // …nothing is left in the outbox…
    let left = db
        .query_one_raw(livedesk_platform::db::stmt(
            "SELECT count(*) FROM event_outbox",
            [],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left.try_get_by_index::<i64>(0).unwrap(),
        0,
        "the outbox was flushed on shutdown"
    );
    // …and every stored block's event is on the stream.
    let js = async_nats::jetstream::new(env.nats().await.unwrap());
    let subjects = Subjects::new(env.prefix.clone());
    let stream = js
        .get_stream(subjects.stream_name("blocking"))
        .await
        .unwrap();
    let reader = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = reader.messages().await.unwrap();
    let mut published = HashSet::new();
    while published.len() < stored.len() {
        let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), messages.next()).await
        else {
            break;
        };
        let event = ReceivedEvent::decode(&msg.subject, &msg.payload).unwrap();
        if let Some(Ok(IpBlocked { block: Some(b) })) = event.payload::<IpBlocked>() {
            published.insert(b.id);
        }
    }
    assert_eq!(published, stored, "one event per stored block");
    assert!(acknowledged.len() >= 50);
}
