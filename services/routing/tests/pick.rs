//! Manual pick and supervisor assignment (RTG-12).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use tonic::Code;

// spec: RTG-12, RTG-2
#[tokio::test]
async fn agents_pick_within_capacity_and_supervisors_assign_directly() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    for agent in ["ada", "bob"] {
        c.upsert_agent(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::UpsertAgentRequest {
                id: agent.into(),
                capacities: vec![pb::ChannelCapacity {
                    channel: 1,
                    capacity: 1,
                }],
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    }
    let other_queue = c
        .create_queue(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::CreateQueueRequest {
                queue: Some(pb::Queue {
                    name: "VIP".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // Nobody is AVAILABLE: the conversations wait.
    let first = queue_conversation(&env, org, "", "Grace").await;
    let second = queue_conversation(&env, org, "", "Alan").await;
    let vip = queue_conversation(&env, org, &other_queue.id, "Edsger").await;
    eventually(15, "two waiting in the default queue", || {
        let mut c = c.clone();
        let r = req(&env, org, "boss", Role::Admin, pb::GetQueueStatusRequest::default());
        async move { (c.get_queue_status(r).await.unwrap().into_inner().waiting == 2).then_some(()) }
    })
    .await
    .unwrap();
    // The VIP conversation arrives by event too: wait for it, or a slow
    // consumer makes the "not ada's queue" check below see NOT_FOUND.
    let vip_queue = other_queue.id.clone();
    eventually(15, "one waiting in the VIP queue", || {
        let mut c = c.clone();
        let r = req(&env, org, "boss", Role::Admin, pb::GetQueueStatusRequest { queue_id: vip_queue.clone() });
        async move { (c.get_queue_status(r).await.unwrap().into_inner().waiting == 1).then_some(()) }
    })
    .await
    .unwrap();

    let pick = |conv: uuid::Uuid| {
        req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::PickConversationRequest {
                conversation_id: conv.to_string(),
            },
        )
    };
    let a = c.pick_conversation(pick(first)).await.unwrap().into_inner();
    assert_eq!(a.agent_id, "ada");
    let f = first.to_string();
    rec.wait::<pb::ConversationAssigned>("picked", |e| {
        e.conversation_id == f && e.agent_id == "ada"
    })
    .await;
    assert_eq!(
        c.pick_conversation(pick(first)).await.unwrap_err().code(),
        Code::FailedPrecondition,
        "already taken"
    );
    assert_eq!(
        c.pick_conversation(pick(second)).await.unwrap_err().code(),
        Code::FailedPrecondition,
        "ada is at capacity"
    );
    assert_eq!(
        c.pick_conversation(pick(vip)).await.unwrap_err().code(),
        Code::PermissionDenied,
        "not ada's queue"
    );

    let assign = |agent: &str, role| {
        req(
            &env,
            org,
            "sue",
            role,
            pb::AssignConversationRequest {
                conversation_id: second.to_string(),
                agent_id: agent.into(),
            },
        )
    };
    assert_eq!(
        c.assign_conversation(assign("bob", Role::Agent))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        c.assign_conversation(assign("ada", Role::Supervisor))
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );
    assert_eq!(
        c.assign_conversation(assign("ghost", Role::Supervisor))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let b = c
        .assign_conversation(assign("bob", Role::Supervisor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.agent_id, "bob");
    let other_org = req(
        &env,
        new_org(),
        "x",
        Role::Agent,
        pb::PickConversationRequest {
            conversation_id: vip.to_string(),
        },
    );
    assert_eq!(
        c.pick_conversation(other_org).await.unwrap_err().code(),
        Code::NotFound
    );
}
