//! W3C trace context flows from gRPC metadata through the outbox into NATS
//! headers (TEN-7): one trace from the caller to every consumer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_events::Subjects;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::BlockIpRequest;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_testkit::{TestEnv, authed, new_org, spawn};

// spec: TEN-7
#[tokio::test]
async fn the_callers_trace_id_reaches_the_event_headers() {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let mut client = BlockingServiceClient::new(svc.channel().await.unwrap());
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut req = authed(
        &env.token(new_org(), "agent-1", Role::Agent),
        BlockIpRequest {
            ip_cidr: "192.0.2.7".into(),
            expires_at: Some(to_proto(Utc::now() + chrono::Duration::hours(1))),
            reason: String::new(),
        },
    );
    req.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    client.block_ip(req).await.unwrap();

    let js = async_nats::jetstream::new(env.nats().await.unwrap());
    let stream = js
        .get_stream(Subjects::new(env.prefix.clone()).stream_name("blocking"))
        .await
        .unwrap();
    let reader = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let msg = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        reader.messages().await.unwrap().next(),
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let traceparent = msg
        .headers
        .as_ref()
        .and_then(|h| h.get("traceparent"))
        .map(|v| v.to_string())
        .unwrap_or_default();
    assert!(
        traceparent.contains(trace_id),
        "traceparent {traceparent:?} should continue trace {trace_id}"
    );
    svc.stop().await.unwrap();
}
