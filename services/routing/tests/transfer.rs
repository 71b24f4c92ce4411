//! RTG-7: transfers by the owning agent, to a queue (original age, head of
//! its priority) or to an agent (accepted, declined → requeue, timed out →
//! abandon), with wrap-up of the transferring agent's leg; retries return
//! the first result (TEN-5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use uuid::Uuid;

/// Enqueues a conversation `age_secs` old in `queue`, offered to and
/// accepted by `agent`.
async fn owned(
    env: &TestEnv,
    c: &mut Client,
    rec: &Recorder,
    org: Uuid,
    agent: &str,
    queue: &str,
    age_secs: i64,
) -> Uuid {
    let conv = Uuid::now_v7();
    let mut e = queued_event(conv, queue, "Grace");
    e.enqueued_at = Some(livedesk_platform::time::to_proto(
        chrono::Utc::now() - chrono::Duration::seconds(age_secs),
    ));
    publish(env, org, conv, &e).await;
    let offer = offer_to(rec, conv, agent).await;
    accept(env, c, org, agent, &offer).await;
    conv
}

fn to_queue(conv: Uuid, queue: &str) -> pb::TransferToQueueRequest {
    pb::TransferToQueueRequest {
        conversation_id: conv.to_string(),
        queue_id: queue.to_owned(),
        note: "billing question".into(),
    }
}

fn to_agent(conv: Uuid, agent: &str) -> pb::TransferToAgentRequest {
    pb::TransferToAgentRequest {
        conversation_id: conv.to_string(),
        agent_id: agent.to_owned(),
        note: "for you".into(),
    }
}

async fn register(env: &TestEnv, c: &mut Client, org: Uuid, id: &str, capacity: u32) {
    c.upsert_agent(req(
        env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: id.into(),
            capacities: vec![pb::ChannelCapacity {
                channel: 1,
                capacity,
            }],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
}

// spec: RTG-7, TEN-5, TEN-4
#[tokio::test]
async fn a_transfer_to_a_queue_keeps_the_age_goes_first_and_wraps_up_the_agent() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    register(&env, &mut c, org, "bob", 1).await;
    let billing = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Billing".into(),
            member_agent_ids: vec!["bob".into()],
            ..Default::default()
        },
    )
    .await;
    // Someone waits in Billing for 10 minutes already.
    let older = Uuid::now_v7();
    let mut e = queued_event(older, &billing.id, "Alan");
    e.enqueued_at = Some(livedesk_platform::time::to_proto(
        chrono::Utc::now() - chrono::Duration::seconds(600),
    ));
    publish(&env, org, older, &e).await;
    let conv = owned(&env, &mut c, &rec, org, "ada", "", 300).await;

    // Only the owner transfers; a bad or unknown queue changes nothing.
    let err = c
        .transfer_to_queue(req(
            &env,
            org,
            "bob",
            Role::Agent,
            to_queue(conv, &billing.id),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let err = c
        .transfer_to_queue(req(&env, org, "ada", Role::Agent, to_queue(conv, "x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let err = c
        .transfer_to_queue(req(
            &env,
            org,
            "ada",
            Role::Agent,
            to_queue(conv, &Uuid::now_v7().to_string()),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(rec.all::<pb::WrapUpStarted>().is_empty());

    let first = c
        .transfer_to_queue(req(
            &env,
            org,
            "ada",
            Role::Agent,
            to_queue(conv, &billing.id),
        ))
        .await
        .unwrap()
        .into_inner();
    let conv_s = conv.to_string();
    let moved = rec
        .wait::<pb::ConversationTransferred>("transferred", |t| t.conversation_id == conv_s)
        .await;
    assert_eq!(
        (moved.from_agent_id.as_str(), moved.to_queue_id.as_str()),
        ("ada", billing.id.as_str())
    );
    assert_eq!(moved.note, "billing question");
    rec.wait::<pb::WrapUpStarted>("ada wraps up", |w| w.agent_id == "ada")
        .await;
    // A retry answers the first result and writes nothing (TEN-5).
    let again = c
        .transfer_to_queue(req(
            &env,
            org,
            "ada",
            Role::Agent,
            to_queue(conv, &billing.id),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);

    // At the head of its priority with its original age, before an older one.
    let listed = c
        .list_queued_conversations(req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::ListQueuedConversationsRequest {
                queue_id: billing.id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversations;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].conversation_id, conv_s);
    assert_eq!(listed[1].conversation_id, older.to_string());
    let age = chrono::Utc::now().timestamp() - listed[0].enqueued_at.unwrap().seconds;
    assert!(age >= 300, "original age kept: {age}");
    // Bob (capacity 1) gets the transferred one first.
    available(&env, &mut c, org, "bob").await;
    let offer = offer_to(&rec, conv, "bob").await;
    assert_eq!(offer.kind, pb::OfferKind::Queue as i32);
    assert_eq!(rec.all::<pb::WrapUpStarted>().len(), 1);
    assert_eq!(rec.all::<pb::ConversationTransferred>().len(), 1);
}

// spec: RTG-7, TEN-5
#[tokio::test]
async fn a_transfer_to_an_agent_is_offered_and_accepted_with_the_previous_owner() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    register(&env, &mut c, org, "bob", 2).await;
    let conv = owned(&env, &mut c, &rec, org, "ada", "", 30).await;
    // Bob is not AVAILABLE: refused, nothing offered.
    let err = c
        .transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "bob")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let err = c
        .transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "ada")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let err = c
        .transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "nobody")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    // Bob is available, not a member of the queue: that is fine.
    c.set_agent_state(req(
        &env,
        org,
        "bob",
        Role::Agent,
        pb::SetAgentStateRequest {
            state: pb::AgentState::Available as i32,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    c.set_queue_members(req(
        &env,
        org,
        "boss",
        Role::Supervisor,
        pb::SetQueueMembersRequest {
            queue_id: String::new(),
            agent_ids: vec!["ada".into()],
        },
    ))
    .await
    .unwrap();
    let t = c
        .transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "bob")))
        .await
        .unwrap()
        .into_inner();
    let again = c
        .transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "bob")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again.offer_id, t.offer_id,
        "a retry returns the same offer (TEN-5)"
    );
    let offer = offer_to(&rec, conv, "bob").await;
    assert_eq!(offer.id, t.offer_id);
    assert_eq!(offer.kind, pb::OfferKind::Transfer as i32);
    assert_eq!(
        agent(&env, &mut c, org, "bob").await.active_load,
        1,
        "the offer counts"
    );
    let a = accept(&env, &mut c, org, "bob", &offer).await;
    assert_eq!(a.agent_id, "bob");
    let conv_s = conv.to_string();
    let assigned = rec
        .wait::<pb::ConversationAssigned>("bob owns it", |e| {
            e.conversation_id == conv_s && e.agent_id == "bob"
        })
        .await;
    assert_eq!(assigned.previous_agent_id, "ada");
    rec.wait::<pb::WrapUpStarted>("ada wraps up", |w| w.agent_id == "ada")
        .await;
    // A retried accept answers the same assignment (TEN-5).
    assert_eq!(accept(&env, &mut c, org, "bob", &offer).await, a);
    // Ada no longer owns it: she cannot transfer it again.
    let err = c
        .transfer_to_queue(req(&env, org, "ada", Role::Agent, to_queue(conv, "")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
}

// spec: RTG-7, RTG-3
#[tokio::test]
async fn a_declined_transfer_requeues_by_default() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = owned(&env, &mut c, &rec, org, "ada", "", 30).await;
    available(&env, &mut c, org, "bob").await;
    let t = c
        .transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "bob")))
        .await
        .unwrap()
        .into_inner();
    c.decline_offer(req(
        &env,
        org,
        "bob",
        Role::Agent,
        pb::DeclineOfferRequest {
            offer_id: t.offer_id,
            reason: "busy".into(),
        },
    ))
    .await
    .unwrap();
    let conv_s = conv.to_string();
    let failed = rec
        .wait::<pb::TransferFailed>("transfer failed", |f| f.conversation_id == conv_s)
        .await;
    assert_eq!(
        failed.policy_applied,
        pb::TransferFailurePolicy::Requeue as i32
    );
    assert_eq!(failed.to_agent_id, "bob");
    rec.wait::<pb::WrapUpStarted>("ada wraps up", |w| w.agent_id == "ada")
        .await;
    // Back in the queue and offered again (a queue offer this time).
    rec.wait::<pb::OfferCreated>("re-offered", |o| {
        o.offer
            .as_ref()
            .is_some_and(|o| o.conversation_id == conv_s && o.kind == pb::OfferKind::Queue as i32)
    })
    .await;
    assert!(rec.all::<pb::ConversationAbandoned>().is_empty());
}

