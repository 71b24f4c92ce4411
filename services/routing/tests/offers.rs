//! Offers end to end: enqueue → offer → accept / decline / timeout →
//! wrap-up, against real PostgreSQL and NATS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};

// spec: RTG-4, RTG-5, TEN-5
#[tokio::test]
async fn a_queued_conversation_is_offered_with_its_details_and_accepting_assigns_it() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;

    let offer = offer_to(&rec, conv, "ada").await;
    assert_eq!(offer.customer_name, "Grace");
    assert_eq!(offer.queue_name, "General");
    assert_eq!(offer.first_messages, ["Hello, I need help"]);
    assert!(!offer.proactive);
    let created = offer.conversation_created_at.unwrap();
    let expires = offer.expires_at.unwrap();
    assert!(
        expires.seconds - created.seconds >= 40,
        "created 30 s ago, expires in 20 s"
    );
    let listed = c
        .list_offers(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::ListOffersRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.offers.len(), 1);

    // Someone else cannot accept it.
    let err = c
        .accept_offer(req(
            &env,
            org,
            "bob",
            Role::Agent,
            pb::AcceptOfferRequest {
                offer_id: offer.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);

    let a = c
        .accept_offer(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::AcceptOfferRequest {
                offer_id: offer.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.agent_id, "ada");
    let conv_s = conv.to_string();
    let assigned = rec
        .wait::<pb::ConversationAssigned>("assigned", |e| e.conversation_id == conv_s)
        .await;
    assert_eq!(assigned.agent_display_name, "ada");
    assert_eq!(assigned.agent_initials, "A");
    assert!(assigned.assigned_at.is_some());
    rec.wait::<pb::OfferAccepted>("offer accepted", |e| {
        e.offer.as_ref().is_some_and(|o| o.id == offer.id)
    })
    .await;

    // A retried accept returns the first result and writes nothing (TEN-5).
    let again = c
        .accept_offer(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::AcceptOfferRequest { offer_id: offer.id },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, a);
    assert_eq!(rec.all::<pb::ConversationAssigned>().len(), 1);
    let agent = c
        .get_agent(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::GetAgentRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(agent.active_load, 1);
}

// spec: RTG-5
#[tokio::test]
async fn a_declined_offer_goes_to_another_agent() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;
    let first = offer_to(&rec, conv, "ada").await;
    available(&env, &mut c, org, "bob").await;
    c.decline_offer(req(
        &env,
        org,
        "ada",
        Role::Agent,
        pb::DeclineOfferRequest {
            offer_id: first.id.clone(),
            reason: "busy".into(),
        },
    ))
    .await
    .unwrap();
    rec.wait::<pb::OfferDeclined>("declined", |e| e.reason == "busy")
        .await;
    let second = offer_to(&rec, conv, "bob").await;
    assert_ne!(second.id, first.id);
    // Ada is not offered it again, even with free capacity.
    assert_eq!(rec.all::<pb::OfferCreated>().len(), 2);
}

// spec: RTG-5
#[tokio::test]
async fn an_unanswered_offer_puts_the_agent_in_rona_and_is_re_offered() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    available(&env, &mut c, org, "bob").await;
    let queue = c
        .create_queue(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::CreateQueueRequest {
                queue: Some(pb::Queue {
                    name: "Fast".into(),
                    offer_timeout_seconds: 7,
                    member_agent_ids: vec!["ada".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let conv = queue_conversation(&env, org, &queue.id, "Grace").await;
    let offer = offer_to(&rec, conv, "ada").await;
    assert_eq!(offer.queue_name, "Fast");
    // Bob joins the queue meanwhile; the offer expires after 7 s.
    c.set_queue_members(req(
        &env,
        org,
        "boss",
        Role::Supervisor,
        pb::SetQueueMembersRequest {
            queue_id: queue.id.clone(),
            agent_ids: vec!["ada".into(), "bob".into()],
        },
    ))
    .await
    .unwrap();
    rec.wait::<pb::OfferExpired>("offer expired", |e| {
        e.offer.as_ref().is_some_and(|o| o.id == offer.id)
    })
    .await;
    rec.wait::<pb::AgentStateChanged>("ada in rona", |e| {
        e.agent_id == "ada" && e.to == pb::AgentState::Rona as i32
    })
    .await;
    offer_to(&rec, conv, "bob").await;
    let ada = c
        .get_agent(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::GetAgentRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ada.state, pb::AgentState::Rona as i32);
    // Too late to accept.
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
    // RONA gets no offers until set AVAILABLE again, here by a supervisor.
    let conv2 = queue_conversation(&env, org, &queue.id, "Alan").await;
    offer_to(&rec, conv2, "bob").await;
    c.set_agent_state(req(
        &env,
        org,
        "sue",
        Role::Supervisor,
        pb::SetAgentStateRequest {
            agent_id: "ada".into(),
            state: pb::AgentState::Available as i32,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let conv3 = queue_conversation(&env, org, &queue.id, "Edsger").await;
    offer_to(&rec, conv3, "ada").await;
}

// spec: RTG-2, RTG-9, TEN-5
#[tokio::test]
async fn wrap_up_keeps_capacity_until_submitted_then_frees_it() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    c.upsert_agent(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: "ada".into(),
            display_name: "Ada Lovelace".into(),
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
    let first = queue_conversation(&env, org, "", "Grace").await;
    let offer = offer_to(&rec, first, "ada").await;
    accept(&env, &mut c, org, "ada", &offer).await;
    let second = queue_conversation(&env, org, "", "Alan").await;
    end_conversation(&env, org, first).await;
    let f = first.to_string();
    let started = rec
        .wait::<pb::WrapUpStarted>("wrap-up started", |e| e.conversation_id == f)
        .await;
    assert_eq!(started.agent_id, "ada");
    assert!(started.deadline.is_some());
    // Still at capacity while in wrap-up: the second conversation waits.
    let status = c
        .get_queue_status(req(
            &env,
            org,
            "scheduling",
            Role::Service,
            pb::GetQueueStatusRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.waiting, 1);
    assert!(
        rec.all::<pb::OfferCreated>()
            .iter()
            .all(|o| o.offer.as_ref().unwrap().conversation_id != second.to_string())
    );

    let bad = c
        .submit_wrap_up(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SubmitWrapUpRequest {
                conversation_id: f.clone(),
                code: "nope".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    let w = c
        .submit_wrap_up(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SubmitWrapUpRequest {
                conversation_id: f.clone(),
                code: "resolved".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(w.code, "resolved");
    assert!(!w.automatic);
    rec.wait::<pb::WrapUpSubmitted>("wrap-up submitted", |e| {
        e.wrap_up.as_ref().is_some_and(|w| w.code == "resolved")
    })
    .await;
    offer_to(&rec, second, "ada").await;
    let again = c
        .submit_wrap_up(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SubmitWrapUpRequest {
                conversation_id: f.clone(),
                code: "resolved".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // A retry returns the first result (TEN-5); another code is refused.
    assert_eq!(again.code, "resolved");
    let other = c
        .submit_wrap_up(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SubmitWrapUpRequest {
                conversation_id: f,
                code: "escalated".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::FailedPrecondition);
}

// spec: RTG-9, RTG-14
#[tokio::test]
async fn auto_wrap_up_is_recorded_as_such_and_applies_the_next_state() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    c.update_routing_settings(req(
        &env,
        org,
        "boss",
        Role::Admin,
        pb::RoutingSettings {
            auto_wrap_up_seconds: 10,
        },
    ))
    .await
    .unwrap();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;
    let offer = offer_to(&rec, conv, "ada").await;
    accept(&env, &mut c, org, "ada", &offer).await;
    // RTG-14: AWAY after the current chats; no new offers meanwhile.
    let a = c
        .set_next_agent_state(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::SetNextAgentStateRequest {
                next_state: pb::AgentState::Away as i32,
                away_reason: "lunch".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.state, pb::AgentState::Available as i32);
    assert_eq!(a.next_state, pb::AgentState::Away as i32);
    let waiting = queue_conversation(&env, org, "", "Alan").await;
    end_conversation(&env, org, conv).await;
    let s = conv.to_string();
    let w = rec
        .wait::<pb::WrapUpSubmitted>("automatic wrap-up", |e| {
            e.wrap_up.as_ref().is_some_and(|w| w.conversation_id == s)
        })
        .await;
    assert!(w.wrap_up.unwrap().automatic);
    let changed = rec
        .wait::<pb::AgentStateChanged>("next state applied", |e| {
            e.agent_id == "ada" && e.to == pb::AgentState::Away as i32
        })
        .await;
    assert_eq!(changed.away_reason, "lunch");
    let ada = c
        .get_agent(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::GetAgentRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ada.state, pb::AgentState::Away as i32);
    assert_eq!(ada.next_state, 0);
    assert!(
        rec.all::<pb::OfferCreated>()
            .iter()
            .all(|o| o.offer.as_ref().unwrap().conversation_id != waiting.to_string())
    );
}

// spec: RTG-4
#[tokio::test]
async fn a_conversation_ended_while_offered_is_withdrawn_and_frees_the_agent() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;
    let offer = offer_to(&rec, conv, "ada").await;
    end_conversation(&env, org, conv).await;
    eventually(15, "offer withdrawn", || {
        let mut c = c.clone();
        let r = req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::ListOffersRequest::default(),
        );
        async move {
            c.list_offers(r)
                .await
                .ok()
                .filter(|l| l.get_ref().offers.is_empty())
                .map(|_| ())
        }
    })
    .await
    .unwrap();
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
    let ada = c
        .get_agent(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::GetAgentRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ada.active_load, 0);
}
