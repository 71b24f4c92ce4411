//! Tenancy and roles on reads (TEN-2, TEN-3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn other_orgs_and_other_visitors_see_nothing() {
    let h = Harness::start().await;
    h.serve(&["a9"]).await;
    let c = conversation(&h.start_chat("v1", "hi", "").await.unwrap());
    let mut client = h.client().await;
    let get = |id: &str| pb::GetConversationRequest { id: id.into() };

    let stranger = h
        .env
        .token(livedesk_testkit::new_org(), "sup", Role::Supervisor);
    assert_eq!(
        client
            .get_conversation(authed(&stranger, get(&c.id)))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let other_visitor = h.token("v2", Role::Visitor);
    assert_eq!(
        client
            .get_conversation(authed(&other_visitor, get(&c.id)))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let msgs = pb::ListMessagesRequest {
        conversation_id: c.id.clone(),
        ..Default::default()
    };
    assert_eq!(
        client
            .list_messages(authed(&other_visitor, msgs.clone()))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let ids = pb::GetCustomerIdentitiesRequest {
        conversation_id: c.id.clone(),
    };
    assert_eq!(
        client
            .get_customer_identities(authed(&other_visitor, ids.clone()))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    assert_eq!(
        client
            .get_customer_identities(authed(&stranger, ids.clone()))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let list = pb::ListConversationsRequest::default();
    assert!(
        client
            .list_conversations(authed(&stranger, list.clone()))
            .await
            .unwrap()
            .into_inner()
            .conversations
            .is_empty()
    );
    assert!(
        client
            .list_conversations(authed(&other_visitor, list.clone()))
            .await
            .unwrap()
            .into_inner()
            .conversations
            .is_empty()
    );

    // The owner and the org's staff see it; agents of its queue too (TEN-3).
    assert!(
        client
            .get_conversation(authed(&h.token("v1", Role::Visitor), get(&c.id)))
            .await
            .is_ok()
    );
    assert!(
        client
            .get_conversation(authed(&h.token("a9", Role::Agent), get(&c.id)))
            .await
            .is_ok()
    );
    let identities = client
        .get_customer_identities(authed(&h.token("a9", Role::Agent), ids))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identities.identities[0].value, "v1");
    assert_eq!(
        client
            .list_conversations(authed(&h.token("v1", Role::Visitor), list))
            .await
            .unwrap()
            .into_inner()
            .conversations
            .len(),
        1
    );

    // No token at all.
    assert_eq!(
        client
            .get_conversation(get(&c.id))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::Unauthenticated
    );
}

// spec: CNV-15
#[tokio::test]
async fn listing_pages_with_a_cursor_and_filters() {
    let h = Harness::start().await;
    for v in ["v1", "v2", "v3"] {
        h.start_chat(v, "hi", "").await.unwrap();
    }
    let sup = h.token("sup", Role::Supervisor);
    let mut client = h.client().await;
    let page = |token: &str| pb::ListConversationsRequest {
        page: Some(livedesk_proto::common::v1::PageRequest {
            page_size: 2,
            page_token: token.into(),
        }),
        statuses: vec![pb::ConversationStatus::Queued as i32],
        ..Default::default()
    };
    let first = client
        .list_conversations(authed(&sup, page("")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.conversations.len(), 2);
    let token = first.page.unwrap().next_page_token;
    let second = client
        .list_conversations(authed(&sup, page(&token)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.conversations.len(), 1);
    assert!(
        first
            .conversations
            .iter()
            .all(|c| c.id != second.conversations[0].id)
    );
    let closed = pb::ListConversationsRequest {
        closed_only: true,
        ..Default::default()
    };
    assert!(
        client
            .list_conversations(authed(&sup, closed))
            .await
            .unwrap()
            .into_inner()
            .conversations
            .is_empty()
    );
    let bad = pb::ListConversationsRequest {
        queue_id: "x".into(),
        ..Default::default()
    };
    assert_eq!(
        client
            .list_conversations(authed(&sup, bad))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::InvalidArgument
    );
}
