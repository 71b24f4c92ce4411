//! ListConversations (CNV-15): every filter, cursor pages, and the closed
//! list including BLOCKED conversations (BLK-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::blocking::v1 as bpb;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::common::v1::{Channel, PageRequest};
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

async fn web(h: &Harness, visitor: &str, queue: &str, priority: pb::Priority) -> pb::Conversation {
    let req = pb::StartConversationRequest {
        channel: Channel::WebChat as i32,
        queue_id: queue.into(),
        first_message: "hi".into(),
        priority: priority as i32,
        ..Default::default()
    };
    conversation(
        &h.client()
            .await
            .start_conversation(authed(&h.token(visitor, Role::Visitor), req))
            .await
            .unwrap()
            .into_inner(),
    )
}

// spec: CNV-15
// spec: BLK-4
#[tokio::test]
async fn every_filter_narrows_the_list_and_the_closed_list_includes_blocked() {
    let h = Harness::start().await;
    let q1 = h.queue().await.to_string();
    let ended = web(&h, "v1", &q1, pb::Priority::High).await;
    h.assign(&ended.id, "a1", "Alice").await;
    h.client()
        .await
        .end_conversation(authed(
            &h.token("a1", Role::Agent),
            pb::EndConversationRequest {
                id: ended.id.clone(),
                qualification: Some(pb::Qualification {
                    tags: vec!["billing".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let social = h.start_social(Channel::Messenger, "psid-1", "hello").await;
    let blocked = web(&h, "v3", "", pb::Priority::Low).await;
    h.assign(&blocked.id, "a1", "Alice").await;
    BlockingServiceClient::new(h.blocking.channel().await.unwrap())
        .block_customer(authed(
            &h.token("a1", Role::Agent),
            bpb::BlockCustomerRequest {
                conversation_id: blocked.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    h.wait_status(&blocked.id, pb::ConversationStatus::Blocked)
        .await;
    let active = web(&h, "v4", "", pb::Priority::Medium).await;
    h.assign(&active.id, "a2", "Bob").await;

    let sup = h.token("sup", Role::Supervisor);
    let list = |token: String, f: pb::ListConversationsRequest| {
        let h = &h;
        async move {
            h.client()
                .await
                .list_conversations(authed(&token, f))
                .await
                .unwrap()
                .into_inner()
                .conversations
                .into_iter()
                .map(|c| c.id)
                .collect::<BTreeSet<_>>()
        }
    };
    let ids = |cs: &[&pb::Conversation]| cs.iter().map(|c| c.id.clone()).collect::<BTreeSet<_>>();
    let f = pb::ListConversationsRequest::default;
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                channel: Channel::Messenger as i32,
                ..f()
            }
        )
        .await,
        ids(&[&social])
    );
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                statuses: vec![pb::ConversationStatus::Active as i32],
                ..f()
            }
        )
        .await,
        ids(&[&active])
    );
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                queue_id: q1.clone(),
                ..f()
            }
        )
        .await,
        ids(&[&ended])
    );
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                assigned_agent_id: "a2".into(),
                ..f()
            }
        )
        .await,
        ids(&[&active])
    );
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                tag: "billing".into(),
                ..f()
            }
        )
        .await,
        ids(&[&ended])
    );
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                priority: pb::Priority::High as i32,
                ..f()
            }
        )
        .await,
        ids(&[&ended])
    );
    assert_eq!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                closed_only: true,
                ..f()
            }
        )
        .await,
        ids(&[&ended, &blocked]),
        "the closed list includes BLOCKED"
    );
    assert!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                closed_only: true,
                statuses: vec![pb::ConversationStatus::Active as i32],
                ..f()
            }
        )
        .await
        .is_empty()
    );
    // Combined filters intersect.
    assert!(
        list(
            sup.clone(),
            pb::ListConversationsRequest {
                tag: "billing".into(),
                channel: Channel::Messenger as i32,
                ..f()
            }
        )
        .await
        .is_empty()
    );

    // Pages of one walk through all four exactly once.
    let mut seen = BTreeSet::new();
    let mut token = String::new();
    loop {
        let resp = h
            .client()
            .await
            .list_conversations(authed(
                &sup,
                pb::ListConversationsRequest {
                    page: Some(PageRequest {
                        page_size: 1,
                        page_token: token.clone(),
                    }),
                    ..f()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        for c in &resp.conversations {
            assert!(seen.insert(c.id.clone()), "no duplicates across pages");
        }
        token = resp.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ids(&[&ended, &social, &blocked, &active]));

    // An agent lists what they take part in, plus what their queues hold,
    // whatever its status (TEN-3).
    h.serve_in("a2", &q1).await;
    assert_eq!(
        list(h.token("a2", Role::Agent), f()).await,
        ids(&[&ended, &active])
    );
}
