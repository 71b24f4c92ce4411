//! The storage rule for enums (ARCHITECTURE.md): routing's enum columns
//! hold names, the tables refuse a name they do not list, and a stored name
//! the code does not know fails the read with INTERNAL instead of being
//! read as a default.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, new_org};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<u64, sea_orm::DbErr> {
    db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .map(|r| r.rows_affected())
}

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "v")
        .unwrap()
}

#[tokio::test]
async fn enums_are_stored_by_name_checked_and_read_strictly() {
    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    available(&env, &mut c, org, "ada").await;
    let q = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Strict".into(),
            strategy: pb::RoutingStrategy::RoundRobin as i32,
            transfer_failure_policy: pb::TransferFailurePolicy::Abandon as i32,
            ..Default::default()
        },
    )
    .await;
    let db = Database::connect(env.database_url("routing"))
        .await
        .unwrap();
    let row = format!("id = '{}'", q.id);
    assert_eq!(
        text(
            &db,
            &format!(
                "SELECT strategy || '/' || transfer_failure_policy AS v FROM queues WHERE {row}"
            )
        )
        .await,
        "round_robin/abandon"
    );
    assert_eq!(
        text(&db, "SELECT state AS v FROM agents WHERE id = 'ada'").await,
        "available"
    );

    // The tables refuse a name they do not list.
    for bad in [
        format!("UPDATE queues SET strategy = 'fastest' WHERE {row}"),
        format!("UPDATE queues SET transfer_failure_policy = '2' WHERE {row}"),
        "UPDATE agents SET state = 'busy' WHERE id = 'ada'".to_owned(),
        "UPDATE agents SET next_state = 'busy' WHERE id = 'ada'".to_owned(),
        "INSERT INTO offers (id, org_id, conversation_id, agent_id, queue_id, expires_at, kind) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'ada', gen_random_uuid(), now(), 'steal')"
            .to_owned(),
        // The lifecycle columns (migration 0008) list what the engine writes.
        "INSERT INTO offers (id, org_id, conversation_id, agent_id, queue_id, expires_at, status) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'ada', gen_random_uuid(), now(), 'open')"
            .to_owned(),
        "INSERT INTO queue_entries (conversation_id, org_id, queue_id, enqueued_at, created_at, status) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), now(), now(), 'waiting')"
            .to_owned(),
        "INSERT INTO queue_entries (conversation_id, org_id, queue_id, enqueued_at, created_at, channel) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), now(), now(), 9)"
            .to_owned(),
        "INSERT INTO legs (id, org_id, conversation_id, agent_id, queue_id, status) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'ada', gen_random_uuid(), 'finished')"
            .to_owned(),
        "INSERT INTO legs (id, org_id, conversation_id, agent_id, queue_id, role) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'ada', gen_random_uuid(), 'observer')"
            .to_owned(),
    ] {
        let e = exec(&db, &bad).await.unwrap_err();
        assert_eq!(
            livedesk_platform::db::sqlstate(&e).as_deref(),
            Some("23514"),
            "{bad}: {e}"
        );
    }

    // A name the code does not know (the constraint dropped, as a bad
    // migration or a manual fix could) fails the read: INTERNAL, not the
    // default strategy.
    exec(
        &db,
        "ALTER TABLE queues DROP CONSTRAINT queues_strategy_known",
    )
    .await
    .unwrap();
    exec(
        &db,
        &format!("UPDATE queues SET strategy = 'fastest' WHERE {row}"),
    )
    .await
    .unwrap();
    let err = c
        .get_queue(req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::GetQueueRequest { id: q.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal);
    assert_eq!(err.message(), "internal error");

    exec(&db, "ALTER TABLE agents DROP CONSTRAINT agents_state_known")
        .await
        .unwrap();
    exec(&db, "UPDATE agents SET state = 'busy' WHERE id = 'ada'")
        .await
        .unwrap();
    let err = c
        .get_agent(req(
            &env,
            org,
            "boss",
            Role::Supervisor,
            pb::GetAgentRequest { id: "ada".into() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal);
}

/// A conversation on a channel this version does not know is refused
/// (dead-lettered with the field named), never counted against web chat;
/// the consumer goes on with the next event.
#[tokio::test]
async fn a_conversation_on_an_unknown_channel_is_dead_lettered_not_routed() {
    use livedesk_events::Subjects;
    use livedesk_proto::events::v1::DeadLetter;
    use prost::Message;

    let env = TestEnv::new().await.unwrap();
    let svc = start(&env).await;
    let mut c = client(&svc).await;
    let org = new_org();
    let q = create_queue(
        &env,
        &mut c,
        org,
        pb::Queue {
            name: "Q".into(),
            ..Default::default()
        },
    )
    .await;
    let (bad, good) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let mut unknown = queued_event(bad, &q.id, "cust-bad");
    unknown.channel = 9;
    publish(&env, org, bad, &unknown).await;

    let js = async_nats::jetstream::new(env.nats().await.unwrap());
    let subjects = Subjects::new(env.prefix.clone());
    let dlq = js.get_stream(subjects.dlq_stream_name()).await.unwrap();
    let subject = subjects.dlq("routing-from-conversations");
    let letter = livedesk_testkit::eventually(20, "the event dead-lettered", || async {
        let msg = dlq.get_last_raw_message_by_subject(&subject).await.ok()?;
        DeadLetter::decode(msg.payload).ok()
    })
    .await
    .unwrap();
    assert!(
        letter.error.contains("ConversationQueued.channel") && letter.error.contains('9'),
        "{}",
        letter.error
    );
    // Refused by the consumer at once, not by the table's CHECK after
    // every redelivery.
    assert_eq!(letter.deliveries, 1);

    // The next conversation is enqueued; the refused one never was.
    publish(&env, org, good, &queued_event(good, &q.id, "cust-good")).await;
    let db = Database::connect(env.database_url("routing"))
        .await
        .unwrap();
    livedesk_testkit::eventually(20, "the good conversation queued", || async {
        let n = livedesk_testkit::count(
            &db,
            "SELECT count(*) FROM queue_entries WHERE conversation_id = $1",
            [good.into()],
        )
        .await
        .ok()?;
        (n == 1).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(
        livedesk_testkit::count(
            &db,
            "SELECT count(*) FROM queue_entries WHERE conversation_id = $1",
            [bad.into()],
        )
        .await
        .unwrap(),
        0
    );
}
