//! Routing's transfers, conferences and interruptions as seen by
//! conversations (RTG-7, RTG-8, RTG-11), played by publishing routing's
//! events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, send};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::routing::v1::{
    Conference, ConferenceChanged, ConferenceState, ConversationAbandoned, ConversationAssigned,
    ConversationInterrupted, ConversationTransferred,
};
use livedesk_testkit::{authed, eventually};

fn active(c: &pb::Conversation, agent: &str) -> bool {
    c.participants
        .iter()
        .any(|p| p.principal_id == agent && p.role == "agent" && p.active)
}

// spec: RTG-7
#[tokio::test]
async fn a_transfer_to_a_queue_requeues_and_the_next_agent_takes_over() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let queue = uuid::Uuid::now_v7().to_string();
    let t = ConversationTransferred {
        conversation_id: c.id.clone(),
        from_agent_id: "a1".into(),
        to_queue_id: queue.clone(),
        ..Default::default()
    };
    h.publish("routing", &c.id, &t).await;
    let q = h.wait_status(&c.id, pb::ConversationStatus::Queued).await;
    assert_eq!(q.queue_id, queue);
    assert!(q.assigned_agent_id.is_empty() && !active(&q, "a1"));
    // The former owner can no longer write.
    let err = h
        .client()
        .await
        .send_message(authed(
            &h.token("a1", Role::Agent),
            send(&c.id, "still here", ""),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let b = h.assign(&c.id, "a2", "Bob").await;
    assert!(active(&b, "a2") && !active(&b, "a1"));
}

// spec: RTG-7
#[tokio::test]
async fn a_transfer_to_an_agent_swaps_owners_only_when_assigned() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let t = ConversationTransferred {
        conversation_id: c.id.clone(),
        from_agent_id: "a1".into(),
        to_agent_id: "a2".into(),
        ..Default::default()
    };
    h.publish("routing", &c.id, &t).await;
    let assigned = ConversationAssigned {
        conversation_id: c.id.clone(),
        agent_id: "a2".into(),
        agent_display_name: "Bob".into(),
        previous_agent_id: "a1".into(),
        ..Default::default()
    };
    h.publish("routing", &c.id, &assigned).await;
    let b = eventually(10, "swap", || async {
        let c = h.get(&c.id).await;
        (c.assigned_agent_id == "a2").then_some(c)
    })
    .await
    .unwrap();
    assert_eq!(
        b.status,
        pb::ConversationStatus::Active as i32,
        "never requeued"
    );
    assert!(active(&b, "a2") && !active(&b, "a1"));
}

// spec: RTG-8
#[tokio::test]
async fn a_conference_guest_joins_with_a_system_message_and_leaves_at_the_end() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let conf = |state: ConferenceState| ConferenceChanged {
        conference: Some(Conference {
            conversation_id: c.id.clone(),
            owner_agent_id: "a1".into(),
            invited_agent_id: "a2".into(),
            state: state as i32,
        }),
        invited_agent_display_name: "Bob".into(),
    };
    h.publish("routing", &c.id, &conf(ConferenceState::Requested))
        .await;
    h.publish("routing", &c.id, &conf(ConferenceState::Active))
        .await;
    let both = eventually(10, "guest joined", || async {
        let c = h.get(&c.id).await;
        active(&c, "a2").then_some(c)
    })
    .await
    .unwrap();
    assert!(active(&both, "a1"), "the owner stays");
    let msgs = h
        .client()
        .await
        .list_messages(authed(
            &h.token("a2", Role::Agent),
            pb::ListMessagesRequest {
                conversation_id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    let last = msgs.last().unwrap();
    assert_eq!(
        (last.author_kind, last.text.as_str()),
        (pb::AuthorKind::System as i32, "Bob joined the chat")
    );
    // The guest can write while in the conference.
    h.client()
        .await
        .send_message(authed(
            &h.token("a2", Role::Agent),
            send(&c.id, "Hi, Bob here", ""),
        ))
        .await
        .unwrap();
    h.publish("routing", &c.id, &conf(ConferenceState::Ended))
        .await;
    let alone = eventually(10, "guest left", || async {
        let c = h.get(&c.id).await;
        (!active(&c, "a2")).then_some(c)
    })
    .await
    .unwrap();
    assert!(active(&alone, "a1"));
    // One join message only, even if routing repeats itself.
    h.publish("routing", &c.id, &conf(ConferenceState::Ended))
        .await;
    assert_eq!(
        h.count("SELECT count(*) AS n FROM messages WHERE text = 'Bob joined the chat'")
            .await,
        1
    );
}

// spec: RTG-11
#[tokio::test]
async fn an_interrupted_conversation_can_only_be_ended() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let i = ConversationInterrupted {
        conversation_id: c.id.clone(),
        reason: "queue_deleted".into(),
        agent_ids: vec!["a1".into()],
    };
    h.publish("routing", &c.id, &i).await;
    eventually(10, "interrupted", || async {
        h.get(&c.id).await.interrupted.then_some(())
    })
    .await
    .unwrap();
    let mut client = h.client().await;
    for token in [h.token("v1", Role::Visitor), h.token("a1", Role::Agent)] {
        let err = client
            .send_message(authed(&token, send(&c.id, "hello?", "")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        assert_eq!(err.message(), "conversation was interrupted");
    }
    let err = client
        .pause_conversation(authed(
            &h.token("a1", Role::Agent),
            pb::PauseConversationRequest { id: c.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let ended = client
        .end_conversation(authed(
            &h.token("a1", Role::Agent),
            pb::EndConversationRequest {
                id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ended.ended_by,
        pb::EndedBy::Agent as i32,
        "the end keeps who ended it"
    );
}

// spec: RTG-11
#[tokio::test]
async fn a_system_end_after_an_interruption_is_resource_deleted() {
    let h = Harness::start().await;
    let c = crate::common::conversation(&h.start_chat("v1", "anyone?", "").await.unwrap());
    let i = ConversationInterrupted {
        conversation_id: c.id.clone(),
        reason: "queue_deleted".into(),
        agent_ids: vec![],
    };
    h.publish("routing", &c.id, &i).await;
    let a = ConversationAbandoned {
        conversation_id: c.id.clone(),
        queue_id: c.queue_id.clone(),
        reason: "max_wait".into(),
        ..Default::default()
    };
    h.publish("routing", &c.id, &a).await;
    let ended = h.wait_status(&c.id, pb::ConversationStatus::Ended).await;
    assert_eq!(ended.ended_by, pb::EndedBy::ResourceDeleted as i32);
}