// spec: RTG-7, RTG-5, RTG-3
#[tokio::test]
async fn an_unanswered_transfer_puts_the_target_in_rona_and_abandons_per_policy() {
    let env = TestEnv::new().await.unwrap();
    let svc = start_with(&env, &[("LIVEDESK_ROUTING__OFFER_SWEEP_MS", "200")]).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let strict = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Strict".into(),
            offer_timeout_seconds: 7,
            transfer_failure_policy: pb::TransferFailurePolicy::Abandon as i32,
            member_agent_ids: vec!["ada".into()],
            ..Default::default()
        },
    )
    .await;
    let conv = owned(&env, &mut c, &rec, org, "ada", &strict.id, 30).await;
    available(&env, &mut c, org, "bob").await;
    c.transfer_to_agent(req(&env, org, "ada", Role::Agent, to_agent(conv, "bob")))
        .await
        .unwrap();
    let conv_s = conv.to_string();
    rec.wait::<pb::OfferExpired>("transfer offer expired", |e| {
        e.offer
            .as_ref()
            .is_some_and(|o| o.conversation_id == conv_s)
    })
    .await;
    rec.wait::<pb::AgentStateChanged>("bob in rona", |e| {
        e.agent_id == "bob" && e.to == pb::AgentState::Rona as i32
    })
    .await;
    let failed = rec
        .wait::<pb::TransferFailed>("transfer failed", |f| f.conversation_id == conv_s)
        .await;
    assert_eq!(
        failed.policy_applied,
        pb::TransferFailurePolicy::Abandon as i32
    );
    let abandoned = rec
        .wait::<pb::ConversationAbandoned>("abandoned", |a| a.conversation_id == conv_s)
        .await;
    assert_eq!(abandoned.reason, "transfer_failed");
    assert!(abandoned.waited_seconds >= 30);
    rec.wait::<pb::WrapUpStarted>("ada wraps up", |w| w.agent_id == "ada")
        .await;
    eventually(5, "bob's capacity is free", || {
        let mut c = c.clone();
        let env = &env;
        async move { (agent(env, &mut c, org, "bob").await.active_load == 0).then_some(()) }
    })
    .await
    .unwrap();
}
