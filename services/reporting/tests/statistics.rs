//! Statistics from the event-built read model (RPT-1 … RPT-3, RPT-5, EVT-3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, Times, ended, ts};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1::{ConversationPaused, ConversationStatus};
use livedesk_proto::reporting::v1::{GroupBy, StatisticsRow};
use livedesk_proto::routing::v1::{WrapUp, WrapUpSubmitted};
use livedesk_testkit::{eventually, new_org};
use uuid::Uuid;

fn wrap_up(conversation: Uuid, agent: &str, code: &str, at: i64) -> WrapUpSubmitted {
    WrapUpSubmitted {
        wrap_up: Some(WrapUp {
            conversation_id: conversation.to_string(),
            agent_id: agent.into(),
            code: code.into(),
            automatic: false,
            submitted_at: ts(at),
        }),
    }
}

fn row<'a>(rows: &'a [StatisticsRow], key: &str) -> Option<&'a StatisticsRow> {
    rows.iter().find(|r| r.key == key)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Publishes four ended conversations, one paused one and a wrap-up of a
/// conversation that never ends; returns their ids.
async fn seed(h: &Harness, org: Uuid) -> [Uuid; 4] {
    let [c1, c2, c3, c4] = [
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    ];
    // c1: wrap-up BEFORE its end; c2: AFTER (either order must work).
    h.publish(
        "routing",
        org,
        &c1.to_string(),
        &wrap_up(c1, "a1", "resolved", 115),
    )
    .await;
    let e1 = ended(
        c1,
        &["after-sales"],
        &["a1"],
        Times {
            queued: 0,
            assigned: Some(10),
            first_response: Some(20),
            ended: 110,
        },
        ConversationStatus::Ended,
        false,
    );
    h.publish("conversations", org, &c1.to_string(), &e1).await;
    // EVT-3: the same fact delivered again (new event id) counts once.
    h.publish("conversations", org, &c1.to_string(), &e1).await;
    let e2 = ended(
        c2,
        &["after-sales", "billing"],
        &["a2"],
        Times {
            queued: 0,
            assigned: Some(30),
            first_response: Some(40),
            ended: 330,
        },
        ConversationStatus::Ended,
        false,
    );
    h.publish("conversations", org, &c2.to_string(), &e2).await;
    h.publish(
        "routing",
        org,
        &c2.to_string(),
        &wrap_up(c2, "a2", "refund", 335),
    )
    .await;
    let e3 = ended(
        c3,
        &["billing"],
        &[],
        Times {
            queued: 0,
            assigned: None,
            first_response: None,
            ended: 60,
        },
        ConversationStatus::Ended,
        true,
    );
    h.publish("conversations", org, &c3.to_string(), &e3).await;
    // RPT-2: paused conversations never count, nor one only wrapped up.
    let paused = Uuid::now_v7();
    h.publish(
        "conversations",
        org,
        &paused.to_string(),
        &ConversationPaused {
            conversation_id: paused.to_string(),
            agent_id: "a1".into(),
        },
    )
    .await;
    h.publish(
        "routing",
        org,
        &paused.to_string(),
        &wrap_up(paused, "a1", "later", 50),
    )
    .await;
    let e4 = ended(
        c4,
        &["after-sales"],
        &["a1"],
        Times {
            queued: 0,
            assigned: Some(20),
            first_response: None,
            ended: 220,
        },
        ConversationStatus::Blocked,
        false,
    );
    h.publish("conversations", org, &c4.to_string(), &e4).await;
    [c1, c2, c3, c4]
}

