//! A graceful stop of the conversations service in the middle of a chat
//! loses no acknowledged message: each is stored, published and delivered
//! to the agent's stream once the service is back (TEN-7, EVT-2, NTF-1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livedesk_auth::Role;
use livedesk_e2e::Suite;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1::SubscribeRequest;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::routing::v1 as rtg;
use livedeskctl::tokens::authed;

// spec: TEN-7, EVT-2, NTF-1
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_conversations_mid_chat_loses_no_acknowledged_message() {
    let mut suite = Suite::start().await.unwrap();
    let tokens = suite.tokens();
    let agent = tokens.mint("agent-ada", Role::Agent, Some("Ada")).unwrap();
    let visitor = tokens.mint("visitor-ms", Role::Visitor, None).unwrap();
    let c = suite.clients.clone();
    c.routing
        .clone()
        .set_agent_state(authed(
            &agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let mut feed = livedesk_e2e::subscribe(&c, &agent, true).await.unwrap();
    let start = cnv::StartConversationRequest {
        channel: Channel::WebChat as i32,
        customer: Some(cnv::Customer {
            name: "Marie".into(),
            ..Default::default()
        }),
        first_message: "hello".into(),
        ..Default::default()
    };
    c.conversations
        .clone()
        .start_conversation(authed(&visitor, start))
        .await
        .unwrap();
    let offer = loop {
        if let Some(Kind::Offer(o)) = feed.message().await.unwrap().unwrap().kind {
            break o;
        }
    };
    c.routing
        .clone()
        .accept_offer(authed(
            &agent,
            rtg::AcceptOfferRequest {
                offer_id: offer.id.clone(),
            },
        ))
        .await
        .unwrap();
    let cid = offer.conversation_id.clone();
    livedesk_testkit::eventually(20, "ACTIVE", || {
        let (mut cl, t, id) = (c.conversations.clone(), agent.clone(), cid.clone());
        async move {
            let conv = cl
                .get_conversation(authed(&t, cnv::GetConversationRequest { id }))
                .await
                .ok()?
                .into_inner();
            (conv.status == cnv::ConversationStatus::Active as i32).then_some(())
        }
    })
    .await
    .unwrap();

    // The visitor types away while the service is stopped under them,
    // until it is back: a call refused while it restarts ends the typing
    // too (not every restart refuses one: the client may reconnect to the
    // new instance before it sends again).
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let restarted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let (mut cl, t, id, acked, restarted) = (
            c.conversations.clone(),
            visitor.clone(),
            cid.clone(),
            acknowledged.clone(),
            restarted.clone(),
        );
        tokio::spawn(async move {
            for i in 0..100_000u32 {
                if restarted.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let text = format!("message {i}");
                let req = cnv::SendMessageRequest {
                    conversation_id: id.clone(),
                    text: text.clone(),
                    client_message_id: format!("m{i}"),
                    ..Default::default()
                };
                match cl.send_message(authed(&t, req)).await {
                    Ok(_) => {
                        acked.lock().unwrap().insert(text);
                    }
                    Err(_) => return,
                }
            }
        })
    };
    livedesk_testkit::eventually(30, "traffic", || {
        let n = acknowledged.lock().unwrap().len();
        async move { (n >= 30).then_some(()) }
    })
    .await
    .unwrap();
    suite.restart("conversations").await.unwrap();
    restarted.store(true, std::sync::atomic::Ordering::SeqCst);
    sender.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    // Stored…
    let mut stored = BTreeSet::new();
    let mut after = 0;
    loop {
        let page = suite
            .clients
            .conversations
            .clone()
            .list_messages(authed(
                &agent,
                cnv::ListMessagesRequest {
                    conversation_id: cid.clone(),
                    after_sequence: after,
                    limit: 500,
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .messages;
        let Some(last) = page.last() else { break };
        after = last.sequence;
        stored.extend(page.into_iter().map(|m| m.text));
    }
    let missing: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    // …and delivered to the agent, each once.
    let mut delivered = Vec::new();
    while delivered.len() < acknowledged.len() {
        let next = tokio::time::timeout(Duration::from_secs(20), feed.message())
            .await
            .expect("every acknowledged message reaches the agent");
        if let Some(Kind::Message(m)) = next.unwrap().unwrap().kind {
            delivered.push(m.text);
        }
    }
    let unique: BTreeSet<String> = delivered.iter().cloned().collect();
    assert_eq!(unique.len(), delivered.len(), "no duplicates");
    assert!(acknowledged.is_subset(&unique));
    assert!(acknowledged.len() >= 30);
    suite.stop().await.unwrap();
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_notifications_ends_open_streams_well_inside_the_grace_period() {
    let env = livedesk_testkit::TestEnv::new().await.unwrap();
    // A long grace period: were open streams not ended at shutdown, the
    // drain would wait for them all of it.
    let vars = env.service_env(
        "notifications",
        &[("LIVEDESK_SHUTDOWN_GRACE_SECONDS".into(), "30".into())],
    );
    let svc = livedesk_testkit::spawn::<livedesk_notifications::App>(&vars)
        .await
        .unwrap();
    let agent = env.token(livedesk_testkit::new_org(), "agent-ada", Role::Agent);
    let client = livedesk_proto::notifications::v1::notifications_service_client::NotificationsServiceClient::new(
        svc.channel().await.unwrap(),
    );
    // The response headers have arrived: the server is inside `Subscribe`.
    let mut feed = client
        .clone()
        .subscribe(authed(
            &agent,
            SubscribeRequest {
                after_sequence: 0,
                replay_all: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let started = std::time::Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(40), svc.stop()).await;
    let took = started.elapsed();
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "graceful stop completed: {stopped:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the stop took {took:?}: open streams must end at shutdown, not at the 30 s grace"
    );
    let end = tokio::time::timeout(Duration::from_secs(5), feed.message())
        .await
        .expect("the client's stream ends with the stop");
    assert!(!matches!(end, Ok(Some(_))), "the stream ended: {end:?}");
}
