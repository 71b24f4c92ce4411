//! RTG-13: conversations leave the queue as abandoned — past the queue's
//! max wait (task TTL, swept by routing) or when the visitor leaves — and
//! any pending offer is withdrawn, freeing the agent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::conversations::v1::ConversationEnded;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use uuid::Uuid;

// spec: RTG-13
#[tokio::test]
async fn a_conversation_past_the_max_wait_is_abandoned_and_its_offer_withdrawn() {
    let env = TestEnv::new().await.unwrap();
    let svc = start_with(&env, &[("LIVEDESK_ROUTING__MAX_WAIT_SWEEP_MS", "200")]).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let q = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Short".into(),
            max_wait_seconds: 60,
            member_agent_ids: vec!["ada".into()],
            ..Default::default()
        },
    )
    .await;
    // Enqueued 57 s ago (its original age): offered now, over the limit in ~3 s.
    let conv = Uuid::now_v7();
    let mut e = queued_event(conv, &q.id, "Grace");
    e.enqueued_at = Some(livedesk_platform::time::to_proto(
        chrono::Utc::now() - chrono::Duration::seconds(57),
    ));
    publish(&env, org, conv, &e).await;
    offer_to(&rec, conv, "ada").await;
    assert_eq!(agent(&env, &mut c, org, "ada").await.active_load, 1);

    let conv_s = conv.to_string();
    let abandoned = rec
        .wait::<pb::ConversationAbandoned>("abandoned", |a| a.conversation_id == conv_s)
        .await;
    assert_eq!(abandoned.reason, "max_wait");
    assert_eq!(abandoned.queue_id, q.id);
    assert!(
        abandoned.waited_seconds >= 60,
        "{}",
        abandoned.waited_seconds
    );
    rec.wait_withdrawn(conv, "abandoned").await;
    assert_eq!(agent(&env, &mut c, org, "ada").await.active_load, 0);
    let status = c
        .get_queue_status(req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::GetQueueStatusRequest {
                queue_id: q.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.waiting, 0);
    // Exactly once, whatever the sweep's period. The marker: another
    // conversation already over the limit, enqueued now, is abandoned by a
    // later tick of the sweep; a second abandon of the first would have
    // been published no later than it.
    let marker = Uuid::now_v7();
    let mut e = queued_event(marker, &q.id, "Marker");
    e.enqueued_at = Some(livedesk_platform::time::to_proto(
        chrono::Utc::now() - chrono::Duration::seconds(61),
    ));
    publish(&env, org, marker, &e).await;
    let marker_s = marker.to_string();
    rec.wait::<pb::ConversationAbandoned>("the marker abandoned", |a| {
        a.conversation_id == marker_s
    })
    .await;
    let of_conv = rec
        .all::<pb::ConversationAbandoned>()
        .into_iter()
        .filter(|a| a.conversation_id == conv_s)
        .count();
    assert_eq!(of_conv, 1);
}

// spec: RTG-13
#[tokio::test]
async fn a_visitor_leaving_the_queue_withdraws_the_offer_and_leaves_the_queue() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let offered = queue_conversation(&env, org, "", "Grace").await;
    let offer = offer_to(&rec, offered, "ada").await;
    // A second one waits unoffered: Ada has one slot left but we set
    // capacity 1 first.
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
    let waiting = queue_conversation(&env, org, "", "Alan").await;
    let status = |c: Client| {
        let env = &env;
        async move {
            let mut c = c;
            c.get_queue_status(req(
                env,
                org,
                "boss",
                Role::Supervisor,
                pb::GetQueueStatusRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
        }
    };
    eventually(10, "two waiting", || {
        let s = status(c.clone());
        async move { (s.await.waiting == 2).then_some(()) }
    })
    .await
    .unwrap();

    // The visitor of the offered conversation leaves: conversations ends it
    // with abandoned = true.
    let left = ConversationEnded {
        conversation_id: offered.to_string(),
        abandoned: true,
        ..Default::default()
    };
    publish(&env, org, offered, &left).await;
    let withdrawn = rec.wait_withdrawn(offered, "abandoned").await;
    assert_eq!(withdrawn.id, offer.id);
    // Ada's capacity is free again and goes to the next conversation.
    offer_to(&rec, waiting, "ada").await;
    let s = status(c.clone()).await;
    assert_eq!(s.waiting, 1, "only the second conversation waits");
    // Accepting the withdrawn offer is refused.
    let err = c
        .accept_offer(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::AcceptOfferRequest { offer_id: offer.id },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);

    // The second visitor leaves too, while offered.
    let left = ConversationEnded {
        conversation_id: waiting.to_string(),
        abandoned: true,
        ..Default::default()
    };
    publish(&env, org, waiting, &left).await;
    rec.wait_withdrawn(waiting, "abandoned").await;
    eventually(10, "queue empty", || {
        let s = status(c.clone());
        async move { (s.await.waiting == 0).then_some(()) }
    })
    .await
    .unwrap();
    assert_eq!(agent(&env, &mut c, org, "ada").await.active_load, 0);
}
