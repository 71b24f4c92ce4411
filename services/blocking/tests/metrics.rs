//! Metrics every service emits (TEN-7): RPC latency by method and status
//! code, outbox lag and consumer lag, read back from the service's own
//! Prometheus endpoint (`GET /metrics`) as Prometheus scrapes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_proto::blocking::v1::ListBlocksRequest;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_testkit::{TestEnv, authed, eventually, new_org, spawn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The body of one `GET /metrics`.
pub(crate) async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_latency_by_method_and_code_outbox_lag_and_consumer_lag_are_recorded() {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let mut client = BlockingServiceClient::new(svc.channel().await.unwrap());
    let org = new_org();
    client
        .list_blocks(authed(
            &env.token(org, "a", Role::Agent),
            ListBlocksRequest::default(),
        ))
        .await
        .unwrap();
    let denied = client
        .list_blocks(authed(
            &env.token(org, "v", Role::Visitor),
            ListBlocksRequest::default(),
        ))
        .await;
    assert_eq!(denied.unwrap_err().code(), tonic::Code::PermissionDenied);

    let method = "/livedesk.blocking.v1.BlockingService/ListBlocks";
    let count = |code: u32| {
        format!(
            "livedesk_rpc_server_duration_seconds_count{{rpc_grpc_status_code=\"{code}\",rpc_method=\"{method}\"}} 1\n"
        )
    };
    let text = eventually(20, "the three metrics", || async {
        let text = scrape(svc.metrics_addr).await;
        let ok = text.contains("\nlivedesk_outbox_oldest_age_seconds ")
            && text.contains(
                "\nlivedesk_consumer_pending_messages{consumer=\"blocking-from-conversations\"} ",
            );
        ok.then_some(text)
    })
    .await
    .unwrap();
    assert!(text.contains(&count(0)), "OK calls are counted: {text}");
    assert!(
        text.contains(&count(7)),
        "PERMISSION_DENIED calls are counted apart: {text}"
    );
    assert!(
        text.contains("# TYPE livedesk_rpc_server_duration_seconds histogram"),
        "{text}"
    );
    svc.stop().await.unwrap();
}
