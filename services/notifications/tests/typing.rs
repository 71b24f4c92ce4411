//! Typing indicators through the fan-out (NTF-1): conversations publishes
//! them on core NATS with their recipients; every replica forwards them to
//! those recipients' open streams, unsequenced and never stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::*;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::notifications::v1::{Notification, Typing};
use livedesk_testkit::{TestEnv, new_org};
use prost::Message as _;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Publishes a typing indicator as conversations does.
async fn typing(env: &TestEnv, org: Uuid, conv: &str, from: &str, on: bool, to: &[&str]) {
    let nats = env.nats().await.unwrap();
    let mut headers = async_nats::HeaderMap::new();
    for r in to {
        headers.append("Livedesk-Recipient", *r);
    }
    let n = Notification {
        sequence: 0,
        at: None,
        conversation_id: conv.into(),
        kind: Some(Kind::Typing(Typing {
            principal_id: from.into(),
            typing: on,
        })),
    };
    nats.publish_with_headers(
        Subjects::new(env.prefix.clone()).typing(&org.to_string()),
        headers,
        n.encode_to_vec().into(),
    )
    .await
    .unwrap();
    nats.flush().await.unwrap();
}

fn typing_of(n: &Notification) -> Option<Typing> {
    match &n.kind {
        Some(Kind::Typing(t)) => Some(t.clone()),
        _ => None,
    }
}

// spec: NTF-1
#[tokio::test]
async fn typing_reaches_only_its_recipients_unsequenced_and_is_never_stored() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client, org, "v1", Role::Visitor, 0, false).await;

    // The replica's subscription to the typing subject is not observable:
    // repeat the indicator until the stream shows one.
    let mut first = None;
    for _ in 0..30 {
        typing(&env, org, &conv, "a1", true, &["v1"]).await;
        if let Ok(Ok(Some(n))) =
            tokio::time::timeout(Duration::from_millis(300), visitor.message()).await
            && typing_of(&n).is_some()
        {
            first = Some(n);
            break;
        }
    }
    let first = first.expect("no typing indicator within 9 s");
    assert_eq!(
        first.sequence, 0,
        "typing is not part of the resumable feed"
    );
    assert_eq!(first.conversation_id, conv);
    assert_eq!(
        typing_of(&first).unwrap(),
        Typing {
            principal_id: "a1".into(),
            typing: true
        }
    );
    // Drain repeats of the warm-up up to a marker published after all of
    // them (each indicator is flushed before the next is published, so the
    // stream sees them in order), rather than waiting for a quiet spell.
    typing(&env, org, &conv, "marker", true, &["v1"]).await;
    while typing_of(&next(&mut visitor).await).map(|t| t.principal_id) != Some("marker".into()) {}

    // An indicator for someone else, then one for the visitor: only the
    // latter arrives.
    typing(&env, org, &conv, "a1", true, &["a2"]).await;
    typing(&env, new_org(), &conv, "a1", true, &["v1"]).await;
    typing(&env, org, &conv, "a1", false, &["v1"]).await;
    let n = next(&mut visitor).await;
    assert_eq!(
        typing_of(&n).unwrap(),
        Typing {
            principal_id: "a1".into(),
            typing: false
        },
        "neither another recipient's nor another org's indicator reached v1"
    );

    // Nothing in any feed.
    let db = db(&env).await;
    let row = db
        .query_one_raw(livedesk_platform::db::stmt(
            "SELECT count(*) AS n FROM notifications WHERE org_id = $1",
            [org.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0);
}
