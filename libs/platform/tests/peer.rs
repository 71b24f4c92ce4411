//! Client-side balancing of peer channels against real gRPC servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::HashSet;
use std::time::Duration;

use livedesk_platform::peer::balanced_channel;
use tokio::net::TcpListener;
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Starts a health server that reports only `name` as SERVING (so a
/// caller can tell which replica answered) and returns its URL.
async fn replica(name: &'static str) -> String {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(name, ServingStatus::Serving)
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _keep = reporter;
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn calls_are_spread_over_every_replica_of_a_peer() {
    let (a, b) = (replica("replica-a").await, replica("replica-b").await);
    let channel = balanced_channel(&format!("{a}, {b}"), Duration::from_secs(1)).unwrap();
    let mut client = HealthClient::new(channel);
    let mut answered_by = HashSet::new();
    for _ in 0..200 {
        // Each replica knows only its own name: SERVING for "replica-a"
        // means replica a answered, NOT_FOUND means replica b did.
        let reply = client
            .check(HealthCheckRequest {
                service: "replica-a".into(),
            })
            .await;
        answered_by.insert(match reply {
            Ok(_) => "a",
            Err(s) if s.code() == tonic::Code::NotFound => "b",
            Err(s) => panic!("unexpected status {s:?}"),
        });
        if answered_by.len() == 2 {
            break;
        }
    }
    assert_eq!(answered_by.len(), 2, "one replica never got a call");
}

#[tokio::test]
async fn a_peer_whose_name_does_not_resolve_fails_the_call_instead_of_waiting() {
    let channel = balanced_channel(
        "http://livedesk-no-such-peer.invalid:50051",
        Duration::from_secs(1),
    )
    .unwrap();
    let mut client = HealthClient::new(channel);
    let reply = tokio::time::timeout(
        Duration::from_secs(30),
        client.check(HealthCheckRequest::default()),
    )
    .await
    .expect("the call must fail, not wait for an address");
    assert_eq!(reply.unwrap_err().code(), tonic::Code::Unavailable);
}

#[tokio::test]
async fn an_idempotent_call_is_retried_only_while_the_peer_is_unavailable() {
    use livedesk_platform::peer::idempotent;
    use std::sync::atomic::{AtomicU32, Ordering};

    // A replica going away: two UNAVAILABLE answers, then one that works.
    let calls = AtomicU32::new(0);
    let answer = idempotent(|| async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(tonic::Status::unavailable("connection refused")),
            _ => Ok("answer"),
        }
    })
    .await;
    assert_eq!(answer.unwrap(), "answer");
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // Any other failure is the peer's answer: never repeated.
    let calls = AtomicU32::new(0);
    let answer: Result<(), _> = idempotent(|| async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(tonic::Status::permission_denied("no"))
    })
    .await;
    assert_eq!(answer.unwrap_err().code(), tonic::Code::PermissionDenied);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A peer that stays down: given up after five attempts, UNAVAILABLE.
    let calls = AtomicU32::new(0);
    let answer: Result<(), _> = idempotent(|| async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(tonic::Status::unavailable("down"))
    })
    .await;
    assert_eq!(answer.unwrap_err().code(), tonic::Code::Unavailable);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}
