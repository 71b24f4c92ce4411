//! RTG-15: a queued customer's position (priority, then age) and estimated
//! wait from the queue's recent throughput, pushed as it changes; the
//! staff's listing of a queue in the same order, paginated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::common::v1::PageRequest;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use uuid::Uuid;

async fn enqueue(env: &TestEnv, org: Uuid, visitor: &str, priority: i32) -> Uuid {
    let conv = Uuid::now_v7();
    let mut e = queued_event(conv, "", visitor);
    e.customer_principal_id = visitor.to_owned();
    e.priority = priority;
    publish(env, org, conv, &e).await;
    conv
}

async fn position(
    env: &TestEnv,
    c: &mut Client,
    org: Uuid,
    who: (&str, Role),
    conv: Uuid,
) -> Result<pb::QueuePosition, tonic::Status> {
    c.get_queue_position(req(
        env,
        org,
        who.0,
        who.1,
        pb::GetQueuePositionRequest {
            conversation_id: conv.to_string(),
        },
    ))
    .await
    .map(tonic::Response::into_inner)
}

/// The latest pushed position of `conv`.
fn pushed(rec: &Recorder, conv: Uuid) -> Option<pb::QueuePosition> {
    let c = conv.to_string();
    rec.all::<pb::QueuePositionChanged>()
        .into_iter()
        .filter_map(|e| e.position)
        .rfind(|p| p.conversation_id == c)
}

// spec: RTG-15, RTG-4, TEN-3
#[tokio::test]
async fn positions_follow_priority_then_age_and_are_pushed_as_they_change() {
    let env = TestEnv::new().await.unwrap();
    let svc = start_with(&env, &[("LIVEDESK_ROUTING__POSITIONS_MS", "200")]).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let a = enqueue(&env, org, "visitor-a", 0).await;
    let b = enqueue(&env, org, "visitor-b", 5).await;
    let cc = enqueue(&env, org, "visitor-c", 0).await;
    eventually(10, "three positions pushed", || {
        let got = [pushed(&rec, b), pushed(&rec, a), pushed(&rec, cc)]
            .map(|p| p.map(|p| p.position).unwrap_or(0));
        async move { (got == [1, 2, 3]).then_some(()) }
    })
    .await
    .unwrap();

    // The visitor sees their own position; no estimate without throughput.
    let p = position(&env, &mut c, org, ("visitor-a", Role::Visitor), a)
        .await
        .unwrap();
    assert_eq!((p.position, p.estimated_wait_seconds), (2, 0));
    // Another visitor, or another org, learns nothing.
    let err = position(&env, &mut c, org, ("visitor-b", Role::Visitor), a)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    let err = position(&env, &mut c, new_org(), ("boss", Role::Supervisor), a)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    let err = c
        .get_queue_position(req(
            &env,
            org,
            "boss",
            Role::Service,
            pb::GetQueuePositionRequest {
                conversation_id: "nope".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let staff = position(&env, &mut c, org, ("svc", Role::Service), cc)
        .await
        .unwrap();
    assert_eq!(staff.position, 3);

    // Ada (capacity 1) takes the first: everyone moves up, with an estimate.
    c.upsert_agent(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: "ada".into(),
            capacities: vec![pb::ChannelCapacity {
                channel: 1,
                capacity: 1,
            }],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    available(&env, &mut c, org, "ada").await;
    let offer = offer_to(&rec, b, "ada").await;
    accept(&env, &mut c, org, "ada", &offer).await;
    eventually(10, "positions moved up", || {
        let got = [pushed(&rec, a), pushed(&rec, cc)].map(|p| p.map(|p| p.position).unwrap_or(0));
        async move { (got == [1, 2]).then_some(()) }
    })
    .await
    .unwrap();
    // One assignment in the last 15 minutes: 900 s per place.
    assert_eq!(pushed(&rec, cc).unwrap().estimated_wait_seconds, 1800);
    let p = position(&env, &mut c, org, ("visitor-a", Role::Visitor), a)
        .await
        .unwrap();
    assert_eq!((p.position, p.estimated_wait_seconds), (1, 900));
    let err = position(&env, &mut c, org, ("visitor-b", Role::Visitor), b)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::FailedPrecondition,
        "assigned, not waiting"
    );
}

// spec: RTG-15, RTG-12, TEN-3, TEN-4
#[tokio::test]
async fn queued_conversations_are_listed_in_queue_order_page_by_page() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let a = enqueue(&env, org, "visitor-a", 0).await;
    let b = enqueue(&env, org, "visitor-b", 5).await;
    let cc = enqueue(&env, org, "visitor-c", 0).await;
    let list = |c: Client, who: (&'static str, Role), token: String| {
        let env = &env;
        async move {
            let mut c = c;
            c.list_queued_conversations(req(
                env,
                org,
                who.0,
                who.1,
                pb::ListQueuedConversationsRequest {
                    queue_id: String::new(),
                    page: Some(PageRequest {
                        page_size: 2,
                        page_token: token,
                    }),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
        }
    };
    // The three arrive as events of different conversations, handled
    // concurrently: wait for all three before reading the first page.
    eventually(10, "three queued", || {
        let mut c = c.clone();
        let r = req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::GetQueueStatusRequest::default(),
        );
        async move { (c.get_queue_status(r).await.ok()?.into_inner().waiting == 3).then_some(()) }
    })
    .await
    .unwrap();
    let first = eventually(10, "the first page", || {
        let l = list(c.clone(), ("boss", Role::Supervisor), String::new());
        async move {
            let l = l.await.ok()?;
            (l.conversations.len() == 2 && !l.page.as_ref()?.next_page_token.is_empty())
                .then_some(l)
        }
    })
    .await
    .unwrap();
    let ids: Vec<_> = first
        .conversations
        .iter()
        .map(|q| q.conversation_id.clone())
        .collect();
    assert_eq!(ids, [b.to_string(), a.to_string()]);
    assert_eq!(first.conversations[0].priority, 5);
    assert_eq!(first.conversations[0].customer_name, "visitor-b");
    let token = first.page.unwrap().next_page_token;
    let second = list(c.clone(), ("boss", Role::Supervisor), token)
        .await
        .unwrap();
    assert_eq!(second.conversations.len(), 1);
    assert_eq!(second.conversations[0].conversation_id, cc.to_string());
    assert!(second.page.unwrap().next_page_token.is_empty());

    // An agent of the queue may list it; visitors may not; garbage tokens
    // are refused.
    available(&env, &mut c, org, "ada").await;
    c.upsert_agent(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: "bob".into(),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let other = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Other".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(
        list(c.clone(), ("ada", Role::Agent), String::new())
            .await
            .is_ok()
    );
    let err = c
        .list_queued_conversations(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::ListQueuedConversationsRequest {
                queue_id: other.id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = list(c.clone(), ("v", Role::Visitor), String::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = list(c.clone(), ("boss", Role::Supervisor), "garbage".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}
