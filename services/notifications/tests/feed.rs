//! Realtime feeds end to end (NTF-1, NTF-3, RTG-4): events published as the
//! other services would, notifications read from `Subscribe` streams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as cv;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::routing::v1 as rt;
use livedesk_testkit::{TestEnv, new_org};
use uuid::Uuid;

// spec: RTG-4
// spec: NTF-1
#[tokio::test]
async fn an_offer_reaches_the_offered_agent_with_its_payload() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut agent = subscribe(&env, &client, org, "agent-1", Role::Agent, 0, false).await;
    let offer = rt::Offer {
        id: Uuid::now_v7().to_string(),
        conversation_id: conv.clone(),
        agent_id: "agent-1".into(),
        queue_name: "Sales".into(),
        customer_name: "Ana".into(),
        first_messages: vec!["hello".into(), "anyone?".into()],
        proactive: true,
        conversation_created_at: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        ..Default::default()
    };
    publish(
        &env,
        "routing",
        org,
        &conv,
        &rt::OfferCreated {
            offer: Some(offer.clone()),
        },
    )
    .await;
    let n = next(&mut agent).await;
    assert_eq!(n.sequence, 1);
    assert_eq!(n.conversation_id, conv);
    assert!(n.at.is_some());
    assert_eq!(
        n.kind,
        Some(Kind::Offer(offer.clone())),
        "the whole RTG-4 payload arrives"
    );

    // Not answered in time: the offer is withdrawn from the agent's desktop.
    publish(
        &env,
        "routing",
        org,
        &conv,
        &rt::OfferExpired {
            offer: Some(offer.clone()),
        },
    )
    .await;
    let n = next(&mut agent).await;
    assert_eq!(n.sequence, 2);
    match n.kind {
        Some(Kind::OfferWithdrawn(w)) => assert_eq!(
            (w.offer_id.as_str(), w.reason.as_str()),
            (offer.id.as_str(), "expired")
        ),
        other => panic!("expected offer_withdrawn, got {other:?}"),
    }
}

// spec: NTF-1
#[tokio::test]
async fn a_visitor_gets_agent_messages_in_order_and_never_their_own() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    let mut agent = subscribe(&env, &client, org, "agent-1", Role::Agent, 0, false).await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &queued(&conv, "q1", "visitor-1"),
    )
    .await;
    let everyone = ["visitor-1", "agent-1"];
    for (author, text) in [
        ("agent-1", "one"),
        ("visitor-1", "mine"),
        ("agent-1", "two"),
        ("agent-1", "three"),
    ] {
        publish(
            &env,
            "conversations",
            org,
            &conv,
            &message(&conv, author, text, &everyone, "visitor-1"),
        )
        .await;
    }
    let got: Vec<_> = [
        next(&mut visitor).await,
        next(&mut visitor).await,
        next(&mut visitor).await,
    ]
    .iter()
    .map(|n| (n.sequence, text(n)))
    .collect();
    assert_eq!(
        got,
        [
            (1, "one".to_string()),
            (2, "two".to_string()),
            (3, "three".to_string())
        ]
    );
    // The agent hears only the visitor's message, not their own three.
    let n = next(&mut agent).await;
    assert_eq!((n.sequence, text(&n)), (1, "mine".to_string()));
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "visitor-1", "marker", &everyone, "visitor-1"),
    )
    .await;
    assert_eq!(text(&next(&mut agent).await), "marker");
}

