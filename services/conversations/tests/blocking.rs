//! A block through the real blocking service (BLK-3, BLK-4, BLK-5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::blocking::v1 as bpb;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

fn send(id: &str, text: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: id.into(),
        text: text.into(),
        ..Default::default()
    }
}

// spec: BLK-3
// spec: BLK-4
// spec: CNV-3
#[tokio::test]
async fn a_blocked_customer_is_silenced_refused_and_the_conversation_stays_readable() {
    let h = Harness::start().await;
    let c = conversation(&h.start_chat("v1", "you are useless", "").await.unwrap());
    // An agent of the conversation's queue blocks it (BLK-1, TEN-3).
    h.serve(&["a1"]).await;
    let agent = h.token("a1", Role::Agent);
    let mut blocking = BlockingServiceClient::new(h.blocking.channel().await.unwrap());
    let block = blocking
        .block_customer(authed(
            &agent,
            bpb::BlockCustomerRequest {
                conversation_id: c.id.clone(),
                reason: "abuse".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();

    let blocked = h.wait_status(&c.id, pb::ConversationStatus::Blocked).await;
    assert_eq!(blocked.ended_by, pb::EndedBy::Agent as i32);
    let ended: pb::ConversationEnded = h.event(&c.id).await;
    assert_eq!(ended.status, pb::ConversationStatus::Blocked as i32);
    assert_eq!(ended.ended_by_principal_id, "a1");

    // BLK-3: the next customer message is dropped: hidden, never returned.
    let mut client = h.client().await;
    let visitor = h.token("v1", Role::Visitor);
    let resp = client
        .send_message(authed(&visitor, send(&c.id, "let me in")))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.message.is_none());
    let dropped: pb::MessageDropped = h.event(&c.id).await;
    assert_eq!(dropped.block_id, block.id);
    let sup = h.token("sup", Role::Supervisor);
    let msgs = client
        .list_messages(authed(
            &sup,
            pb::ListMessagesRequest {
                conversation_id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert!(msgs.iter().all(|m| m.text != "let me in"));
    assert_eq!(
        h.count("SELECT count(*) AS n FROM messages WHERE hidden")
            .await,
        1
    );

    // BLK-4: staff replies are refused; the conversation is in the closed list.
    let err = client
        .send_message(authed(&sup, send(&c.id, "goodbye")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let closed = client
        .list_conversations(authed(
            &sup,
            pb::ListConversationsRequest {
                closed_only: true,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversations;
    assert_eq!(
        closed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [c.id.as_str()]
    );

    // BLK-3 / CNV-3: a new conversation is refused, nothing stored.
    let err = h.start_chat("v1", "new try", "").await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    assert_eq!(err.message(), "customer is blocked");
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 1);

    // The blocking service counted the dropped message (BLK-3).
    let counted = livedesk_testkit::eventually(10, "dropped count", || {
        let mut blocking = blocking.clone();
        let (agent, id) = (agent.clone(), block.id.clone());
        async move {
            let b = blocking
                .get_block(authed(&agent, bpb::GetBlockRequest { id }))
                .await
                .ok()?
                .into_inner();
            (b.dropped_messages == 1).then_some(b)
        }
    })
    .await;
    assert!(counted.is_ok());
}

// spec: BLK-5
// spec: BLK-8
#[tokio::test]
async fn lifted_and_expired_blocks_leave_the_cache() {
    let h = Harness::start().await;
    let c = conversation(&h.start_chat("v1", "hi", "").await.unwrap());
    let identity = livedesk_proto::common::v1::CustomerIdentity {
        kind: 1,
        value: "v1".into(),
    };
    let block = |id: &str, expires: Option<chrono::DateTime<chrono::Utc>>| bpb::Block {
        id: id.into(),
        conversation_id: String::new(),
        identities: vec![identity.clone()],
        blocked_by: "a1".into(),
        expires_at: expires.map(livedesk_platform::time::to_proto),
        active: true,
        ..Default::default()
    };
    // An expired block (expires_at in the past) no longer applies.
    let old = uuid::Uuid::now_v7().to_string();
    h.publish(
        "blocking",
        &old,
        &bpb::CustomerBlocked {
            block: Some(block(
                &old,
                Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
            )),
        },
    )
    .await;
    let live = uuid::Uuid::now_v7().to_string();
    h.publish(
        "blocking",
        &live,
        &bpb::CustomerBlocked {
            block: Some(block(&live, None)),
        },
    )
    .await;
    livedesk_testkit::eventually(10, "cache filled", || async {
        (h.count("SELECT count(*) AS n FROM blocked_identities")
            .await
            == 2)
            .then_some(())
    })
    .await
    .unwrap();
    let visitor = h.token("v1", Role::Visitor);
    let mut client = h.client().await;
    assert!(
        client
            .send_message(authed(&visitor, send(&c.id, "dropped")))
            .await
            .unwrap()
            .into_inner()
            .message
            .is_none()
    );

    h.publish(
        "blocking",
        &live,
        &bpb::CustomerUnblocked {
            block: Some(block(&live, None)),
        },
    )
    .await;
    livedesk_testkit::eventually(10, "cache emptied", || async {
        (h.count(&format!(
            "SELECT count(*) AS n FROM blocked_identities WHERE block_id = '{live}'"
        ))
        .await
            == 0)
            .then_some(())
    })
    .await
    .unwrap();
    let shown = client
        .send_message(authed(&visitor, send(&c.id, "shown")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        shown.message.unwrap().text,
        "shown",
        "messages after unblocking are shown"
    );
}
