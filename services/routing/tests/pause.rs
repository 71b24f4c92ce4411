//! CNV-12 contract with conversations: a pause ends the agent's leg
//! without wrap-up and frees capacity; the customer writing again arrives
//! as a new `ConversationQueued` for the same conversation, with its
//! original age and the preferred agent, who gets it first when eligible.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::conversations::v1::{ConversationEnded, ConversationPaused};
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use uuid::Uuid;

async fn pause(env: &TestEnv, org: Uuid, conv: Uuid, agent: &str) {
    let e = ConversationPaused {
        conversation_id: conv.to_string(),
        agent_id: agent.to_owned(),
    };
    publish(env, org, conv, &e).await;
}

async fn resume(env: &TestEnv, org: Uuid, conv: Uuid, preferred: &str, age_secs: i64) {
    let mut e = queued_event(conv, "", "Grace");
    e.preferred_agent_id = preferred.to_owned();
    e.enqueued_at = Some(livedesk_platform::time::to_proto(
        chrono::Utc::now() - chrono::Duration::seconds(age_secs),
    ));
    publish(env, org, conv, &e).await;
}

async fn load_becomes(env: &TestEnv, c: &Client, org: Uuid, id: &str, n: u32) {
    eventually(10, "agent load", || {
        let mut c = c.clone();
        async move { (agent(env, &mut c, org, id).await.active_load == n).then_some(()) }
    })
    .await
    .unwrap();
}

fn offers_of(rec: &Recorder, conv: Uuid) -> Vec<pb::Offer> {
    let c = conv.to_string();
    rec.all::<pb::OfferCreated>()
        .into_iter()
        .filter_map(|o| o.offer)
        .filter(|o| o.conversation_id == c)
        .collect()
}

// spec: CNV-12, RTG-2
#[tokio::test]
async fn a_paused_conversation_frees_the_agent_and_comes_back_to_them_first() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    // Ada is available first: longest idle, the strategy's choice.
    available(&env, &mut c, org, "ada").await;
    available(&env, &mut c, org, "bob").await;
    let conv = Uuid::now_v7();
    let mut e = queued_event(conv, "", "Grace");
    e.enqueued_at = Some(livedesk_platform::time::to_proto(
        chrono::Utc::now() - chrono::Duration::seconds(120),
    ));
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
    publish(&env, org, conv, &e).await;
    let o = offer_to(&rec, conv, "bob").await;
    accept(&env, &mut c, org, "bob", &o).await;
    available(&env, &mut c, org, "ada").await;

    pause(&env, org, conv, "bob").await;
    load_becomes(&env, &c, org, "bob", 0).await;
    assert!(
        rec.all::<pb::WrapUpStarted>().is_empty(),
        "no wrap-up for a pause"
    );

    // The customer writes again: the same id is enqueued again, with its
    // original age, and goes to Bob first although Ada idles longer.
    resume(&env, org, conv, "bob", 120).await;
    eventually(10, "re-offered", || {
        let n = offers_of(&rec, conv).len();
        async move { (n == 2).then_some(()) }
    })
    .await
    .unwrap();
    let again = offers_of(&rec, conv).pop().unwrap();
    assert_eq!(again.agent_id, "bob");
    let a = accept(&env, &mut c, org, "bob", &again).await;
    assert_eq!(a.agent_id, "bob");

    // Paused again; Bob is away now: the strategy decides (Ada).
    pause(&env, org, conv, "bob").await;
    load_becomes(&env, &c, org, "bob", 0).await;
    c.set_agent_state(req(
        &env,
        org,
        "bob",
        Role::Agent,
        pb::SetAgentStateRequest {
            state: pb::AgentState::Away as i32,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    resume(&env, org, conv, "bob", 120).await;
    offer_to(&rec, conv, "ada").await;
}

// spec: CNV-12, RTG-6
#[tokio::test]
async fn a_resume_overtaking_its_pause_still_frees_the_leg_once() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let conv = queue_conversation(&env, org, "", "Grace").await;
    let o = offer_to(&rec, conv, "ada").await;
    accept(&env, &mut c, org, "ada", &o).await;
    // The resume arrives first (another replica still holds the pause).
    resume(&env, org, conv, "ada", 60).await;
    eventually(10, "re-offered to ada", || {
        let n = offers_of(&rec, conv).len();
        async move { (n == 2).then_some(()) }
    })
    .await
    .unwrap();
    // One offer pending, no active leg: load 1, not 2.
    assert_eq!(agent(&env, &mut c, org, "ada").await.active_load, 1);
    // The late pause finds the conversation waiting: nothing happens.
    pause(&env, org, conv, "ada").await;
    let again = offers_of(&rec, conv).pop().unwrap();
    let a = accept(&env, &mut c, org, "ada", &again).await;
    assert_eq!(a.agent_id, "ada");
    // The marker: the conversation ends after the late pause, on the same
    // lane of the consumer (one conversation's events are handled in
    // order). Ada's leg enters wrap-up only if the pause left it active.
    let ended = ConversationEnded {
        conversation_id: conv.to_string(),
        ..Default::default()
    };
    publish(&env, org, conv, &ended).await;
    let conv_s = conv.to_string();
    rec.wait::<pb::WrapUpStarted>("ada's leg in wrap-up", |w| {
        w.conversation_id == conv_s && w.agent_id == "ada"
    })
    .await;
    // A leg in wrap-up still counts (RTG-2): the late pause freed nothing.
    assert_eq!(agent(&env, &mut c, org, "ada").await.active_load, 1);
    assert_eq!(rec.all::<pb::ConversationAssigned>().len(), 2);
}