// spec: NTF-1
#[tokio::test]
async fn assignment_and_end_reach_the_visitor_and_the_agent() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    let mut agent = subscribe(&env, &client, org, "agent-1", Role::Agent, 0, false).await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &queued(&conv, "q1", "visitor-1"),
    )
    .await;
    // Wait for the queued event so the customer is known when routing assigns.
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "bot", "welcome", &["visitor-1"], "visitor-1"),
    )
    .await;
    assert_eq!(text(&next(&mut visitor).await), "welcome");
    let assigned = rt::ConversationAssigned {
        conversation_id: conv.clone(),
        agent_id: "agent-1".into(),
        agent_display_name: "Bruno".into(),
        ..Default::default()
    };
    publish(&env, "routing", org, &conv, &assigned).await;
    match next(&mut visitor).await.kind {
        Some(Kind::AgentJoined(j)) => assert_eq!(
            (j.agent_id.as_str(), j.display_name.as_str(), j.conference),
            ("agent-1", "Bruno", false)
        ),
        other => panic!("expected agent_joined, got {other:?}"),
    }
    assert!(
        matches!(next(&mut visitor).await.kind, Some(Kind::Assigned(a)) if a.agent_id == "agent-1")
    );
    assert!(matches!(
        next(&mut agent).await.kind,
        Some(Kind::Assigned(_))
    ));

    let ended = cv::ConversationEnded {
        conversation_id: conv.clone(),
        status: cv::ConversationStatus::Ended as i32,
        ended_by: cv::EndedBy::Agent as i32,
        customer_principal_id: "visitor-1".into(),
        ..Default::default()
    };
    publish(&env, "conversations", org, &conv, &ended).await;
    // The widget minimizes on this.
    match next(&mut visitor).await.kind {
        Some(Kind::ConversationEnded(e)) => {
            assert_eq!((e.ended_by, e.blocked), (cv::EndedBy::Agent as i32, false))
        }
        other => panic!("expected conversation_ended, got {other:?}"),
    }
    // The agent is a member since the assignment: told too.
    assert!(matches!(
        next(&mut agent).await.kind,
        Some(Kind::ConversationEnded(_))
    ));
}

// spec: NTF-3
#[tokio::test]
async fn the_customer_of_a_blocked_conversation_is_told_nothing() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let (conv, other) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    let mut agent = subscribe(&env, &client, org, "agent-1", Role::Agent, 0, false).await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &queued(&conv, "q1", "visitor-1"),
    )
    .await;
    let ended = cv::ConversationEnded {
        conversation_id: conv.clone(),
        status: cv::ConversationStatus::Blocked as i32,
        ended_by: cv::EndedBy::Agent as i32,
        customer_principal_id: "visitor-1".into(),
        agent_ids: vec!["agent-1".into()],
        ..Default::default()
    };
    publish(&env, "conversations", org, &conv, &ended).await;
    // Even a message naming the visitor in its audience is not pushed.
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "agent-1", "late", &["visitor-1"], "visitor-1"),
    )
    .await;
    // A marker from the same stream, after both: the visitor's next item
    // is the marker, so nothing of the blocked conversation came first.
    publish(
        &env,
        "conversations",
        org,
        &other,
        &message(&other, "agent-2", "marker", &["visitor-1"], ""),
    )
    .await;
    let n = next(&mut visitor).await;
    assert_eq!(
        (n.conversation_id.as_str(), text(&n).as_str(), n.sequence),
        (other.as_str(), "marker", 1)
    );
    // The agents are told, with the blocked flag.
    match next(&mut agent).await.kind {
        Some(Kind::ConversationEnded(e)) => assert!(e.blocked),
        other => panic!("expected conversation_ended, got {other:?}"),
    }
}

// spec: NTF-1
#[tokio::test]
async fn a_resumed_stream_gets_what_it_missed_exactly_once() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let audience = ["visitor-1"];
    let mut first = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    for t in ["m1", "m2"] {
        publish(
            &env,
            "conversations",
            org,
            &conv,
            &message(&conv, "agent-1", t, &audience, "visitor-1"),
        )
        .await;
    }
    assert_eq!(next(&mut first).await.sequence, 1);
    assert_eq!(next(&mut first).await.sequence, 2);
    drop(first);
    // While disconnected, two more are stored.
    for t in ["m3", "m4"] {
        publish(
            &env,
            "conversations",
            org,
            &conv,
            &message(&conv, "agent-1", t, &audience, "visitor-1"),
        )
        .await;
    }
    let db = db(&env).await;
    livedesk_testkit::eventually(30, "m3 and m4 stored", || async {
        use sea_orm::ConnectionTrait;
        let row = db
            .query_one_raw(livedesk_platform::db::stmt(
                "SELECT count(*) AS n FROM notifications WHERE org_id = $1 AND recipient = 'visitor-1'",
                [org.into()],
            ))
            .await
            .ok()??;
        (row.try_get::<i64>("", "n").ok()? == 4).then_some(())
    })
    .await
    .unwrap();
    let mut resumed = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 2, false).await;
    let n3 = next(&mut resumed).await;
    let n4 = next(&mut resumed).await;
    assert_eq!(
        (n3.sequence, text(&n3), n4.sequence, text(&n4)),
        (3, "m3".into(), 4, "m4".into())
    );
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "agent-1", "m5", &audience, "visitor-1"),
    )
    .await;
    let n5 = next(&mut resumed).await;
    assert_eq!(
        (n5.sequence, text(&n5)),
        (5, "m5".into()),
        "nothing repeated, nothing skipped"
    );
    // replay_all gives everything retained.
    let mut all = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, true).await;
    for seq in 1..=5 {
        assert_eq!(next(&mut all).await.sequence, seq);
    }
}

