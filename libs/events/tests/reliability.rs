//! Reliability of the event machinery on a real PostgreSQL and a real
//! JetStream (EVT-2, EVT-3): outage, duplicates, poison events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use livedesk_events::consumer::{self, ConsumerConfig, ConsumerContext};
use livedesk_events::{
    EventHandler, HandlerError, Outbox, ReceivedEvent, Staged, Subjects, ensure_streams,
    events_migration,
};
use livedesk_proto::blocking::v1::{Block, CustomerBlocked};
use livedesk_proto::events::v1::DeadLetter;
use livedesk_testkit::{PrivateNats, TestEnv, eventually};
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

struct Migrator;
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(events_migration()),
            Box::new(livedesk_platform::db::SqlMigration::new(
                "m0001_effects",
                "CREATE TABLE effects (event_id uuid NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());",
            )),
        ]
    }
}

async fn database(env: &TestEnv, name: &str) -> DatabaseConnection {
    let db = livedesk_platform::db::connect(&env.database_url(name))
        .await
        .unwrap();
    livedesk_platform::db::migrate::<Migrator>(&db)
        .await
        .unwrap();
    db
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    livedesk_testkit::count(db, sql, []).await.unwrap()
}

fn blocked_event(reason: &str) -> CustomerBlocked {
    CustomerBlocked {
        block: Some(Block {
            id: Uuid::now_v7().to_string(),
            reason: reason.into(),
            ..Default::default()
        }),
    }
}

/// Records one `effects` row per applied event: a duplicate would show.
struct Recorder;
impl EventHandler for Recorder {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        txn.execute_raw(livedesk_platform::db::stmt(
            "INSERT INTO effects (event_id) VALUES ($1)",
            [event.event_id.into()],
        ))
        .await?;
        Ok(vec![])
    }
}

/// Always fails, as a handler facing a poison event would.
struct AlwaysFails;
impl EventHandler for AlwaysFails {
    async fn handle(
        &self,
        _txn: &DatabaseTransaction,
        _event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        Err(HandlerError::transient("the database says no"))
    }
}

// spec: EVT-2
#[tokio::test]
async fn an_event_committed_while_nats_is_down_is_delivered_when_it_returns() {
    let env = TestEnv::new().await.unwrap();
    let mut nats = PrivateNats::start().await.unwrap();
    let db = database(&env, "outbox").await;
    let client = livedesk_platform::nats::connect(&nats.url(), "test")
        .await
        .unwrap();
    let js = jetstream::new(client.clone());
    let subjects = Subjects::new(env.prefix.clone());
    ensure_streams(&js, &subjects, &["test"]).await.unwrap();
    let outbox = Outbox::new(db.clone(), js.clone(), subjects.clone(), "test");

    nats.stop().await.unwrap();
    let org = Uuid::now_v7();
    let txn = db.begin().await.unwrap();
    let staged = outbox
        .stage(&txn, org, "block-1", &blocked_event("outage"))
        .await
        .unwrap();
    let event_id = staged.event_id;
    txn.commit().await.unwrap();
    outbox.publish(vec![staged]).await; // fails quietly: the row stays
    assert_eq!(
        count(&db, "SELECT count(*) FROM event_outbox").await,
        1,
        "kept while the broker is away"
    );

    nats.resume().await.unwrap();
    let token = CancellationToken::new();
    let relay = tokio::spawn(outbox.clone().run_relay(token.clone()));
    eventually(30, "the relay to drain the outbox", || {
        let db = db.clone();
        async move { (count(&db, "SELECT count(*) FROM event_outbox").await == 0).then_some(()) }
    })
    .await
    .unwrap();
    token.cancel();
    relay.await.unwrap();

    let stream = js.get_stream(subjects.stream_name("test")).await.unwrap();
    let msg = stream
        .get_last_raw_message_by_subject(
            &subjects.event("test", "livedesk.blocking.v1.CustomerBlocked"),
        )
        .await
        .unwrap();
    let received = ReceivedEvent::decode("x", &msg.payload).unwrap();
    assert_eq!(received.event_id, event_id);
    assert_eq!(received.org_id, org);
    assert_eq!(
        msg.headers.get("Nats-Msg-Id").map(|v| v.to_string()),
        Some(event_id.to_string())
    );
    assert_eq!(
        received
            .payload::<CustomerBlocked>()
            .unwrap()
            .unwrap()
            .block
            .unwrap()
            .reason,
        "outage"
    );
}

