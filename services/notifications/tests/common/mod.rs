//! Shared helpers of the notifications integration tests: start the
//! service, play the other services by publishing their events, read
//! Subscribe streams.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use livedesk_auth::Role;
use livedesk_notifications::App;
use livedesk_proto::conversations::v1 as cv;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::notifications::v1::notifications_service_client::NotificationsServiceClient;
use livedesk_proto::notifications::v1::{Notification, SubscribeRequest};
use livedesk_testkit::{RunningService, TestEnv, authed, spawn};
use tonic::Streaming;
use tonic::transport::Channel;
use uuid::Uuid;

pub type Client = NotificationsServiceClient<Channel>;

/// Starts one notifications instance of this test's environment.
pub async fn start(env: &TestEnv) -> (RunningService, Client) {
    let svc = spawn::<App>(&env.service_env("notifications", &[]))
        .await
        .unwrap();
    let client = NotificationsServiceClient::new(svc.channel().await.unwrap());
    (svc, client)
}

/// Publishes an event as `producer` would.
pub async fn publish<E: livedesk_proto::EventType>(
    env: &TestEnv,
    producer: &str,
    org: Uuid,
    aggregate: &str,
    event: &E,
) {
    env.publish(producer, org, aggregate, event).await.unwrap();
}

/// Opens `sub`'s stream in `org`.
pub async fn subscribe(
    env: &TestEnv,
    client: &Client,
    org: Uuid,
    sub: &str,
    role: Role,
    after: u64,
    replay_all: bool,
) -> Streaming<Notification> {
    let token = env.token(org, sub, role);
    client
        .clone()
        .subscribe(authed(
            &token,
            SubscribeRequest {
                after_sequence: after,
                replay_all,
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

/// The next feed item (heartbeats skipped); fails the test if none comes.
pub async fn next(stream: &mut Streaming<Notification>) -> Notification {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("no notification within 30 s")
            .expect("stream failed")
            .expect("stream ended");
        if !matches!(item.kind, Some(Kind::Heartbeat(_))) {
            return item;
        }
    }
}

/// A message event.
pub fn message(
    conversation: &str,
    author: &str,
    text: &str,
    audience: &[&str],
    customer: &str,
) -> cv::MessagePosted {
    cv::MessagePosted {
        message: Some(cv::Message {
            id: Uuid::now_v7().to_string(),
            conversation_id: conversation.to_owned(),
            author_id: author.to_owned(),
            text: text.to_owned(),
            ..Default::default()
        }),
        audience: audience.iter().map(|s| (*s).to_owned()).collect(),
        customer_principal_id: customer.to_owned(),
        pii_visible_to_staff: false,
    }
}

/// The text of a `message` notification (panics on another kind).
pub fn text(n: &Notification) -> String {
    match &n.kind {
        Some(Kind::Message(m)) => m.text.clone(),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// A queued conversation of `customer` in `queue`.
pub fn queued(conversation: &str, queue: &str, customer: &str) -> cv::ConversationQueued {
    cv::ConversationQueued {
        conversation_id: conversation.to_owned(),
        queue_id: queue.to_owned(),
        customer_principal_id: customer.to_owned(),
        customer_name: "Ana".into(),
        ..Default::default()
    }
}

/// A database connection to this test's notifications database.
pub async fn db(env: &TestEnv) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(env.database_url("notifications"))
        .await
        .unwrap()
}

/// Starts one notifications instance sending through the private relay
/// `smtp_url`, retrying fast (100 ms doubling, at most 1 s, 10 attempts)
/// so tests never wait for production backoffs; `extra` overrides.
pub async fn start_with_smtp(
    env: &TestEnv,
    smtp_url: &str,
    extra: &[(&str, &str)],
) -> (RunningService, Client) {
    // Later keys win (the environment is a map): `extra` overrides.
    let vars: Vec<(String, String)> = [
        ("SMTP_URL", smtp_url),
        ("SMTP_FROM", "support@livedesk.example"),
        ("SMTP_TIMEOUT_MS", "5000"),
        ("SMTP_MAX_ATTEMPTS", "10"),
        ("SMTP_BACKOFF_BASE_MS", "100"),
        ("SMTP_BACKOFF_MAX_MS", "1000"),
        ("EMAIL_WORKER_PERIOD_MS", "100"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (format!("LIVEDESK_NOTIFICATIONS__{k}"), (*v).to_owned()))
    .collect();
    let svc = spawn::<App>(&env.service_env("notifications", &vars))
        .await
        .unwrap();
    let client = NotificationsServiceClient::new(svc.channel().await.unwrap());
    (svc, client)
}