// spec: NTF-1
// spec: TEN-1
#[tokio::test]
async fn another_orgs_principal_with_the_same_id_receives_nothing() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let (org_a, org_b) = (new_org(), new_org());
    let conv = Uuid::now_v7().to_string();
    let mut b = subscribe(&env, &client, org_b, "agent-1", Role::Agent, 0, false).await;
    let offer = rt::Offer {
        id: Uuid::now_v7().to_string(),
        conversation_id: conv.clone(),
        agent_id: "agent-1".into(),
        ..Default::default()
    };
    publish(
        &env,
        "routing",
        org_a,
        &conv,
        &rt::OfferCreated { offer: Some(offer) },
    )
    .await;
    let marker = rt::Offer {
        id: Uuid::now_v7().to_string(),
        conversation_id: "marker".into(),
        agent_id: "agent-1".into(),
        ..Default::default()
    };
    publish(
        &env,
        "routing",
        org_b,
        "marker",
        &rt::OfferCreated {
            offer: Some(marker),
        },
    )
    .await;
    let n = next(&mut b).await;
    assert_eq!((n.conversation_id.as_str(), n.sequence), ("marker", 1));
}

// spec: NTF-1
#[tokio::test]
async fn a_stream_on_one_replica_receives_what_another_replica_consumed() {
    let env = TestEnv::new().await.unwrap();
    let (_a, client_a) = start(&env).await;
    let (_b, _client_b) = start(&env).await; // same database, same prefix
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client_a, org, "visitor-1", Role::Visitor, 0, false).await;
    // Both replicas pull from the one durable consumer: either may handle
    // any of these; every one must reach the stream on A, in order.
    for i in 1..=8u64 {
        publish(
            &env,
            "conversations",
            org,
            &conv,
            &message(
                &conv,
                "agent-1",
                &format!("m{i}"),
                &["visitor-1"],
                "visitor-1",
            ),
        )
        .await;
    }
    let mut texts = Vec::new();
    for seq in 1..=8u64 {
        let n = next(&mut visitor).await;
        assert_eq!(n.sequence, seq);
        texts.push(text(&n));
    }
    texts.sort();
    let mut expected: Vec<String> = (1..=8).map(|i| format!("m{i}")).collect();
    expected.sort();
    assert_eq!(texts, expected, "each message exactly once");
}

// spec: NTF-1
#[tokio::test]
async fn customers_waiting_in_a_closing_queue_are_told() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &queued(&conv, "q-closing", "visitor-1"),
    )
    .await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "bot", "welcome", &["visitor-1"], "visitor-1"),
    )
    .await;
    assert_eq!(text(&next(&mut visitor).await), "welcome");
    let closing = livedesk_proto::scheduling::v1::QueueClosingSoon {
        queue_id: "q-closing".into(),
        message: "We close in 10 minutes".into(),
        ..Default::default()
    };
    publish(&env, "scheduling", org, "q-closing", &closing).await;
    let n = next(&mut visitor).await;
    assert_eq!(n.conversation_id, conv);
    assert!(matches!(n.kind, Some(Kind::ClosingSoon(c)) if c.text == "We close in 10 minutes"));
}

// spec: NTF-1
#[tokio::test]
async fn an_assignment_consumed_before_the_queued_event_still_reaches_the_customer() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client, org, "visitor-9", Role::Visitor, 0, false).await;
    // Only routing's event: the conversations stream has told nothing yet.
    let assigned = rt::ConversationAssigned {
        conversation_id: conv.clone(),
        agent_id: "agent-9".into(),
        agent_display_name: "Noor".into(),
        customer_principal_id: "visitor-9".into(),
        ..Default::default()
    };
    publish(&env, "routing", org, &conv, &assigned).await;
    match next(&mut visitor).await.kind {
        Some(Kind::AgentJoined(j)) => assert_eq!(j.display_name, "Noor"),
        other => panic!("expected agent_joined, got {other:?}"),
    }
}
