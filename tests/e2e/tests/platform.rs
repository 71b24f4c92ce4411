//! Every one of the six services exposes health and reflection (TEN-7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_e2e::Suite;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_all_six_services_and_each_is_serving() {
    let suite = Suite::start().await.unwrap();
    let mut listed = Vec::new();
    for svc in suite.services() {
        let channel = svc.channel().await.unwrap();
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter([req]))
            .await
            .unwrap()
            .into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) =
            stream.message().await.unwrap().unwrap().message_response
        else {
            panic!("no service list from {}", svc.name)
        };
        listed.extend(
            list.service
                .into_iter()
                .map(|s| s.name)
                .filter(|n| n.starts_with("livedesk.")),
        );
        livedesk_testkit::eventually(10, "SERVING", || {
            let c = channel.clone();
            async move {
                let s = HealthClient::new(c)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .ok()?
                    .into_inner()
                    .status;
                (s == 1).then_some(())
            }
        })
        .await
        .unwrap();
    }
    listed.sort();
    for expected in [
        "livedesk.blocking.v1.BlockingService",
        "livedesk.conversations.v1.ConversationsService",
        "livedesk.notifications.v1.NotificationsService",
        "livedesk.reporting.v1.ReportingService",
        "livedesk.routing.v1.RoutingService",
        "livedesk.scheduling.v1.SchedulingService",
    ] {
        assert!(
            listed.iter().any(|n| n == expected),
            "{expected} missing from {listed:?}"
        );
    }
    suite.stop().await.unwrap();
}
