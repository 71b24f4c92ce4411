//! Agents, queues, settings: registration on first use, states, staffing,
//! validation, tenancy and roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_platform::defaults::default_queue_id;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, new_org};
use tonic::Code;

// spec: TEN-1, RTG-1
#[tokio::test]
async fn an_agent_registers_on_first_state_change_with_working_defaults() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let a = c
        .set_agent_state(req(
            &env,
            org,
            "u-1",
            Role::Agent,
            pb::SetAgentStateRequest {
                state: pb::AgentState::Away as i32,
                away_reason: "meeting".into(),
                display_name: "Ada Lovelace".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.display_name, "Ada Lovelace");
    assert_eq!(a.initials, "AL");
    assert_eq!(a.state, pb::AgentState::Away as i32);
    assert_eq!(a.away_reason, "meeting");
    assert_eq!(a.queue_ids, [default_queue_id(org).to_string()]);
    assert_eq!(a.capacities[0].capacity, 4);
    let changed = rec
        .wait::<pb::AgentStateChanged>("state changed", |e| e.agent_id == "u-1")
        .await;
    assert_eq!(changed.from, pb::AgentState::Offline as i32);
    assert_eq!(changed.to, pb::AgentState::Away as i32);

    // Without a display name: the token's `name` claim (= sub in tests).
    let b = available(&env, &mut c, org, "bob").await;
    assert_eq!(b.display_name, "bob");

    let q = c
        .get_queue(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::GetQueueRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            q.name.as_str(),
            q.is_default,
            q.offer_timeout_seconds,
            q.max_wait_seconds
        ),
        ("General", true, 20, 86_400)
    );
    assert_eq!(q.strategy, pb::RoutingStrategy::LongestIdle as i32);
    assert_eq!(q.member_agent_ids, ["bob", "u-1"]);
    let codes = c
        .list_wrap_up_codes(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::ListWrapUpCodesRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(codes.codes.iter().any(|c| c.code == "resolved"));
    let s = c
        .get_routing_settings(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::GetRoutingSettingsRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.auto_wrap_up_seconds, 300);
    let list = c
        .list_agents(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::ListAgentsRequest {
                state: 2,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.agents
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
}

// spec: RTG-1, RTG-5, TEN-3
#[tokio::test]
async fn rona_is_never_requested_and_only_supervisors_set_someone_elses_state() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let rona = c
        .set_agent_state(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SetAgentStateRequest {
                state: pb::AgentState::Rona as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(rona.code(), Code::InvalidArgument);
    let other = pb::SetAgentStateRequest {
        agent_id: "ada".into(),
        state: pb::AgentState::Offline as i32,
        ..Default::default()
    };
    assert_eq!(
        c.set_agent_state(req(&env, org, "bob", Role::Agent, other.clone()))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let a = c
        .set_agent_state(req(&env, org, "sue", Role::Supervisor, other.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.state, pb::AgentState::Offline as i32);
    // Another org never sees ada.
    let err = c
        .set_agent_state(req(&env, new_org(), "sue", Role::Supervisor, other))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = c
        .get_agent(req(
            &env,
            new_org(),
            "sue",
            Role::Supervisor,
            pb::GetAgentRequest { id: "ada".into() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // Visitors have no business here; agents do not change their capacity.
    let err = c
        .list_queues(req(
            &env,
            org,
            "v",
            Role::Visitor,
            pb::ListQueuesRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .upsert_agent(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::UpsertAgentRequest {
                capacities: vec![pb::ChannelCapacity {
                    channel: 1,
                    capacity: 25,
                }],
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .upsert_agent(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::UpsertAgentRequest {
                id: "ada".into(),
                capacities: vec![pb::ChannelCapacity {
                    channel: 1,
                    capacity: 26,
                }],
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

// spec: RTG-3, TEN-4
#[tokio::test]
async fn queues_are_validated_and_a_retried_create_returns_the_first_queue() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let bad = pb::CreateQueueRequest {
        queue: Some(pb::Queue {
            name: "".into(),
            offer_timeout_seconds: 6,
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = c
        .create_queue(req(&env, org, "boss", Role::Admin, bad))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("queue.name")
            && err.message().contains("queue.offer_timeout_seconds"),
        "{}",
        err.message()
    );
    let listed = c
        .list_queues(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::ListQueuesRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.queues.len(),
        1,
        "only the default queue: nothing was written"
    );

    let good = pb::CreateQueueRequest {
        queue: Some(pb::Queue {
            name: "Billing".into(),
            strategy: pb::RoutingStrategy::RoundRobin as i32,
            required_skills: vec!["FR".into()],
            ..Default::default()
        }),
        client_request_id: "k-1".into(),
    };
    let q1 = c
        .create_queue(req(&env, org, "boss", Role::Admin, good.clone()))
        .await
        .unwrap()
        .into_inner();
    let q2 = c
        .create_queue(req(&env, org, "boss", Role::Admin, good.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(q1.id, q2.id);
    assert_eq!(q1.offer_timeout_seconds, 20);
    assert_eq!(q1.required_skills, ["fr"]);
    assert_eq!(
        c.create_queue(req(&env, org, "sue", Role::Supervisor, good))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let err = c
        .get_queue(req(
            &env,
            new_org(),
            "boss",
            Role::Admin,
            pb::GetQueueRequest { id: q1.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = c
        .set_queue_members(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::SetQueueMembersRequest {
                queue_id: q1.id,
                agent_ids: vec!["ghost".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

// spec: RTG-10
#[tokio::test]
async fn a_queue_is_staffed_only_while_a_member_is_available() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let status = |c: &mut Client| {
        let mut c = c.clone();
        let r = req(
            &env,
            org,
            "scheduling",
            Role::Service,
            pb::GetQueueStatusRequest::default(),
        );
        async move { c.get_queue_status(r).await.unwrap().into_inner() }
    };
    assert!(
        !status(&mut c).await.staffed,
        "a new org's default queue has nobody"
    );
    available(&env, &mut c, org, "ada").await;
    let s = status(&mut c).await;
    assert!(s.staffed);
    assert_eq!(s.available_agents, 1);
    for state in [pb::AgentState::Away, pb::AgentState::Offline] {
        c.set_agent_state(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SetAgentStateRequest {
                state: state as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
        assert!(
            !status(&mut c).await.staffed,
            "{state:?} does not staff a queue"
        );
    }
    queue_conversation(&env, org, "", "Grace").await;
    livedesk_testkit::eventually(15, "one waiting", || {
        let f = status(&mut c);
        async move { (f.await.waiting == 1).then_some(()) }
    })
    .await
    .unwrap();
}

// spec: RTG-9
#[tokio::test]
async fn admins_replace_wrap_up_codes_and_settings_are_validated() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let codes = pb::SetWrapUpCodesRequest {
        codes: vec![pb::WrapUpCode {
            code: "sold".into(),
            label: "Sold".into(),
        }],
    };
    assert_eq!(
        c.set_wrap_up_codes(req(&env, org, "ada", Role::Agent, codes.clone()))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let out = c
        .set_wrap_up_codes(req(&env, org, "boss", Role::Admin, codes))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.codes.len(), 1);
    let bad = pb::SetWrapUpCodesRequest {
        codes: vec![pb::WrapUpCode {
            code: "no way".into(),
            label: "".into(),
        }],
    };
    assert_eq!(
        c.set_wrap_up_codes(req(&env, org, "boss", Role::Admin, bad))
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    let err = c
        .update_routing_settings(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::RoutingSettings {
                auto_wrap_up_seconds: 3,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let other = c
        .list_wrap_up_codes(req(
            &env,
            new_org(),
            "x",
            Role::Agent,
            pb::ListWrapUpCodesRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other.codes.len(), 4, "another org keeps its defaults");
}
