//! Pause on social channels (CNV-12).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Harness;
use livedesk_auth::Role;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

fn pause(id: &str) -> pb::PauseConversationRequest {
    pb::PauseConversationRequest { id: id.into() }
}

// spec: CNV-12
#[tokio::test]
async fn a_paused_social_conversation_resumes_on_the_customers_message_preferring_the_agent() {
    let h = Harness::start().await;
    let c = h
        .start_social(Channel::Whatsapp, "+33612345678", "hello")
        .await;
    h.assign(&c.id, "a1", "Alice").await;
    let mut client = h.client().await;
    let paused = client
        .pause_conversation(authed(&h.token("a1", Role::Agent), pause(&c.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paused.status, pb::ConversationStatus::Paused as i32);
    assert!(paused.assigned_agent_id.is_empty(), "the agent is freed");
    let event: pb::ConversationPaused = h.event(&c.id).await;
    assert_eq!(event.agent_id, "a1");

    let resumed = h.social_message(&c.id, "I am back").await.unwrap();
    assert_eq!(
        resumed.conversation_id, c.id,
        "the same conversation resumes"
    );
    assert_eq!(
        resumed.message.unwrap().author_kind,
        pb::AuthorKind::Customer as i32
    );
    let q = h.wait_status(&c.id, pb::ConversationStatus::Queued).await;
    assert_eq!(q.id, c.id);
    let requeued = crate::common::Harness::events_of::<pb::ConversationQueued>(&h, &c.id).await;
    let last = requeued.last().unwrap();
    assert_eq!(requeued.len(), 2);
    assert_eq!(last.preferred_agent_id, "a1");
    assert!(last.enqueued_at.unwrap().seconds >= last.created_at.unwrap().seconds);
    let again = h.assign(&c.id, "a1", "Alice").await;
    assert_eq!(again.status, pb::ConversationStatus::Active as i32);
}

// spec: CNV-12
// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn only_the_owner_pauses_and_only_social_channels() {
    let h = Harness::start().await;
    let web = h.active_chat("v1", "a1").await;
    let mut client = h.client().await;
    let err = client
        .pause_conversation(authed(&h.token("a1", Role::Agent), pause(&web.id)))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::FailedPrecondition,
        "web chat cannot pause"
    );

    let c = h.start_social(Channel::Messenger, "psid-1", "hello").await;
    h.assign(&c.id, "a1", "Alice").await;
    for (token, code) in [
        (h.token("a2", Role::Agent), tonic::Code::NotFound),
        (h.token("v1", Role::Visitor), tonic::Code::PermissionDenied),
        (
            h.token("sup", Role::Supervisor),
            tonic::Code::PermissionDenied,
        ),
        (
            h.env.token(livedesk_testkit::new_org(), "a1", Role::Agent),
            tonic::Code::NotFound,
        ),
    ] {
        let err = client
            .pause_conversation(authed(&token, pause(&c.id)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{}", err.message());
    }
    let err = client
        .pause_conversation(authed(&h.token("a1", Role::Agent), pause("nope")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        h.get(&c.id).await.status,
        pb::ConversationStatus::Active as i32
    );
}
