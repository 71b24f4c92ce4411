//! RTG-11: deleting a queue or an agent interrupts their live
//! conversations (participants alerted, end-only), abandons a deleted
//! queue's waiting conversations and re-offers a deleted agent's offers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_platform::defaults::default_queue_id;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, new_org};
use uuid::Uuid;

async fn set_capacity(env: &TestEnv, c: &mut Client, org: Uuid, id: &str, capacity: u32) {
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

// spec: RTG-11, TEN-3, TEN-2
#[tokio::test]
async fn deleting_a_queue_interrupts_live_and_abandons_waiting_conversations() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    set_capacity(&env, &mut c, org, "ada", 2).await;
    available(&env, &mut c, org, "ada").await;
    let temp = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Temp".into(),
            member_agent_ids: vec!["ada".into()],
            ..Default::default()
        },
    )
    .await;
    let live = queue_conversation(&env, org, &temp.id, "Grace").await;
    let o = offer_to(&rec, live, "ada").await;
    accept(&env, &mut c, org, "ada", &o).await;
    let offered = queue_conversation(&env, org, &temp.id, "Alan").await;
    offer_to(&rec, offered, "ada").await;
    let waiting = queue_conversation(&env, org, &temp.id, "Edsger").await;
    livedesk_testkit::eventually(10, "third waiting", || {
        let mut c = c.clone();
        let (env, id) = (&env, temp.id.clone());
        async move {
            let s = c
                .get_queue_status(req(
                    env,
                    org,
                    "boss",
                    Role::Supervisor,
                    pb::GetQueueStatusRequest { queue_id: id },
                ))
                .await
                .ok()?
                .into_inner();
            (s.waiting == 2).then_some(())
        }
    })
    .await
    .unwrap();

    let del = |id: &str| pb::DeleteQueueRequest { id: id.to_owned() };
    let err = c
        .delete_queue(req(&env, org, "sup", Role::Supervisor, del(&temp.id)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = c
        .delete_queue(req(
            &env,
            org,
            "boss",
            Role::Admin,
            del(&default_queue_id(org).to_string()),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let err = c
        .delete_queue(req(&env, new_org(), "boss", Role::Admin, del(&temp.id)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    let err = c
        .delete_queue(req(&env, org, "boss", Role::Admin, del("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);

    let out = c
        .delete_queue(req(&env, org, "boss", Role::Admin, del(&temp.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.interrupted_conversation_ids, [live.to_string()]);
    let live_s = live.to_string();
    let alert = rec
        .wait::<pb::ConversationInterrupted>("interrupted", |e| e.conversation_id == live_s)
        .await;
    assert_eq!(alert.reason, "queue_deleted");
    assert_eq!(alert.agent_ids, ["ada"]);
    for conv in [offered, waiting] {
        let s = conv.to_string();
        let a = rec
            .wait::<pb::ConversationAbandoned>("abandoned", |e| e.conversation_id == s)
            .await;
        assert_eq!(a.reason, "queue_deleted");
    }
    rec.wait_withdrawn(offered, "queue_deleted").await;
    rec.wait::<pb::QueueChanged>("queue deleted", |e| e.deleted)
        .await;
    let err = c
        .get_queue(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::GetQueueRequest {
                id: temp.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    // The interrupted conversation can only be ended.
    let err = c
        .transfer_to_queue(req(
            &env,
            org,
            "ada",
            Role::Agent,
            pb::TransferToQueueRequest {
                conversation_id: live.to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert_eq!(agent(&env, &mut c, org, "ada").await.active_load, 1);
    end_conversation(&env, org, live).await;
    rec.wait::<pb::WrapUpStarted>("ada wraps up", |w| w.conversation_id == live_s)
        .await;
}

// spec: RTG-11
#[tokio::test]
async fn deleting_an_agent_interrupts_their_conversations_and_re_offers_their_offers() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let rec = Recorder::start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let live = queue_conversation(&env, org, "", "Grace").await;
    let o = offer_to(&rec, live, "ada").await;
    accept(&env, &mut c, org, "ada", &o).await;
    let offered = queue_conversation(&env, org, "", "Alan").await;
    offer_to(&rec, offered, "ada").await;

    let del = pb::DeleteAgentRequest { id: "ada".into() };
    let err = c
        .delete_agent(req(&env, org, "sup", Role::Supervisor, del.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = c
        .delete_agent(req(&env, new_org(), "boss", Role::Admin, del.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    let out = c
        .delete_agent(req(&env, org, "boss", Role::Admin, del))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.interrupted_conversation_ids, [live.to_string()]);
    let live_s = live.to_string();
    let alert = rec
        .wait::<pb::ConversationInterrupted>("interrupted", |e| e.conversation_id == live_s)
        .await;
    assert_eq!(
        (alert.reason.as_str(), alert.agent_ids.as_slice()),
        ("agent_deleted", &["ada".to_string()][..])
    );
    rec.wait_withdrawn(offered, "agent_deleted").await;
    let err = c
        .get_agent(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::GetAgentRequest { id: "ada".into() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    // The withdrawn offer goes to the next available agent.
    available(&env, &mut c, org, "bob").await;
    offer_to(&rec, offered, "bob").await;
    assert!(
        !rec.all::<pb::OfferCreated>().iter().any(|o| o
            .offer
            .as_ref()
            .is_some_and(|o| o.conversation_id == live_s && o.agent_id == "bob")),
        "an interrupted conversation is not re-routed"
    );
}
