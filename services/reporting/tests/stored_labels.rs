//! Enums in the read model are text labels (storage rule, issue 9) and
//! fail closed: the tables refuse an unknown label, an event carrying an
//! unknown enum number is dead-lettered rather than stored as a default,
//! and a label the service does not know, read back, fails the RPC with
//! INTERNAL instead of an empty cell.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, Times, ended};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1::ConversationStatus;
use livedesk_proto::events::v1::DeadLetter;
use livedesk_proto::reporting::v1::{ExportKind, GroupBy};
use livedesk_testkit::{eventually, new_org};
use prost::Message;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

async fn db(h: &Harness) -> DatabaseConnection {
    Database::connect(h.env.database_url("reporting"))
        .await
        .unwrap()
}

fn times() -> Times {
    Times {
        queued: 0,
        assigned: Some(10),
        first_response: Some(20),
        ended: 110,
    }
}

/// An ended conversation of `org`, inside the test range, with `channel`.
fn insert_fact(org: Uuid, channel: &str) -> String {
    format!(
        "INSERT INTO conversation_facts (org_id, conversation_id, channel, status, ended_by, ended_at) \
         VALUES ('{org}', gen_random_uuid(), '{channel}', 'ended', 'agent', timestamptz '2026-01-01 10:05Z')"
    )
}

#[tokio::test]
async fn the_tables_refuse_a_label_no_enum_has() {
    let h = Harness::start().await;
    let db = db(&h).await;
    let org = new_org();
    db.execute_unprepared(&insert_fact(org, "web_chat"))
        .await
        .unwrap();
    for sql in [
        insert_fact(org, "carrier_pigeon"),
        // The wire number is not a label either.
        insert_fact(org, "1"),
        format!(
            "INSERT INTO blocks (org_id, block_id, channel) VALUES ('{org}', gen_random_uuid(), 'WEB_CHAT')"
        ),
        format!(
            "INSERT INTO form_submissions (org_id, submission_id, form_id, kind, submitted_at) \
             VALUES ('{org}', gen_random_uuid(), 'f', 'postcard', now())"
        ),
        format!(
            "INSERT INTO agent_state_changes (event_id, org_id, agent_id, from_state, to_state, at) \
             VALUES (gen_random_uuid(), '{org}', 'a1', 'offline', 'napping', now())"
        ),
    ] {
        let err = db.execute_unprepared(&sql).await.unwrap_err();
        assert_eq!(
            livedesk_platform::db::sqlstate(&err).as_deref(),
            Some("23514"),
            "{sql}: {err}"
        );
    }
}

#[tokio::test]
async fn an_unknown_stored_label_fails_the_export_and_the_statistics() {
    let h = Harness::start().await;
    let db = db(&h).await;
    let org = new_org();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    db.execute_unprepared(&insert_fact(org, "web_chat"))
        .await
        .unwrap();
    // Readable as long as every label is known.
    assert_eq!(
        h.stats(&sup, GroupBy::Channel).await.unwrap()[0].key,
        "CHANNEL_WEB_CHAT"
    );
    h.export(&sup, ExportKind::Conversations, false, false)
        .await
        .unwrap();
    // A label the CHECK would refuse, as a later release or a hand edit
    // could leave behind.
    db.execute_unprepared(
        "ALTER TABLE conversation_facts DROP CONSTRAINT conversation_facts_channel_label",
    )
    .await
    .unwrap();
    db.execute_unprepared(&insert_fact(org, "carrier_pigeon"))
        .await
        .unwrap();
    let export = h
        .export(&sup, ExportKind::Conversations, false, false)
        .await
        .unwrap_err();
    assert_eq!(export.code(), tonic::Code::Internal, "{export:?}");
    assert!(!export.message().contains("carrier_pigeon"));
    let stats = h.stats(&sup, GroupBy::Channel).await.unwrap_err();
    assert_eq!(stats.code(), tonic::Code::Internal, "{stats:?}");
}

#[tokio::test]
async fn an_event_with_an_unknown_enum_number_is_dead_lettered_not_stored() {
    let h = Harness::start().await;
    let org = new_org();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let (bad, good) = (Uuid::now_v7(), Uuid::now_v7());
    let mut unknown = ended(bad, &[], &["a1"], times(), ConversationStatus::Ended, false);
    unknown.channel = 99;
    h.publish("conversations", org, &bad.to_string(), &unknown)
        .await;
    // The positive marker: the dead letter of the bad event.
    let dlq = h.js.get_stream(h.subjects.dlq_stream_name()).await.unwrap();
    let subject = h.subjects.dlq("reporting-from-conversations");
    let letter = eventually(20, "the event dead-lettered", || async {
        let msg = dlq.get_last_raw_message_by_subject(&subject).await.ok()?;
        DeadLetter::decode(msg.payload).ok()
    })
    .await
    .unwrap();
    assert!(letter.error.contains("channel"), "{}", letter.error);
    assert!(letter.error.contains("99"), "{}", letter.error);
    // The consumer goes on, and the bad conversation never counts.
    h.publish(
        "conversations",
        org,
        &good.to_string(),
        &ended(
            good,
            &[],
            &["a1"],
            times(),
            ConversationStatus::Ended,
            false,
        ),
    )
    .await;
    let rows = eventually(20, "the good conversation counted", || async {
        let rows = h.stats(&sup, GroupBy::Channel).await.ok()?;
        (!rows.is_empty()).then_some(rows)
    })
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key, "CHANNEL_WEB_CHAT");
    assert_eq!(rows[0].count, 1);
}
