//! Every one of the six services exposes health and reflection (TEN-7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_e2e::Suite;
use livedesk_testkit::health::{ServingStatus, livedesk_services, wait_for_health};

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_all_six_services_and_each_is_serving() {
    let suite = Suite::start().await.unwrap();
    let mut listed = Vec::new();
    for svc in suite.services() {
        let channel = svc.channel().await.unwrap();
        listed.extend(livedesk_services(channel.clone()).await.unwrap());
        wait_for_health(&channel, &[String::new()], ServingStatus::Serving, 10)
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