// spec: RPT-1, RPT-2, RPT-3, EVT-3
#[tokio::test]
async fn statistics_by_tag_come_from_the_events() {
    let h = Harness::start().await;
    let org = new_org();
    seed(&h, org).await;
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let rows = eventually(20, "four ended conversations counted", || async {
        let rows = h.stats(&sup, GroupBy::Unspecified).await.ok()?;
        (rows.len() == 1 && rows[0].count == 4).then_some(rows)
    })
    .await
    .unwrap();
    assert_eq!(rows[0].blocked_count, 1);
    assert!(close(rows[0].abandonment_rate, 0.25));

    let by_tag = h.stats(&sup, GroupBy::Tag).await.unwrap();
    let after_sales = row(&by_tag, "after-sales").expect("after-sales row");
    assert_eq!(
        after_sales.count, 3,
        "c1 counted once although delivered twice"
    );
    assert!(
        close(after_sales.avg_handle_seconds, 200.0),
        "{after_sales:?}"
    );
    // percentile_cont over 100, 200, 300: 200 + 0.8 × 100.
    assert!(
        close(after_sales.p90_handle_seconds, 280.0),
        "{after_sales:?}"
    );
    assert!(close(after_sales.avg_wait_seconds, 20.0), "{after_sales:?}");
    assert!(close(after_sales.abandonment_rate, 0.0));
    assert_eq!(after_sales.blocked_count, 1);
    assert!(
        close(after_sales.avg_first_response_seconds, 30.0),
        "{after_sales:?}"
    );

    let billing = row(&by_tag, "billing").expect("billing row");
    assert_eq!(billing.count, 2);
    assert!(close(billing.avg_handle_seconds, 300.0), "{billing:?}");
    assert!(close(billing.p90_handle_seconds, 300.0), "{billing:?}");
    assert!(
        close(billing.avg_wait_seconds, 45.0),
        "abandoned c3 waited until its end: {billing:?}"
    );
    assert!(close(billing.abandonment_rate, 0.5));
    assert_eq!(billing.blocked_count, 0);

    let by_channel = h.stats(&sup, GroupBy::Channel).await.unwrap();
    assert_eq!(by_channel.len(), 1);
    assert_eq!(by_channel[0].key, "CHANNEL_WEB_CHAT");
    let by_agent = h.stats(&sup, GroupBy::Agent).await.unwrap();
    assert_eq!(row(&by_agent, "a1").map(|r| r.count), Some(2));
    assert_eq!(
        row(&by_agent, "").map(|r| r.count),
        Some(1),
        "the abandoned conversation had no agent"
    );
}

// spec: RPT-5
#[tokio::test]
async fn statistics_honour_org_and_role() {
    let h = Harness::start().await;
    let org = new_org();
    seed(&h, org).await;
    let sup = h.token(org, "sup-1", Role::Supervisor);
    eventually(20, "four ended conversations counted", || async {
        let rows = h.stats(&sup, GroupBy::Unspecified).await.ok()?;
        (rows.first()?.count == 4).then_some(())
    })
    .await
    .unwrap();

    // An agent sees only the conversations they handled (c1, c4).
    let agent = h.token(org, "a1", Role::Agent);
    let mine = h.stats(&agent, GroupBy::Unspecified).await.unwrap();
    assert_eq!(mine[0].count, 2);
    let mine_by_agent = h.stats(&agent, GroupBy::Agent).await.unwrap();
    assert_eq!(
        mine_by_agent
            .iter()
            .map(|r| r.key.as_str())
            .collect::<Vec<_>>(),
        ["a1"]
    );

    // Another org sees nothing of this one.
    let other = h.token(new_org(), "sup-2", Role::Admin);
    assert!(h.stats(&other, GroupBy::Tag).await.unwrap().is_empty());

    let visitor = h.token(org, "visitor-1", Role::Visitor);
    assert_eq!(
        h.stats(&visitor, GroupBy::Tag).await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );
}

// spec: RPT-3
#[tokio::test]
async fn bad_statistics_requests_are_invalid_arguments() {
    let h = Harness::start().await;
    let org = new_org();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let mut client = h.client().await;
    let req = livedesk_proto::reporting::v1::GetStatisticsRequest {
        range: Some(livedesk_proto::common::v1::TimeRange {
            from: ts(100),
            to: ts(0),
        }),
        group_by: 42,
    };
    let err = client
        .get_statistics(livedesk_testkit::authed(&sup, req))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("range") && err.message().contains("group_by"),
        "{}",
        err.message()
    );
}
