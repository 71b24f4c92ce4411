//! The read model is rebuildable from the event streams (RPT-1), and a
//! large export streams in bounded chunks (RPT-4, measured, not asserted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, Times, ended};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1::ConversationStatus;
use livedesk_proto::reporting::v1::{ExportKind, GroupBy};
use livedesk_testkit::{eventually, new_org, spawn};
use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

// spec: RPT-1
#[tokio::test]
async fn raising_the_generation_rebuilds_the_read_model_from_the_streams() {
    let h = Harness::start().await;
    let org = new_org();
    for i in 0..3 {
        let id = Uuid::now_v7();
        let e = ended(
            id,
            &["rebuild"],
            &["a1"],
            Times {
                queued: 0,
                assigned: Some(10),
                first_response: None,
                ended: 100 + i,
            },
            ConversationStatus::Ended,
            false,
        );
        h.publish("conversations", org, &id.to_string(), &e).await;
    }
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let count = || async {
        h.stats(&sup, GroupBy::Unspecified)
            .await
            .ok()
            .and_then(|r| r.first().map(|r| r.count))
    };
    eventually(20, "three conversations counted", || async {
        (count().await == Some(3)).then_some(())
    })
    .await
    .unwrap();

    // Lose the read model (as after a bug), then restart with generation 2.
    let Harness { env, svc, .. } = h;
    svc.stop().await.unwrap();
    let db = Database::connect(env.database_url("reporting"))
        .await
        .unwrap();
    db.execute_unprepared("DELETE FROM conversation_facts")
        .await
        .unwrap();
    db.close().await.unwrap();
    let svc = spawn::<livedesk_reporting::App>(&env.service_env(
        "reporting",
        &[(
            "LIVEDESK_REPORTING__READ_MODEL_GENERATION".into(),
            "2".into(),
        )],
    ))
    .await
    .unwrap();
    let h = Harness {
        js: async_nats::jetstream::new(env.nats().await.unwrap()),
        subjects: livedesk_events::Subjects::new(env.prefix.clone()),
        env,
        svc,
    };
    let count = || async {
        h.stats(&sup, GroupBy::Unspecified)
            .await
            .ok()
            .and_then(|r| r.first().map(|r| r.count))
    };
    eventually(20, "the replay restores three conversations", || async {
        (count().await == Some(3)).then_some(())
    })
    .await
    .unwrap();

    // Going back a generation is refused at start.
    let err = spawn::<livedesk_reporting::App>(&h.env.service_env(
        "reporting",
        &[(
            "LIVEDESK_REPORTING__READ_MODEL_GENERATION".into(),
            "1".into(),
        )],
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("generation"), "{err}");
}

/// Exports 200 000 conversations and prints the throughput and the largest
/// chunk. Run with `--run-ignored all`; timing is measured, never asserted.
// spec: RPT-4
#[tokio::test]
#[ignore = "measurement"]
async fn large_export_streams_in_bounded_chunks() {
    use futures::StreamExt;
    let h = Harness::start().await;
    let org = new_org();
    let rows = 200_000;
    let db = Database::connect(h.env.database_url("reporting"))
        .await
        .unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO conversation_facts (org_id, conversation_id, queue_id, channel, agent_ids, tags, reason, status, ended_by, \
             queued_at, assigned_at, ended_at, message_count, wait_seconds, handle_seconds) \
         SELECT '{org}', gen_random_uuid(), 'sales', 'web_chat', ARRAY['agent-' || (i % 50)], ARRAY['tag-' || (i % 7), '=x'], 'order', 'ended', 'agent', \
                timestamptz '2026-01-01 10:00Z' + i * interval '1 second', timestamptz '2026-01-01 10:00:10Z' + i * interval '1 second', \
                timestamptz '2026-01-01 10:05Z' + i * interval '1 second', 12, 10, 290 \
         FROM generate_series(1, {rows}) AS i"
    ))
    .await
    .unwrap();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let req = livedesk_proto::reporting::v1::ExportCsvRequest {
        kind: ExportKind::Conversations as i32,
        range: None,
        semicolon: false,
        bom: false,
    };
    let started = std::time::Instant::now();
    let mut stream = h
        .client()
        .await
        .export_csv(livedesk_testkit::authed(&sup, req))
        .await
        .unwrap()
        .into_inner();
    let (mut bytes, mut chunks, mut largest, mut lines) = (0usize, 0usize, 0usize, 0usize);
    while let Some(chunk) = stream.next().await {
        let data = chunk.unwrap().data;
        bytes += data.len();
        largest = largest.max(data.len());
        lines += data.iter().filter(|b| **b == b'\n').count();
        chunks += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(lines, rows + 1);
    println!(
        "export: {rows} rows, {:.1} MiB in {chunks} chunks (largest {largest} B) in {secs:.2} s = {:.0} rows/s, {:.1} MiB/s",
        bytes as f64 / 1_048_576.0,
        rows as f64 / secs,
        bytes as f64 / 1_048_576.0 / secs
    );
}
