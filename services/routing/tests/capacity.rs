//! Capacity per channel (RTG-1, RTG-2): a full web chat does not stop
//! WhatsApp offers, and capacities are validated and round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use tonic::Code;
use uuid::Uuid;

const WEB_CHAT: i32 = 1;
const MESSENGER: i32 = 2;
const WHATSAPP: i32 = 3;
const INSTAGRAM: i32 = 4;
const EMAIL: i32 = 5;

fn caps(pairs: &[(i32, u32)]) -> Vec<pb::ChannelCapacity> {
    pairs
        .iter()
        .map(|&(channel, capacity)| pb::ChannelCapacity { channel, capacity })
        .collect()
}

fn as_pairs(a: &pb::Agent) -> Vec<(i32, u32)> {
    a.capacities
        .iter()
        .map(|c| (c.channel, c.capacity))
        .collect()
}

async fn upsert(
    env: &TestEnv,
    c: &mut Client,
    org: Uuid,
    pairs: &[(i32, u32)],
) -> Result<pb::Agent, tonic::Status> {
    c.upsert_agent(req(
        env,
        org,
        "boss",
        Role::Admin,
        pb::UpsertAgentRequest {
            id: "ada".into(),
            capacities: caps(pairs),
            ..Default::default()
        },
    ))
    .await
    .map(tonic::Response::into_inner)
}

async fn queue_on(env: &TestEnv, org: Uuid, channel: i32, customer: &str) -> Uuid {
    let conv = Uuid::now_v7();
    let mut e = queued_event(conv, "", customer);
    e.channel = channel;
    publish(env, org, conv, &e).await;
    conv
}

// spec: RTG-1, RTG-2
#[tokio::test]
async fn capacity_is_counted_per_channel_and_validated() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();

    // Round trip: every channel comes back with its effective capacity;
    // the other chats follow web chat, email defaults to 5.
    let set = upsert(&env, &mut c, org, &[(WEB_CHAT, 1), (WHATSAPP, 2)])
        .await
        .unwrap();
    let expected = vec![
        (WEB_CHAT, 1),
        (MESSENGER, 1),
        (WHATSAPP, 2),
        (INSTAGRAM, 1),
        (EMAIL, 5),
    ];
    assert_eq!(as_pairs(&set), expected);
    assert_eq!(as_pairs(&agent(&env, &mut c, org, "ada").await), expected);

    // Bad capacities: INVALID_ARGUMENT naming the fields, nothing changed.
    for (bad, field) in [
        (vec![(WEB_CHAT, 0)], "capacities[0].capacity"),
        (vec![(WHATSAPP, 26)], "capacities[0].capacity"),
        (vec![(WEB_CHAT, 2), (WEB_CHAT, 3)], "capacities[1].channel"),
        (vec![(0, 2)], "capacities[0].channel"),
    ] {
        let err = upsert(&env, &mut c, org, &bad).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert!(err.message().contains(field), "{bad:?}: {}", err.message());
    }
    assert_eq!(as_pairs(&agent(&env, &mut c, org, "ada").await), expected);

    // Web chat 1, WhatsApp 2: one web-chat offer, then still two WhatsApp
    // offers, never a second web-chat one.
    let mut ada = c.clone();
    ada.set_agent_state(req(
        &env,
        org,
        "ada",
        Role::Agent,
        pb::SetAgentStateRequest {
            state: pb::AgentState::Available as i32,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let web1 = queue_on(&env, org, WEB_CHAT, "Grace").await;
    offer_to(&rec, web1, "ada").await;
    let web2 = queue_on(&env, org, WEB_CHAT, "Alan").await;
    // Routing has seen the second web chat before the WhatsApp ones arrive:
    // every pass that offers them considers it first (it is older).
    eventually(15, "second web chat waiting", || {
        let mut c = c.clone();
        let r = req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::ListQueuedConversationsRequest::default(),
        );
        async move {
            let list = c.list_queued_conversations(r).await.unwrap().into_inner();
            list.conversations
                .iter()
                .any(|q| q.conversation_id == web2.to_string())
                .then_some(())
        }
    })
    .await
    .unwrap();
    let wa1 = queue_on(&env, org, WHATSAPP, "Edsger").await;
    let wa2 = queue_on(&env, org, WHATSAPP, "Barbara").await;
    offer_to(&rec, wa1, "ada").await;
    offer_to(&rec, wa2, "ada").await;
    let web2_offers = rec
        .all::<pb::OfferCreated>()
        .into_iter()
        .filter(|e| {
            e.offer
                .as_ref()
                .is_some_and(|o| o.conversation_id == web2.to_string())
        })
        .count();
    assert_eq!(web2_offers, 0, "web chat is full at 1");
    let now = agent(&env, &mut c, org, "ada").await;
    assert_eq!(now.active_load, 3, "one web chat + two WhatsApp offers");
    let status = c
        .get_queue_status(req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::GetQueueStatusRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(status.waiting >= 1, "the second web chat still waits");
}
