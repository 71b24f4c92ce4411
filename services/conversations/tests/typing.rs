//! `SendTyping` (NTF-1): the indicator leaves on core NATS for the other
//! side's participants only, is rate limited per principal and
//! conversation, and nothing of it is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::Harness;
use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::notifications::v1::Notification;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_testkit::authed;
use prost::Message as _;
use tonic::Code;

/// (recipients, typist, typing) of the next indicator on the wire.
async fn next(sub: &mut async_nats::Subscriber) -> (Vec<String>, String, bool) {
    let msg = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("no typing indicator within 10 s")
        .unwrap();
    let to = msg
        .headers
        .as_ref()
        .map(|h| {
            h.get_all("Livedesk-Recipient")
                .map(|v| v.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let n = Notification::decode(msg.payload.as_ref()).unwrap();
    assert_eq!(n.sequence, 0, "never part of a feed");
    match n.kind {
        Some(Kind::Typing(t)) => (to, t.principal_id, t.typing),
        other => panic!("expected typing, got {other:?}"),
    }
}

async fn send(h: &Harness, token: &str, id: &str, typing: bool) -> Result<(), tonic::Status> {
    h.client()
        .await
        .send_typing(authed(
            token,
            pb::SendTypingRequest {
                conversation_id: id.into(),
                typing,
            },
        ))
        .await
        .map(drop)
}

// spec: NTF-1
#[tokio::test]
async fn typing_reaches_the_other_side_only_rate_limited_and_unstored() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let nats = h.env.nats().await.unwrap();
    let mut sub = nats
        .subscribe(Subjects::new(h.env.prefix.clone()).typing(&h.org.to_string()))
        .await
        .unwrap();
    nats.flush().await.unwrap();
    let (visitor, agent) = (h.token("v1", Role::Visitor), h.token("a1", Role::Agent));
    let before = h.get(&c.id).await;

    send(&h, &visitor, &c.id, true).await.unwrap();
    assert_eq!(next(&mut sub).await, (vec!["a1".into()], "v1".into(), true));
    send(&h, &agent, &c.id, true).await.unwrap();
    assert_eq!(next(&mut sub).await, (vec!["v1".into()], "a1".into(), true));

    // Within the second: coalesced (OK, not forwarded). The agent's next
    // indicator is the positive marker that the visitor's never left.
    send(&h, &visitor, &c.id, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // the rate window itself
    send(&h, &agent, &c.id, false).await.unwrap();
    assert_eq!(
        next(&mut sub).await,
        (vec!["v1".into()], "a1".into(), false)
    );

    // Outsiders: another visitor and an agent of no queue see nothing; an
    // agent of the queue who does not take part may not type.
    assert_eq!(
        send(&h, &h.token("v2", Role::Visitor), &c.id, true)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        send(&h, &h.token("a2", Role::Agent), &c.id, true)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    h.serve(&["a3"]).await;
    assert_eq!(
        send(&h, &h.token("a3", Role::Agent), &c.id, true)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // Nothing stored: no message, no event.
    let after = h.get(&c.id).await;
    assert_eq!(after.last_sequence, before.last_sequence);
    assert!(
        h.events()
            .await
            .iter()
            .all(|e| !e.r#type.to_lowercase().contains("typing"))
    );

    // An ended conversation refuses typing.
    h.client()
        .await
        .end_conversation(authed(
            &agent,
            pb::EndConversationRequest {
                id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        send(&h, &visitor, &c.id, true).await.unwrap_err().code(),
        Code::FailedPrecondition
    );
}

// spec: NTF-3, BLK-3
#[tokio::test]
async fn no_typing_leaves_or_reaches_a_blocked_customer() {
    use livedesk_proto::blocking::v1::BlockCustomerRequest;
    use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;

    let h = Harness::start().await;
    let blocked = h.active_chat("v1", "a1").await;
    let other = h.active_chat("v2", "a2").await;
    let nats = h.env.nats().await.unwrap();
    let mut sub = nats
        .subscribe(Subjects::new(h.env.prefix.clone()).typing(&h.org.to_string()))
        .await
        .unwrap();
    nats.flush().await.unwrap();
    let (visitor, agent) = (h.token("v1", Role::Visitor), h.token("a1", Role::Agent));
    BlockingServiceClient::new(h.blocking.channel().await.unwrap())
        .block_customer(authed(
            &agent,
            BlockCustomerRequest {
                conversation_id: blocked.id.clone(),
                reason: "abuse".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    h.wait_status(&blocked.id, pb::ConversationStatus::Blocked)
        .await;

    // Neither side of the blocked conversation may type any more...
    for token in [&visitor, &agent] {
        assert_eq!(
            send(&h, token, &blocked.id, true).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
    }
    // ...and nothing of theirs went out: the next indicator on the wire is
    // the positive marker from another conversation.
    send(&h, &h.token("v2", Role::Visitor), &other.id, true)
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await, (vec!["a2".into()], "v2".into(), true));
}
