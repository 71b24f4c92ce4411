//! Natural close after inactivity (CNV-13), with two replicas sweeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

// spec: CNV-13
#[tokio::test]
async fn idle_conversations_end_by_inactivity_once_with_two_replicas() {
    let h = Harness::start().await;
    let _second = h.replica().await;
    let idle: Vec<_> = {
        let mut v = Vec::new();
        for i in 0..5 {
            v.push(conversation(
                &h.start_chat(&format!("v{i}"), "hi", "").await.unwrap(),
            ));
        }
        v
    };
    let fresh = conversation(&h.start_chat("fresh", "hi", "").await.unwrap());
    let six_days = conversation(&h.start_chat("six", "hi", "").await.unwrap());
    let ids: Vec<String> = idle.iter().map(|c| format!("'{}'", c.id)).collect();
    h.exec(&format!(
        "UPDATE conversations SET last_activity_at = now() - interval '8 days' WHERE id IN ({})",
        ids.join(",")
    ))
    .await;
    h.exec(&format!(
        "UPDATE conversations SET last_activity_at = now() - interval '6 days' WHERE id = '{}'",
        six_days.id
    ))
    .await;
    for c in &idle {
        let ended = h.wait_status(&c.id, pb::ConversationStatus::Ended).await;
        assert_eq!(ended.ended_by, pb::EndedBy::Inactivity as i32);
        let events: Vec<pb::ConversationEnded> = h.events_of(&c.id).await;
        assert_eq!(events.len(), 1, "announced once by two replicas");
    }
    assert_eq!(
        h.get(&fresh.id).await.status,
        pb::ConversationStatus::Queued as i32
    );
    assert_eq!(
        h.get(&six_days.id).await.status,
        pb::ConversationStatus::Queued as i32
    );

    // The org setting shortens the delay: 5 days now closes the 6-day-old one.
    h.client()
        .await
        .update_settings(authed(
            &h.token("adm", Role::Admin),
            pb::ConversationSettings {
                mask_pii: true,
                natural_close_days: 5,
                retention_days: 0,
            },
        ))
        .await
        .unwrap();
    let ended = h
        .wait_status(&six_days.id, pb::ConversationStatus::Ended)
        .await;
    assert_eq!(ended.ended_by, pb::EndedBy::Inactivity as i32);
    assert_eq!(
        h.get(&fresh.id).await.status,
        pb::ConversationStatus::Queued as i32
    );
}
