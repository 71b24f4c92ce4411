//! After the end (CNV-8): a customer message to an ended conversation
//! starts a new one through the same checks, attached to the latest request
//! that is not CLOSED; the transcript email at close.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, send};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

async fn end_as(h: &Harness, token: &str, id: &str, status: pb::RequestStatus) {
    h.client()
        .await
        .end_conversation(authed(
            token,
            pb::EndConversationRequest {
                id: id.into(),
                request_status: status as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
}

// spec: CNV-8
// spec: TEN-5
#[tokio::test]
async fn a_message_to_an_ended_conversation_starts_a_new_one_on_the_open_request() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let agent = h.token("a1", Role::Agent);
    end_as(&h, &agent, &c.id, pb::RequestStatus::Pending).await;

    let visitor = h.token("v1", Role::Visitor);
    let mut client = h.client().await;
    let first = client
        .send_message(authed(&visitor, send(&c.id, "one more question", "k1")))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        first.conversation_id, c.id,
        "an ended conversation is never reopened"
    );
    let next = h.get(&first.conversation_id).await;
    assert_eq!(next.status, pb::ConversationStatus::Queued as i32);
    assert_eq!(
        next.request_id, c.request_id,
        "the PENDING request continues"
    );
    assert_eq!(
        (next.channel, next.queue_id.as_str()),
        (c.channel, c.queue_id.as_str())
    );
    assert_eq!(first.message.as_ref().unwrap().text, "one more question");
    let queued: pb::ConversationQueued = h.event(&next.id).await;
    assert_eq!(queued.first_messages, ["one more question"]);
    assert_eq!(
        h.get(&c.id).await.status,
        pb::ConversationStatus::Ended as i32
    );

    // A retry returns the same message and creates nothing more (TEN-5).
    let again = client
        .send_message(authed(&visitor, send(&c.id, "one more question", "k1")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.conversation_id, first.conversation_id);
    assert_eq!(
        again.message.unwrap().id,
        first.message.as_ref().unwrap().id
    );
    // Another message to the old id joins the live follow-up.
    let more = client
        .send_message(authed(&visitor, send(&c.id, "and another", "k2")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(more.conversation_id, first.conversation_id);
    assert_eq!(more.message.unwrap().sequence, 2);
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 2);

    // Once the request is CLOSED, the next follow-up opens a new request.
    end_as(
        &h,
        &h.token("sup", Role::Supervisor),
        &next.id,
        pb::RequestStatus::Closed,
    )
    .await;
    let third = client
        .send_message(authed(&visitor, send(&next.id, "hello again", "")))
        .await
        .unwrap()
        .into_inner();
    let third = h.get(&third.conversation_id).await;
    assert_ne!(third.request_id, c.request_id);
}

// spec: CNV-8
// spec: CNV-3
#[tokio::test]
async fn a_follow_up_goes_through_the_schedule_check() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    end_as(
        &h,
        &h.token("a1", Role::Agent),
        &c.id,
        pb::RequestStatus::Open,
    )
    .await;
    h.close_with_offline_form().await;
    let err = h
        .client()
        .await
        .send_message(authed(
            &h.token("v1", Role::Visitor),
            send(&c.id, "hello?", ""),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 1);
}

// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn only_the_customer_can_follow_up_and_other_orgs_see_nothing() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    end_as(
        &h,
        &h.token("a1", Role::Agent),
        &c.id,
        pb::RequestStatus::Open,
    )
    .await;
    let mut client = h.client().await;
    let other_visitor = h.token("v2", Role::Visitor);
    let stranger = h
        .env
        .token(livedesk_testkit::new_org(), "v1", Role::Visitor);
    for token in [other_visitor, stranger] {
        let err = client
            .send_message(authed(&token, send(&c.id, "hi", "")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }
    // Staff cannot reply into an ended conversation; nothing is created.
    let err = client
        .send_message(authed(
            &h.token("sup", Role::Supervisor),
            send(&c.id, "hi", ""),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 1);
}

// spec: CNV-8
// spec: TEN-4
#[tokio::test]
async fn the_transcript_is_emailed_at_close_with_the_note() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let mut client = h.client().await;
    let agent = h.token("a1", Role::Agent);
    client
        .send_message(authed(&agent, send(&c.id, "Your refund is on its way", "")))
        .await
        .unwrap();
    let mut req = pb::EndConversationRequest {
        id: c.id.clone(),
        transcript_email: "melissa@gmail.com\r\nBcc: spam@evil.com".into(),
        qualification: Some(pb::Qualification {
            note: "Refund of order 42".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = client
        .end_conversation(authed(&agent, req.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("transcript_email"),
        "{}",
        err.message()
    );
    assert_eq!(
        h.get(&c.id).await.status,
        pb::ConversationStatus::Active as i32
    );

    req.transcript_email = " Melissa@Gmail.com ".into();
    client.end_conversation(authed(&agent, req)).await.unwrap();
    let email: pb::EmailRequested = h.event(&c.id).await;
    assert_eq!(email.kind, "transcript");
    assert_eq!(email.to, ["melissa@gmail.com"]);
    assert_eq!(email.request_id, c.request_id);
    assert!(email.text_body.contains("hello"), "{}", email.text_body);
    assert!(email.text_body.contains("Alice: Your refund is on its way"));
    assert!(email.text_body.contains("Note: Refund of order 42"));
    assert!(!email.subject.contains(['\r', '\n']));
    assert!(email.message_id.starts_with('<') && email.message_id.ends_with('>'));
}
