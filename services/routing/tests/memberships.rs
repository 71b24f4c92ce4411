//! `AgentQueuesChanged` (TEN-3): every change of an agent's queue
//! memberships publishes the agent's full set with a growing version, so
//! the conversations service can keep an exact read model of who serves
//! which queue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_platform::defaults::default_queue_id;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, new_org};

/// The latest snapshot published for `agent` once it matches `pred`.
async fn snapshot(
    rec: &Recorder,
    agent: &str,
    what: &str,
    pred: impl Fn(&pb::AgentQueuesChanged) -> bool,
) -> pb::AgentQueuesChanged {
    livedesk_testkit::eventually(30, what, || {
        let last = rec
            .all::<pb::AgentQueuesChanged>()
            .into_iter()
            .filter(|e| e.agent_id == agent)
            .max_by_key(|e| e.version)
            .filter(|e| pred(e));
        async move { last }
    })
    .await
    .unwrap()
}

// spec: TEN-3
#[tokio::test]
async fn every_membership_change_publishes_the_agents_queues_with_a_growing_version() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let default = default_queue_id(org).to_string();

    // Registration on first use: the default queue.
    available(&env, &mut c, org, "ann").await;
    let first = snapshot(&rec, "ann", "registered", |e| {
        e.queue_ids == [default.clone()]
    })
    .await;
    assert!(!first.deleted);
    // A second state change of a known agent publishes nothing new.
    available(&env, &mut c, org, "ann").await;

    // CreateQueue with members, then SetQueueMembers removing her.
    let sales = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Sales".into(),
            member_agent_ids: vec!["ann".into()],
            ..Default::default()
        },
    )
    .await;
    let mut both = vec![default.clone(), sales.id.clone()];
    both.sort();
    let joined = snapshot(&rec, "ann", "joined sales", |e| e.queue_ids == both).await;
    assert!(joined.version > first.version);
    c.set_queue_members(req(
        &env,
        org,
        "sup",
        Role::Supervisor,
        pb::SetQueueMembersRequest {
            queue_id: sales.id.clone(),
            agent_ids: vec![],
        },
    ))
    .await
    .unwrap();
    let left = snapshot(&rec, "ann", "left sales", |e| {
        e.queue_ids == [default.clone()]
    })
    .await;
    assert!(left.version > joined.version);

    // UpsertAgent by an admin moves her to sales only.
    c.upsert_agent(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: "ann".into(),
            queue_ids: vec![sales.id.clone()],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let moved = snapshot(&rec, "ann", "moved", |e| e.queue_ids == [sales.id.clone()]).await;
    assert!(moved.version > left.version);

    // Deleting the queue empties her set; deleting her marks her deleted.
    c.delete_queue(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::DeleteQueueRequest {
            id: sales.id.clone(),
        },
    ))
    .await
    .unwrap();
    let emptied = snapshot(&rec, "ann", "queue deleted", |e| e.queue_ids.is_empty()).await;
    assert!(!emptied.deleted);
    c.delete_agent(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::DeleteAgentRequest { id: "ann".into() },
    ))
    .await
    .unwrap();
    let gone = snapshot(&rec, "ann", "agent deleted", |e| e.deleted).await;
    assert!(gone.version > emptied.version);
    // Exactly one snapshot per change above: registration, create, set
    // members, upsert, queue deletion, agent deletion.
    let all: Vec<_> = rec
        .all::<pb::AgentQueuesChanged>()
        .into_iter()
        .filter(|e| e.agent_id == "ann")
        .collect();
    assert_eq!(all.len(), 6, "{all:?}");
}
