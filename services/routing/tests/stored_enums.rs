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
