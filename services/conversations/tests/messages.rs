//! Assignment, messages and the end of a conversation (CNV-4, CNV-8, CNV-9).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::routing::v1::{ConversationAbandoned, ConversationAssigned};
use livedesk_testkit::authed;

async fn assigned(h: &Harness, visitor: &str, agent: &str) -> pb::Conversation {
    let c = conversation(&h.start_chat(visitor, "hello", "").await.unwrap());
    let event = ConversationAssigned {
        conversation_id: c.id.clone(),
        agent_id: agent.into(),
        agent_display_name: "Alice".into(),
        queue_id: c.queue_id.clone(),
        ..Default::default()
    };
    h.publish("routing", &c.id, &event).await;
    h.wait_status(&c.id, pb::ConversationStatus::Active).await
}

fn send(id: &str, text: &str, key: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: id.into(),
        text: text.into(),
        client_message_id: key.into(),
        ..Default::default()
    }
}

// spec: CNV-4
// spec: TEN-5
#[tokio::test]
async fn an_assigned_conversation_orders_messages_and_retries_return_the_first() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    assert_eq!(c.assigned_agent_id, "a1");
    assert!(
        c.participants
            .iter()
            .any(|p| p.principal_id == "a1" && p.role == "agent" && p.active)
    );
    let activated: pb::ConversationActivated = h.event(&c.id).await;
    assert_eq!(activated.agent_id, "a1");

    let mut client = h.client().await;
    let agent = h.token("a1", Role::Agent);
    let visitor = h.token("v1", Role::Visitor);
    let m2 = client
        .send_message(authed(&agent, send(&c.id, "Hi,\nhow can I help?", "m-2")))
        .await
        .unwrap()
        .into_inner();
    let m3 = client
        .send_message(authed(&visitor, send(&c.id, "my order", "m-3")))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .send_message(authed(&agent, send(&c.id, "Hi,\nhow can I help?", "m-2")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m2.message.as_ref().unwrap().sequence, 2);
    assert_eq!(m3.message.as_ref().unwrap().sequence, 3);
    assert_eq!(
        again.message.as_ref().unwrap().id,
        m2.message.as_ref().unwrap().id,
        "a retry returns the first message"
    );
    assert_eq!(
        m2.message.as_ref().unwrap().author_kind,
        pb::AuthorKind::Agent as i32
    );
    assert_eq!(
        m3.message.as_ref().unwrap().author_kind,
        pb::AuthorKind::Customer as i32
    );

    let posted: pb::MessagePosted = h.event(&c.id).await;
    assert!(
        posted.audience.contains(&"v1".to_string()) && posted.audience.contains(&"a1".to_string())
    );

    let list = client
        .list_messages(authed(
            &agent,
            pb::ListMessagesRequest {
                conversation_id: c.id.clone(),
                after_sequence: 1,
                limit: 10,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(list.iter().map(|m| m.sequence).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(h.count("SELECT count(*) AS n FROM messages").await, 3);
}

// spec: CNV-4
// spec: TEN-4
#[tokio::test]
async fn agent_text_rules_are_enforced_and_name_the_field() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let agent = h.token("a1", Role::Agent);
    let mut client = h.client().await;
    for bad in [
        "see <customer.name>".to_string(),
        "a".repeat(1001),
        String::new(),
        "x > y".into(),
    ] {
        let err = client
            .send_message(authed(&agent, send(&c.id, &bad, "")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("text"), "{}", err.message());
    }
    assert!(
        client
            .send_message(authed(&agent, send(&c.id, &"é".repeat(1000), "")))
            .await
            .is_ok()
    );
    // The customer may write < and > (it is never interpreted).
    assert!(
        client
            .send_message(authed(
                &h.token("v1", Role::Visitor),
                send(&c.id, "2 < 3", "")
            ))
            .await
            .is_ok()
    );
    assert_eq!(h.count("SELECT count(*) AS n FROM messages").await, 3);
}

// spec: CNV-9
#[tokio::test]
async fn staff_reads_mask_emails_and_phones_the_customer_sees_them() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let mut client = h.client().await;
    let visitor = h.token("v1", Role::Visitor);
    client
        .send_message(authed(
            &visitor,
            send(&c.id, "write to melissa@gmail.com or +447966197542", ""),
        ))
        .await
        .unwrap();
    let read = |token: String| {
        let mut client = client.clone();
        let id = c.id.clone();
        async move {
            client
                .list_messages(authed(
                    &token,
                    pb::ListMessagesRequest {
                        conversation_id: id,
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner()
                .messages
        }
    };
    let staff = read(h.token("a1", Role::Agent)).await;
    assert!(
        staff[1].text.contains("m******@gmail.com") && staff[1].text.contains("*********7542"),
        "{}",
        staff[1].text
    );
    let own = read(visitor).await;
    assert!(own[1].text.contains("melissa@gmail.com"));
}

// spec: CNV-8
#[tokio::test]
async fn the_customer_ends_a_system_message_is_added_and_ending_twice_fails() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let mut client = h.client().await;
    let visitor = h.token("v1", Role::Visitor);
    let ended = client
        .end_conversation(authed(
            &visitor,
            pb::EndConversationRequest {
                id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.status, pb::ConversationStatus::Ended as i32);
    assert_eq!(ended.ended_by, pb::EndedBy::Customer as i32);
    let msgs = client
        .list_messages(authed(
            &visitor,
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
        (
            pb::AuthorKind::System as i32,
            "The customer ended the conversation"
        )
    );
    let event: pb::ConversationEnded = h.event(&c.id).await;
    assert_eq!(event.ended_by, pb::EndedBy::Customer as i32);
    assert_eq!(event.agent_ids, ["a1"]);
    assert!(!event.abandoned && event.assigned_at.is_some() && event.ended_at.is_some());
    assert_eq!(event.message_count, 2);

    let err = client
        .end_conversation(authed(
            &h.token("a1", Role::Agent),
            pb::EndConversationRequest {
                id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::PermissionDenied,
        "the agent is no longer an active participant"
    );
    let err = client
        .end_conversation(authed(
            &h.token("sup", Role::Supervisor),
            pb::EndConversationRequest {
                id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let err = client
        .send_message(authed(
            &h.token("sup", Role::Supervisor),
            send(&c.id, "hello?", ""),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
}

// spec: CNV-8
#[tokio::test]
async fn an_agent_end_keeps_a_pending_request_and_the_next_conversation_joins_it() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let agent = h.token("a1", Role::Agent);
    let req = pb::EndConversationRequest {
        id: c.id.clone(),
        request_status: pb::RequestStatus::Pending as i32,
        qualification: Some(pb::Qualification {
            tags: vec!["billing".into()],
            contact_reason: "refund".into(),
            note: "call back".into(),
        }),
        ..Default::default()
    };
    let ended = h
        .client()
        .await
        .end_conversation(authed(&agent, req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.qualification.as_ref().unwrap().tags, ["billing"]);
    let event: pb::ConversationEnded = h.event(&c.id).await;
    assert_eq!(event.request_status, pb::RequestStatus::Pending as i32);
    assert_eq!(event.ended_by, pb::EndedBy::Agent as i32);

    let next = conversation(&h.start_chat("v1", "me again", "").await.unwrap());
    assert_ne!(next.id, c.id, "an ended conversation is never reopened");
    assert_eq!(
        next.request_id, c.request_id,
        "attached to the request that is not closed"
    );

    // Closed request: the next one opens a new request.
    let sup = h.token("sup", Role::Supervisor);
    h.client()
        .await
        .end_conversation(authed(
            &sup,
            pb::EndConversationRequest {
                id: next.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let third = conversation(&h.start_chat("v1", "and again", "").await.unwrap());
    assert_ne!(third.request_id, c.request_id);
}

// spec: CNV-3
#[tokio::test]
async fn an_abandoned_conversation_ends_by_the_system() {
    let h = Harness::start().await;
    let c = conversation(&h.start_chat("v1", "anyone?", "").await.unwrap());
    let event = ConversationAbandoned {
        conversation_id: c.id.clone(),
        queue_id: c.queue_id.clone(),
        waited_seconds: 600,
        reason: "max_wait".into(),
    };
    h.publish("routing", &c.id, &event).await;
    let ended = h.wait_status(&c.id, pb::ConversationStatus::Ended).await;
    assert_eq!(ended.ended_by, pb::EndedBy::System as i32);
    let event: pb::ConversationEnded = h.event(&c.id).await;
    assert!(event.abandoned);
    assert!(event.agent_ids.is_empty());
}

// spec: CNV-9
#[tokio::test]
async fn an_org_can_turn_pii_masking_off_and_only_admins_may() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let mut client = h.client().await;
    client
        .send_message(authed(
            &h.token("v1", Role::Visitor),
            send(&c.id, "melissa@gmail.com", ""),
        ))
        .await
        .unwrap();
    let sup = h.token("sup", Role::Supervisor);
    let defaults = client
        .get_settings(authed(&sup, pb::GetSettingsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(defaults.mask_pii && defaults.natural_close_days == 7);
    let off = pb::ConversationSettings {
        mask_pii: false,
        natural_close_days: 7,
        retention_days: 0,
    };
    assert_eq!(
        client
            .update_settings(authed(&sup, off))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    let bad = pb::ConversationSettings {
        natural_close_days: 0,
        ..off
    };
    assert_eq!(
        client
            .update_settings(authed(&h.token("adm", Role::Admin), bad))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::InvalidArgument
    );
    client
        .update_settings(authed(&h.token("adm", Role::Admin), off))
        .await
        .unwrap();
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
    assert_eq!(msgs[1].text, "melissa@gmail.com");
}
