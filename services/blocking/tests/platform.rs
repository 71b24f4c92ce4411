//! The platform behaviour every service shares, proven on the blocking
//! service: health tied to PostgreSQL and NATS, reflection, authentication,
//! graceful shutdown (TEN-2, TEN-7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_proto::blocking::v1::CheckIdentitiesRequest;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_testkit::{PrivateNats, TestEnv, authed, eventually, new_org, spawn};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

async fn status(channel: tonic::transport::Channel, service: &str) -> Option<ServingStatus> {
    let resp = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(resp.into_inner().status).ok()
}

// spec: TEN-7
#[tokio::test]
async fn health_is_serving_only_while_postgres_and_nats_answer() {
    let env = TestEnv::new().await.unwrap();
    let mut nats = PrivateNats::start().await.unwrap();
    let vars = env.service_env("blocking", &[("LIVEDESK_NATS_URL".into(), nats.url())]);
    let svc = spawn::<App>(&vars).await.unwrap();
    let channel = svc.channel().await.unwrap();
    let name = "livedesk.blocking.v1.BlockingService";
    eventually(10, "SERVING", || {
        let c = channel.clone();
        async move { (status(c, name).await == Some(ServingStatus::Serving)).then_some(()) }
    })
    .await
    .unwrap();
    nats.stop().await.unwrap();
    eventually(15, "NOT_SERVING while NATS is down", || {
        let c = channel.clone();
        async move { (status(c, name).await == Some(ServingStatus::NotServing)).then_some(()) }
    })
    .await
    .unwrap();
    nats.resume().await.unwrap();
    eventually(30, "SERVING again", || {
        let c = channel.clone();
        async move { (status(c, "").await == Some(ServingStatus::Serving)).then_some(()) }
    })
    .await
    .unwrap();
    svc.stop().await.unwrap();
}

// spec: TEN-7
#[tokio::test]
async fn reflection_lists_the_service_without_a_token() {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let mut client = ServerReflectionClient::new(svc.channel().await.unwrap());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected {resp:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"livedesk.blocking.v1.BlockingService".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
    svc.stop().await.unwrap();
}

// spec: TEN-2
#[tokio::test]
async fn rpcs_refuse_a_missing_or_forged_token_and_accept_a_valid_one() {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let mut client = BlockingServiceClient::new(svc.channel().await.unwrap());
    let err = client
        .check_identities(CheckIdentitiesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let forged = livedesk_auth::Issuer::hs256(
        "livedesk",
        "livedesk-api",
        b"not-the-secret-of-this-deployment",
    )
    .mint(new_org(), "x", Role::Admin, None, 60)
    .unwrap();
    let err = client
        .check_identities(authed(&forged, CheckIdentitiesRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let token = env.token(new_org(), "svc", Role::Service);
    let ok = client
        .check_identities(authed(&token, CheckIdentitiesRequest::default()))
        .await
        .unwrap();
    assert!(!ok.into_inner().blocked);
    svc.stop().await.unwrap();
}

// spec: TEN-7
#[tokio::test]
async fn shutdown_drains_and_returns_cleanly() {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    svc.stop().await.unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "stops well within the grace period"
    );
}