// spec: EVT-2
#[tokio::test]
async fn publishing_the_same_outbox_row_twice_stores_it_once() {
    let env = TestEnv::new().await.unwrap();
    let db = database(&env, "dedup").await;
    let client = async_nats::connect(&env.nats_url).await.unwrap();
    let js = jetstream::new(client);
    let subjects = Subjects::new(env.prefix.clone());
    ensure_streams(&js, &subjects, &["test"]).await.unwrap();
    let outbox = Outbox::new(db.clone(), js.clone(), subjects.clone(), "test");
    let txn = db.begin().await.unwrap();
    let staged = outbox
        .stage(&txn, Uuid::now_v7(), "b", &blocked_event("twice"))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    // A crash after publish but before the row was deleted: both the
    // immediate publisher and the relay send it.
    outbox.publish(vec![staged.clone()]).await;
    outbox.publish(vec![staged]).await;
    let mut stream = js.get_stream(subjects.stream_name("test")).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
}

// spec: EVT-3
#[tokio::test]
async fn a_redelivered_event_changes_nothing_twice() {
    let env = TestEnv::new().await.unwrap();
    let db = database(&env, "idem").await;
    let client = async_nats::connect(&env.nats_url).await.unwrap();
    let js = jetstream::new(client);
    let subjects = Subjects::new(env.prefix.clone());
    ensure_streams(&js, &subjects, &["test"]).await.unwrap();

    // The same envelope twice with different broker ids, so JetStream keeps
    // both copies (as after its de-duplication window): only the consumer's
    // idempotency stands between the event and a double effect.
    let outbox = Outbox::new(db.clone(), js.clone(), subjects.clone(), "test");
    let txn = db.begin().await.unwrap();
    let staged = outbox
        .stage(&txn, Uuid::now_v7(), "b", &blocked_event("dup"))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    for _ in 0..2 {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", Uuid::now_v7().to_string().as_str());
        js.publish_with_headers(staged.subject.clone(), headers, staged.envelope.clone())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let token = CancellationToken::new();
    let ctx = ConsumerContext {
        db: db.clone(),
        js: js.clone(),
        subjects: subjects.clone(),
        outbox: None,
    };
    let task = tokio::spawn(consumer::run(
        ctx,
        Arc::new(Recorder),
        ConsumerConfig::new("svc", "test"),
        token.clone(),
    ));
    let name = subjects.consumer_name("svc", "test");
    eventually(20, "both copies to be acknowledged", || {
        let js = js.clone();
        let (stream, name) = (subjects.stream_name("test"), name.clone());
        async move {
            let mut c: jetstream::consumer::PullConsumer =
                js.get_consumer_from_stream(&name, &stream).await.ok()?;
            let info = c.info().await.ok()?;
            (info.num_pending == 0
                && info.num_ack_pending == 0
                && info.delivered.stream_sequence == 2)
                .then_some(())
        }
    })
    .await
    .unwrap();
    token.cancel();
    task.await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM effects").await, 1);
}

// spec: EVT-3
#[tokio::test]
async fn a_poison_event_is_dead_lettered_with_its_error_after_n_deliveries() {
    let env = TestEnv::new().await.unwrap();
    let db = database(&env, "dlq").await;
    let client = async_nats::connect(&env.nats_url).await.unwrap();
    let js = jetstream::new(client);
    let subjects = Subjects::new(env.prefix.clone());
    let org = Uuid::now_v7();
    let event_id =
        livedesk_events::publish_direct(&js, &subjects, "test", org, "b", &blocked_event("poison"))
            .await
            .unwrap();

    let token = CancellationToken::new();
    let ctx = ConsumerContext {
        db: db.clone(),
        js: js.clone(),
        subjects: subjects.clone(),
        outbox: None,
    };
    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.max_deliveries = 3;
    let task = tokio::spawn(consumer::run(
        ctx,
        Arc::new(AlwaysFails),
        cfg,
        token.clone(),
    ));

    let dlq = js.get_stream(subjects.dlq_stream_name()).await.unwrap();
    let reader = dlq
        .create_consumer(jetstream::consumer::pull::Config {
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = reader.messages().await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(30), messages.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let letter = DeadLetter::decode(msg.payload.as_ref()).unwrap();
    token.cancel();
    task.await.unwrap();
    assert_eq!(letter.deliveries, 3);
    assert!(letter.error.contains("the database says no"));
    assert_eq!(letter.envelope.unwrap().event_id, event_id.to_string());
    assert_eq!(letter.consumer, subjects.consumer_name("svc", "test"));
    assert_eq!(
        count(&db, "SELECT count(*) FROM processed_events").await,
        0,
        "failed attempts leave no trace"
    );
}
