//! Tags and reasons edited after the end reach statistics and the CSV
//! export (RPT-2, CNV-10), whichever of the end and the edit arrives first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, Times, col, ended, parse_csv};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1::{ConversationStatus, Qualification, QualificationUpdated};
use livedesk_proto::reporting::v1::{ExportKind, GroupBy};
use livedesk_testkit::{eventually, new_org};
use uuid::Uuid;

fn edit(conversation: Uuid, tags: &[&str], reason: &str) -> QualificationUpdated {
    QualificationUpdated {
        conversation_id: conversation.to_string(),
        qualification: Some(Qualification {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            contact_reason: reason.into(),
            note: String::new(),
        }),
        changed_by: "sup-1".into(),
    }
}

fn times(end: i64) -> Times {
    Times {
        queued: 0,
        assigned: Some(10),
        first_response: Some(20),
        ended: end,
    }
}

// spec: RPT-2, CNV-10
#[tokio::test]
async fn an_edit_after_the_end_retags_the_statistics_and_the_export() {
    let h = Harness::start().await;
    let org = new_org();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let (late_edit, early_edit) = (Uuid::now_v7(), Uuid::now_v7());

    // The end first, counted under its original tag; then the edit.
    let e = ended(
        late_edit,
        &["billing"],
        &["a1"],
        times(100),
        ConversationStatus::Ended,
        false,
    );
    h.publish("conversations", org, &late_edit.to_string(), &e)
        .await;
    eventually(20, "the end counted under billing", || async {
        let rows = h.stats(&sup, GroupBy::Tag).await.ok()?;
        rows.iter()
            .any(|r| r.key == "billing" && r.count == 1)
            .then_some(())
    })
    .await
    .unwrap();
    h.publish(
        "conversations",
        org,
        &late_edit.to_string(),
        &edit(late_edit, &["after-sales"], "refund"),
    )
    .await;

    // The edit arrives before the end it edits (redelivery, reordering):
    // the older qualification carried by the end must not undo it.
    h.publish(
        "conversations",
        org,
        &early_edit.to_string(),
        &edit(early_edit, &["after-sales"], "refund"),
    )
    .await;
    let e = ended(
        early_edit,
        &["billing"],
        &["a1"],
        times(200),
        ConversationStatus::Ended,
        false,
    );
    h.publish("conversations", org, &early_edit.to_string(), &e)
        .await;

    let by_tag = eventually(20, "both counted under after-sales", || async {
        let rows = h.stats(&sup, GroupBy::Tag).await.ok()?;
        rows.iter()
            .any(|r| r.key == "after-sales" && r.count == 2)
            .then_some(rows)
    })
    .await
    .unwrap();
    assert!(
        by_tag.iter().all(|r| r.key != "billing"),
        "the old tag is gone: {by_tag:?}"
    );
    let by_reason = h.stats(&sup, GroupBy::Reason).await.unwrap();
    assert_eq!(
        by_reason
            .iter()
            .find(|r| r.key == "refund")
            .map(|r| r.count),
        Some(2),
        "{by_reason:?}"
    );
    // A paused-only or edited-only conversation is not a fact: the count
    // stays at the two that ended.
    let all = h.stats(&sup, GroupBy::Unspecified).await.unwrap();
    assert_eq!(all[0].count, 2);

    let csv = h
        .export(&sup, ExportKind::Conversations, false, false)
        .await
        .unwrap();
    let (header, rows) = parse_csv(&csv, false);
    for id in [late_edit, early_edit] {
        let row = rows
            .iter()
            .find(|r| col(&header, r, "conversation_id") == id.to_string())
            .expect("exported row");
        assert_eq!(col(&header, row, "tags"), "after-sales", "{row:?}");
        assert_eq!(col(&header, row, "reason"), "refund", "{row:?}");
    }
}
