//! RTG-8: conferences. The owner invites (CONFERENCE_REQUESTED, an offer
//! counted against the invited agent's capacity), the invited agent joins
//! (CONFERENCE, with their display name for "<agent> joined the chat") or
//! declines; ending returns to the owner alone and the participant wraps up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, new_org};
use uuid::Uuid;

fn conv_req<T>(conv: Uuid, f: impl FnOnce(String) -> T) -> T {
    f(conv.to_string())
}

// spec: RTG-8, RTG-2, TEN-3, TEN-4, TEN-5
#[tokio::test]
async fn an_invited_agent_joins_counts_against_capacity_and_wraps_up_at_the_end() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;
    let offer = offer_to(&rec, conv, "ada").await;
    accept(&env, &mut c, org, "ada", &offer).await;
    // Bob: capacity 1, not in any queue, display name "Bob Stone".
    c.upsert_agent(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: "bob".into(),
            display_name: "Bob Stone".into(),
            capacities: vec![pb::ChannelCapacity {
                channel: 1,
                capacity: 1,
            }],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    available(&env, &mut c, org, "bob").await;
    let invite = |agent: &str| pb::InviteToConferenceRequest {
        conversation_id: conv.to_string(),
        agent_id: agent.to_owned(),
    };
    // Only the owner invites; not themselves.
    let err = c
        .invite_to_conference(req(&env, org, "bob", Role::Agent, invite("carol")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = c
        .invite_to_conference(req(&env, org, "ada", Role::Agent, invite("ada")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let err = c
        .invite_to_conference(req(&env, new_org(), "ada", Role::Agent, invite("bob")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    let requested = c
        .invite_to_conference(req(&env, org, "ada", Role::Agent, invite("bob")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(requested.state, pb::ConferenceState::Requested as i32);
    assert_eq!(requested.owner_agent_id, "ada");
    let again = c
        .invite_to_conference(req(&env, org, "ada", Role::Agent, invite("bob")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, requested, "a retry changes nothing (TEN-5)");
    let invitation = offer_to(&rec, conv, "bob").await;
    assert_eq!(invitation.kind, pb::OfferKind::Conference as i32);
    assert_eq!(agent(&env, &mut c, org, "bob").await.active_load, 1);
    // A transfer is refused meanwhile.
    let err = c
        .transfer_to_queue(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::TransferToQueueRequest {
                conversation_id: conv.to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);

    let accept_req = || {
        conv_req(conv, |id| pb::AcceptConferenceRequest {
            conversation_id: id,
        })
    };
    let active = c
        .accept_conference(req(&env, org, "bob", Role::Agent, accept_req()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active.state, pb::ConferenceState::Active as i32);
    assert_eq!(
        (
            active.owner_agent_id.as_str(),
            active.invited_agent_id.as_str()
        ),
        ("ada", "bob")
    );
    let conv_s = conv.to_string();
    let joined = rec
        .wait::<pb::ConferenceChanged>("joined", |e| {
            e.conference.as_ref().is_some_and(|c| {
                c.conversation_id == conv_s && c.state == pb::ConferenceState::Active as i32
            })
        })
        .await;
    assert_eq!(joined.invited_agent_display_name, "Bob Stone");
    let retried = c
        .accept_conference(req(&env, org, "bob", Role::Agent, accept_req()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried.state, pb::ConferenceState::Active as i32, "TEN-5");
    // The participant counts against capacity: Bob (1) is full.
    assert_eq!(agent(&env, &mut c, org, "bob").await.active_load, 1);
    // Ada steps away so the next conversation goes to Carol.
    c.set_agent_state(req(
        &env,
        org,
        "ada",
        Role::Agent,
        pb::SetAgentStateRequest {
            state: pb::AgentState::Away as i32,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    available(&env, &mut c, org, "carol").await;
    let other = queue_conversation(&env, org, "", "Alan").await;
    let o = offer_to(&rec, other, "carol").await;
    accept(&env, &mut c, org, "carol", &o).await;
    let err = c
        .invite_to_conference(req(
            &env,
            org,
            "carol",
            Role::Agent,
            pb::InviteToConferenceRequest {
                conversation_id: other.to_string(),
                agent_id: "bob".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::FailedPrecondition,
        "bob has no free capacity"
    );

    // Carol cannot end Ada's conference; Bob can.
    let end = || {
        conv_req(conv, |id| pb::EndConferenceRequest {
            conversation_id: id,
        })
    };
    let err = c
        .end_conference(req(&env, org, "carol", Role::Agent, end()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let ended = c
        .end_conference(req(&env, org, "bob", Role::Agent, end()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.state, pb::ConferenceState::Ended as i32);
    rec.wait::<pb::WrapUpStarted>("bob wraps up", |w| {
        w.agent_id == "bob" && w.conversation_id == conv_s
    })
    .await;
    assert!(
        !rec.all::<pb::WrapUpStarted>()
            .iter()
            .any(|w| w.agent_id == "ada"),
        "the owner goes on alone"
    );
    // Back to the owner alone: she may transfer again.
    c.transfer_to_queue(req(
        &env,
        org,
        "ada",
        Role::Agent,
        pb::TransferToQueueRequest {
            conversation_id: conv.to_string(),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
}

// spec: RTG-8
#[tokio::test]
async fn a_declined_invitation_frees_the_invited_agent() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;
    let offer = offer_to(&rec, conv, "ada").await;
    accept(&env, &mut c, org, "ada", &offer).await;
    available(&env, &mut c, org, "bob").await;
    c.invite_to_conference(req(
        &env,
        org,
        "ada",
        Role::Agent,
        pb::InviteToConferenceRequest {
            conversation_id: conv.to_string(),
            agent_id: "bob".into(),
        },
    ))
    .await
    .unwrap();
    let declined = c
        .decline_conference(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::DeclineConferenceRequest {
                conversation_id: conv.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(declined.state, pb::ConferenceState::Declined as i32);
    let conv_s = conv.to_string();
    rec.wait::<pb::ConferenceChanged>("declined", |e| {
        e.conference.as_ref().is_some_and(|c| {
            c.conversation_id == conv_s && c.state == pb::ConferenceState::Declined as i32
        })
    })
    .await;
    assert_eq!(agent(&env, &mut c, org, "bob").await.active_load, 0);
    // Nothing to join any more.
    let err = c
        .accept_conference(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::AcceptConferenceRequest {
                conversation_id: conv.to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
}
