//! Reliability of the event machinery on a real PostgreSQL and a real
//! JetStream (EVT-2, EVT-3): outage, duplicates, poison events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use livedesk_events::consumer::{self, ConsumerConfig, ConsumerContext};
use livedesk_events::{
    EventHandler, HandlerError, Outbox, ReceivedEvent, Staged, Subjects, ensure_streams,
    events_migrations,
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
        let mut all = events_migrations();
        all.push(Box::new(livedesk_platform::db::SqlMigration::new(
            "m0001_effects",
            "CREATE TABLE effects (n bigserial PRIMARY KEY, event_id uuid NOT NULL, \
             applied_at timestamptz NOT NULL DEFAULT now());",
        )));
        all
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

/// A test's database `name` (migrated) and the shared NATS server, with
/// this test's subject prefix.
async fn on_shared_nats(name: &str) -> (TestEnv, DatabaseConnection, jetstream::Context, Subjects) {
    let env = TestEnv::new().await.unwrap();
    let db = database(&env, name).await;
    let client = async_nats::connect(&env.nats_url).await.unwrap();
    let subjects = Subjects::new(env.prefix.clone());
    (env, db, jetstream::new(client), subjects)
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    livedesk_testkit::count(db, sql, []).await.unwrap()
}

/// Waits (up to `secs`) until `sql` counts `n`.
async fn wait_count(db: &DatabaseConnection, sql: &str, n: i64, secs: u64, what: &str) {
    eventually(secs, what, || {
        let db = db.clone();
        async move { (count(&db, sql).await == n).then_some(()) }
    })
    .await
    .unwrap();
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

/// Runs a consumer of the `test` stream as service `svc` with `handler`
/// until the returned token is cancelled.
fn start_consumer<H: EventHandler>(
    db: &DatabaseConnection,
    js: &jetstream::Context,
    subjects: &Subjects,
    handler: H,
    cfg: ConsumerConfig,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let token = CancellationToken::new();
    let ctx = ConsumerContext {
        db: db.clone(),
        js: js.clone(),
        subjects: subjects.clone(),
        outbox: None,
    };
    let task = tokio::spawn(consumer::run(ctx, Arc::new(handler), cfg, token.clone()));
    (token, task)
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
    wait_count(
        &db,
        "SELECT count(*) FROM event_outbox",
        0,
        30,
        "the relay to drain the outbox",
    )
    .await;
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
    let (_env, db, js, subjects) = on_shared_nats("dedup").await;
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
    let (_env, db, js, subjects) = on_shared_nats("idem").await;
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
        publish_copy(&js, &staged).await;
    }
    let (token, task) = start_consumer(
        &db,
        &js,
        &subjects,
        Recorder,
        ConsumerConfig::new("svc", "test"),
    );
    // Both copies acknowledged.
    wait_all_acked(&js, &subjects, 2).await;
    token.cancel();
    task.await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM effects").await, 1);
}

// spec: EVT-3
#[tokio::test]
async fn a_poison_event_is_dead_lettered_with_its_error_after_n_deliveries() {
    let (_env, db, js, subjects) = on_shared_nats("dlq").await;
    let org = Uuid::now_v7();
    let event_id =
        livedesk_events::publish_direct(&js, &subjects, "test", org, "b", &blocked_event("poison"))
            .await
            .unwrap();

    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.max_deliveries = 3;
    let (token, task) = start_consumer(&db, &js, &subjects, AlwaysFails, cfg);

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

/// Fails the first attempt at `fail`, then records like [`Recorder`].
struct FailsOnceOn {
    fail: Uuid,
    failed: std::sync::atomic::AtomicBool,
}
impl EventHandler for FailsOnceOn {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if event.event_id == self.fail
            && !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(HandlerError::transient("the database is busy, once"));
        }
        Recorder.handle(txn, event).await
    }
}

// spec: EVT-3
/// A transient failure is retried in the event's lane: the aggregate's
/// next event waits for it instead of overtaking it (a delayed NAK let the
/// lane apply the second event first).
#[tokio::test]
async fn a_retried_event_is_not_overtaken_by_its_aggregates_next_event() {
    let (_env, db, js, subjects) = on_shared_nats("order").await;
    let org = Uuid::now_v7();
    let first =
        livedesk_events::publish_direct(&js, &subjects, "test", org, "b", &blocked_event("1"))
            .await
            .unwrap();
    let second =
        livedesk_events::publish_direct(&js, &subjects, "test", org, "b", &blocked_event("2"))
            .await
            .unwrap();

    let handler = FailsOnceOn {
        fail: first,
        failed: std::sync::atomic::AtomicBool::new(false),
    };
    let (token, task) = start_consumer(
        &db,
        &js,
        &subjects,
        handler,
        ConsumerConfig::new("svc", "test"),
    );
    wait_count(
        &db,
        "SELECT count(*) FROM effects",
        2,
        20,
        "both events applied",
    )
    .await;
    token.cancel();
    task.await.unwrap();
    let order: Vec<Uuid> = db
        .query_all_raw(livedesk_platform::db::stmt(
            "SELECT event_id FROM effects ORDER BY n",
            [],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<Uuid>("", "event_id").unwrap())
        .collect();
    assert_eq!(order, vec![first, second]);
}

// spec: EVT-2
/// The relay claims its batch in one statement and publishes with no
/// transaction open: while a publish waits on an absent broker, its
/// connection is never "idle in transaction" holding the rows' locks.
#[tokio::test]
async fn the_relay_holds_no_transaction_while_it_waits_on_the_broker() {
    let env = TestEnv::new().await.unwrap();
    let mut nats = PrivateNats::start().await.unwrap();
    let db = database(&env, "relay_claims").await;
    let client = livedesk_platform::nats::connect(&nats.url(), "test")
        .await
        .unwrap();
    let js = jetstream::new(client);
    let subjects = Subjects::new(env.prefix.clone());
    ensure_streams(&js, &subjects, &["test"]).await.unwrap();
    let outbox = Outbox::new(db.clone(), js.clone(), subjects.clone(), "test");
    let txn = db.begin().await.unwrap();
    let staged = outbox
        .stage(&txn, Uuid::now_v7(), "b", &blocked_event("claimed"))
        .await
        .unwrap();
    txn.commit().await.unwrap();

    nats.stop().await.unwrap();
    let relay = {
        let outbox = outbox.clone();
        tokio::spawn(async move { outbox.relay_once(0).await })
    };
    // Watch the database for as long as the relay runs (each publish
    // waits up to its 3 s acknowledgement timeout).
    let name = env.database_url("relay_claims");
    let name = name.rsplit('/').next().unwrap().to_owned();
    let mut in_transaction = 0;
    let mut watched = 0;
    while !relay.is_finished() {
        in_transaction += count(
            &db,
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' \
                 AND state = 'idle in transaction'"
            ),
        )
        .await;
        watched += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(relay.await.unwrap().is_err(), "the broker was away");
    assert!(watched > 10, "watched the relay {watched} times");
    assert_eq!(in_transaction, 0, "a connection sat idle in a transaction");
    // The failed row is released at once, its attempt recorded, and it is
    // published when the broker returns.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM event_outbox WHERE claimed_until IS NULL AND attempts = 1"
        )
        .await,
        1
    );
    nats.resume().await.unwrap();
    eventually(30, "the row relayed", || {
        let outbox = outbox.clone();
        async move { (outbox.relay_once(0).await.ok()? == 1).then_some(()) }
    })
    .await
    .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM event_outbox").await, 0);
    let _ = staged;
}

/// Streams are created with the configured replicas; more replicas than
/// the NATS cluster has nodes is refused by NATS, naming the stream, so a
/// service so configured does not start (never a stream with fewer).
#[tokio::test]
async fn streams_take_the_configured_replicas_and_too_many_are_refused() {
    let env = TestEnv::new().await.unwrap();
    let client = async_nats::connect(&env.nats_url).await.unwrap();
    let js = jetstream::new(client);
    let one = Subjects::new(env.prefix.clone());
    assert_eq!(one.stream_replicas(), 1);
    ensure_streams(&js, &one, &["test"]).await.unwrap();
    let mut stream = js.get_stream(one.stream_name("test")).await.unwrap();
    assert_eq!(stream.info().await.unwrap().config.num_replicas, 1);

    let three = Subjects::new(format!("{}r3", env.prefix)).with_stream_replicas(3);
    let err = ensure_streams(&js, &three, &["test"]).await.unwrap_err();
    assert!(
        err.to_string().contains(&three.stream_name("test")),
        "{err}"
    );
}

// spec: EVT-2
/// With three replicas (`LIVEDESK_NATS_STREAM_REPLICAS=3` on a 3-node
/// cluster), every event JetStream acknowledged survives its stream
/// leader being killed (SIGKILL) mid-flow, publishing goes on with the two
/// nodes left, and the killed node catches up when it returns.
#[tokio::test]
async fn acknowledged_events_survive_a_killed_stream_leader_with_three_replicas() {
    let env = TestEnv::new().await.unwrap();
    let mut cluster = livedesk_testkit::PrivateNatsCluster::start(3)
        .await
        .unwrap();
    let client = async_nats::connect(cluster.urls()).await.unwrap();
    let js = jetstream::new(client);
    let subjects = Subjects::new(env.prefix.clone()).with_stream_replicas(3);
    ensure_streams(&js, &subjects, &["test"]).await.unwrap();
    let org = Uuid::now_v7();
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let id = livedesk_events::publish_direct(
            &js,
            &subjects,
            "test",
            org,
            &format!("agg-{}", i % 7),
            &blocked_event(&format!("before-{i}")),
        )
        .await
        .unwrap();
        acknowledged.push(id);
    }
    let mut stream = js.get_stream(subjects.stream_name("test")).await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.config.num_replicas, 3);
    let leader = info
        .cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .unwrap();
    let killed = cluster.index_of(&leader).unwrap();
    cluster.kill(killed).await.unwrap();

    // The two nodes left elect a new leader and keep acknowledging.
    for i in 0..50 {
        let id = eventually(30, "a publish acknowledged by the nodes left", || {
            let (js, subjects) = (js.clone(), subjects.clone());
            async move {
                livedesk_events::publish_direct(
                    &js,
                    &subjects,
                    "test",
                    org,
                    &format!("agg-{}", i % 7),
                    &blocked_event(&format!("after-{i}")),
                )
                .await
                .ok()
            }
        })
        .await
        .unwrap();
        acknowledged.push(id);
    }
    cluster.restart(killed).await.unwrap();

    // Every acknowledged event is in the stream once (the consumer's view).
    let stored = eventually(30, "every acknowledged event readable", || {
        let (js, stream) = (js.clone(), subjects.stream_name("test"));
        let want = acknowledged.len();
        async move {
            let s = js.get_stream(&stream).await.ok()?;
            let consumer = s
                .create_consumer(jetstream::consumer::pull::Config::default())
                .await
                .ok()?;
            let mut batch = consumer
                .fetch()
                .max_messages(want + 10)
                .messages()
                .await
                .ok()?;
            let mut ids = Vec::new();
            while let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_secs(2), batch.next()).await
            {
                ids.push(ReceivedEvent::decode("x", &m.payload).ok()?.event_id);
            }
            (ids.len() >= want).then_some(ids)
        }
    })
    .await
    .unwrap();
    let mut unique = stored.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), stored.len(), "duplicated events");
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged event {id} lost");
    }
    assert_eq!(stored.len(), acknowledged.len(), "unexpected events");
}

/// Fails its first `left` attempts as a handler whose database cannot be
/// reached would (the pool gives no connection), then records.
struct UnreachableFirst {
    left: std::sync::atomic::AtomicUsize,
}
impl EventHandler for UnreachableFirst {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.left.load(SeqCst) > 0 {
            self.left.fetch_sub(1, SeqCst);
            return Err(
                sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout).into(),
            );
        }
        Recorder.handle(txn, event).await
    }
}

// spec: EVT-3
/// A database that cannot be reached does not use up an event's attempts:
/// with a budget of one attempt, an event whose handler finds no database
/// three times waits for it and is applied, never dead-lettered (which
/// would lose it).
#[tokio::test]
async fn an_unreachable_database_is_waited_for_not_dead_lettered() {
    let (_env, db, js, subjects) = on_shared_nats("unavailable").await;
    let event_id = livedesk_events::publish_direct(
        &js,
        &subjects,
        "test",
        Uuid::now_v7(),
        "b",
        &blocked_event("while the database is away"),
    )
    .await
    .unwrap();
    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.max_deliveries = 1;
    let handler = UnreachableFirst {
        left: std::sync::atomic::AtomicUsize::new(3),
    };
    let (token, task) = start_consumer(&db, &js, &subjects, handler, cfg);
    wait_count(
        &db,
        "SELECT count(*) FROM effects",
        1,
        30,
        "the event applied once the database answers",
    )
    .await;
    token.cancel();
    task.await.unwrap();
    let dlq = js.get_stream(subjects.dlq_stream_name()).await.unwrap();
    let name = subjects.consumer_name("svc", "test");
    assert!(
        dlq.get_last_raw_message_by_subject(&subjects.dlq(&name))
            .await
            .is_err(),
        "dead-lettered"
    );
    assert_eq!(
        livedesk_testkit::count(
            &db,
            "SELECT count(*) FROM processed_events WHERE event_id = $1",
            [event_id.into()]
        )
        .await
        .unwrap(),
        1
    );
}

/// The order the recorder applied events in.
async fn applied_order(db: &DatabaseConnection) -> Vec<Uuid> {
    db.query_all_raw(livedesk_platform::db::stmt(
        "SELECT event_id FROM effects ORDER BY n",
        [],
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<Uuid>("", "event_id").unwrap())
    .collect()
}

/// Commits one event about `aggregate` through the outbox, unpublished.
async fn commit_event(db: &DatabaseConnection, outbox: &Outbox, aggregate: &str) -> Staged {
    let txn = db.begin().await.unwrap();
    let staged = outbox
        .stage(&txn, Uuid::now_v7(), aggregate, &blocked_event(aggregate))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    staged
}

fn sequence_of(staged: &Staged) -> u64 {
    livedesk_proto::events::v1::EventEnvelope::decode(staged.envelope.clone())
        .unwrap()
        .aggregate_sequence
}

/// The outbox of stream `test` on the shared NATS.
async fn test_outbox(
    db: &DatabaseConnection,
    js: &jetstream::Context,
    subjects: &Subjects,
) -> Outbox {
    ensure_streams(js, subjects, &["test"]).await.unwrap();
    Outbox::new(db.clone(), js.clone(), subjects.clone(), "test")
}

// spec: EVT-3
/// Each aggregate's events are numbered 1, 2, 3 … in the transactions that
/// commit them, with no gap for a transaction rolled back.
#[tokio::test]
async fn an_aggregates_events_are_numbered_without_gaps() {
    let (_env, db, js, subjects) = on_shared_nats("numbered").await;
    let outbox = test_outbox(&db, &js, &subjects).await;
    let a1 = commit_event(&db, &outbox, "a").await;
    let b1 = commit_event(&db, &outbox, "b").await;
    let txn = db.begin().await.unwrap();
    outbox
        .stage(&txn, Uuid::now_v7(), "a", &blocked_event("rolled back"))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let a2 = commit_event(&db, &outbox, "a").await;
    let a3 = commit_event(&db, &outbox, "a").await;
    assert_eq!(
        [&a1, &a2, &a3, &b1].map(sequence_of),
        [1, 2, 3, 1],
        "per-aggregate sequences"
    );
}

// spec: EVT-3
/// An event that reaches the stream before its aggregate's previous one
/// (that one's immediate publish failed and the relay sends it later) is
/// held until the previous one is applied; the lane goes on with other
/// aggregates meanwhile.
#[tokio::test]
async fn an_event_published_before_its_predecessor_waits_for_it() {
    let (_env, db, js, subjects) = on_shared_nats("early").await;
    let outbox = test_outbox(&db, &js, &subjects).await;
    let first = commit_event(&db, &outbox, "a").await;
    let second = commit_event(&db, &outbox, "a").await;
    let other = commit_event(&db, &outbox, "z").await;
    outbox.publish(vec![second.clone()]).await;
    outbox.publish(vec![other.clone()]).await;
    let mut cfg = ConsumerConfig::new("svc", "test");
    // One lane: `other` is handled after `second` was looked at.
    cfg.lanes = 1;
    let (token, task) = start_consumer(&db, &js, &subjects, Recorder, cfg);
    eventually(20, "the other aggregate's event applied", || {
        let db = db.clone();
        async move { (count(&db, "SELECT count(*) FROM effects").await >= 1).then_some(()) }
    })
    .await
    .unwrap();
    assert_eq!(
        applied_order(&db).await,
        vec![other.event_id],
        "the second event was applied before the first"
    );
    outbox.publish(vec![first.clone()]).await;
    wait_count(
        &db,
        "SELECT count(*) FROM effects",
        3,
        20,
        "both events of the aggregate applied",
    )
    .await;
    token.cancel();
    task.await.unwrap();
    assert_eq!(
        applied_order(&db).await,
        vec![other.event_id, first.event_id, second.event_id]
    );
}

/// The dead letter last published for consumer `svc` of `test`, if any.
async fn last_dead_letter(js: &jetstream::Context, subjects: &Subjects) -> Option<DeadLetter> {
    let dlq = js.get_stream(subjects.dlq_stream_name()).await.ok()?;
    let name = subjects.consumer_name("svc", "test");
    let raw = dlq
        .get_last_raw_message_by_subject(&subjects.dlq(&name))
        .await
        .ok()?;
    DeadLetter::decode(raw.payload).ok()
}

// spec: EVT-3
/// A predecessor that never comes does not hold its aggregate for ever:
/// after the gap wait the next event is applied over the gap, and should
/// the missing one arrive after all it is dead-lettered, not applied out
/// of order.
#[tokio::test]
async fn a_missing_predecessor_is_skipped_after_the_gap_wait_and_dead_lettered_if_it_comes() {
    let (_env, db, js, subjects) = on_shared_nats("gap").await;
    let outbox = test_outbox(&db, &js, &subjects).await;
    let first = commit_event(&db, &outbox, "a").await;
    let second = commit_event(&db, &outbox, "a").await;
    outbox.publish(vec![second.clone()]).await;
    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.gap_wait = Duration::from_secs(2);
    let (token, task) = start_consumer(&db, &js, &subjects, Recorder, cfg);
    wait_count(
        &db,
        "SELECT count(*) FROM effects",
        1,
        20,
        "the second event applied over the gap",
    )
    .await;
    outbox.publish(vec![first.clone()]).await;
    let letter = eventually(20, "the late first event dead-lettered", || {
        let (js, subjects) = (js.clone(), subjects.clone());
        async move { last_dead_letter(&js, &subjects).await }
    })
    .await
    .unwrap();
    token.cancel();
    task.await.unwrap();
    assert_eq!(
        letter.envelope.map(|e| e.event_id),
        Some(first.event_id.to_string())
    );
    assert!(letter.error.contains("over a gap"), "{}", letter.error);
    assert_eq!(applied_order(&db).await, vec![second.event_id]);
}

/// Fails permanently on `poison`, records the rest.
struct PoisonOn(Uuid);
impl EventHandler for PoisonOn {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if event.event_id == self.0 {
            return Err(HandlerError::permanent("malformed"));
        }
        Recorder.handle(txn, event).await
    }
}

// spec: EVT-3
/// A dead-lettered event is set aside: its aggregate's next event is
/// applied at once, not held for the gap wait.
#[tokio::test]
async fn a_dead_lettered_event_does_not_hold_its_successors() {
    let (_env, db, js, subjects) = on_shared_nats("poison_order").await;
    let outbox = test_outbox(&db, &js, &subjects).await;
    let first = commit_event(&db, &outbox, "a").await;
    let second = commit_event(&db, &outbox, "a").await;
    outbox.publish(vec![first.clone(), second.clone()]).await;
    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.gap_wait = Duration::from_secs(3600);
    let (token, task) = start_consumer(&db, &js, &subjects, PoisonOn(first.event_id), cfg);
    wait_count(
        &db,
        "SELECT count(*) FROM effects",
        1,
        20,
        "the second event applied",
    )
    .await;
    token.cancel();
    task.await.unwrap();
    assert_eq!(applied_order(&db).await, vec![second.event_id]);
}

/// Handles as `H` does, in batches of up to 32, and notes the largest.
struct Batched<H>(H, Arc<AtomicUsize>);
impl<H: EventHandler> EventHandler for Batched<H> {
    const BATCH: usize = 32;

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        self.0.handle(txn, event).await
    }

    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&ReceivedEvent],
    ) -> Result<Vec<Staged>, HandlerError> {
        self.1.fetch_max(events.len(), Ordering::SeqCst);
        let mut staged = Vec::new();
        for event in events {
            staged.extend(self.0.handle(txn, event).await?);
        }
        Ok(staged)
    }
}

/// Commits `per_aggregate` events on each of `aggregates`, interleaved.
async fn commit_backlog(
    db: &DatabaseConnection,
    outbox: &Outbox,
    aggregates: &[&str],
    per_aggregate: usize,
) -> Vec<Staged> {
    let mut all = Vec::new();
    for _ in 0..per_aggregate {
        for a in aggregates {
            all.push(commit_event(db, outbox, a).await);
        }
    }
    all
}

/// Publishes `staged` under a broker id of its own, so JetStream keeps it
/// as a second copy (as after its de-duplication window).
async fn publish_copy(js: &jetstream::Context, staged: &Staged) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", Uuid::now_v7().to_string().as_str());
    js.publish_with_headers(staged.subject.clone(), headers, staged.envelope.clone())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Waits until consumer `svc` of `test` has acknowledged all `n` messages
/// of the stream.
async fn wait_all_acked(js: &jetstream::Context, subjects: &Subjects, n: u64) {
    let name = subjects.consumer_name("svc", "test");
    eventually(60, "every message acknowledged", || {
        let js = js.clone();
        let (stream, name) = (subjects.stream_name("test"), name.clone());
        async move {
            let mut c: jetstream::consumer::PullConsumer =
                js.get_consumer_from_stream(&name, &stream).await.ok()?;
            let info = c.info().await.ok()?;
            (info.num_pending == 0
                && info.num_ack_pending == 0
                && info.ack_floor.stream_sequence == n)
                .then_some(())
        }
    })
    .await
    .unwrap();
}

/// Asserts each of `staged` was applied once, and each aggregate's in
/// sequence order.
async fn assert_applied_once_in_order(db: &DatabaseConnection, staged: &[Staged]) {
    let order = applied_order(db).await;
    let distinct: std::collections::HashSet<&Uuid> = order.iter().collect();
    assert_eq!(distinct.len(), order.len(), "an event was applied twice");
    let position: std::collections::HashMap<Uuid, usize> =
        order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut by_aggregate: std::collections::HashMap<String, Vec<&Staged>> = Default::default();
    for s in staged {
        let envelope =
            livedesk_proto::events::v1::EventEnvelope::decode(s.envelope.clone()).unwrap();
        by_aggregate
            .entry(envelope.aggregate_id)
            .or_default()
            .push(s);
    }
    for (aggregate, mut events) in by_aggregate {
        events.sort_by_key(|s| sequence_of(s));
        let applied: Vec<usize> = events
            .iter()
            .filter_map(|s| position.get(&s.event_id).copied())
            .collect();
        assert!(
            applied.windows(2).all(|w| w[0] < w[1]),
            "aggregate {aggregate} applied out of sequence: {applied:?}"
        );
    }
}

// spec: EVT-3
/// A backlog is applied in batches (one transaction for many events), and
/// a batch keeps every promise of one event at a time: each event applied
/// once though the stream holds copies of some, each aggregate's in
/// sequence though one was published before its predecessor.
#[tokio::test]
async fn a_backlog_is_applied_in_batches_each_event_once_in_its_aggregates_order() {
    let (_env, db, js, subjects) = on_shared_nats("batches").await;
    let outbox = test_outbox(&db, &js, &subjects).await;
    let mut staged = commit_backlog(&db, &outbox, &["a", "b", "c", "d"], 30).await;
    // "a"'s 11th event reaches the stream before its 10th.
    let (tenth, eleventh) = (4 * 9, 4 * 10);
    staged.swap(tenth, eleventh);
    outbox.publish(staged.clone()).await;
    for copy in [3, 50, 51, 90, 119] {
        publish_copy(&js, &staged[copy]).await;
    }
    let largest = Arc::new(AtomicUsize::new(0));
    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.lanes = 2;
    let (token, task) =
        start_consumer(&db, &js, &subjects, Batched(Recorder, largest.clone()), cfg);
    wait_all_acked(&js, &subjects, 125).await;
    token.cancel();
    task.await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM effects").await, 120);
    assert_applied_once_in_order(&db, &staged).await;
    assert!(
        largest.load(Ordering::SeqCst) > 1,
        "the backlog was never handled as a batch"
    );
}

// spec: EVT-3
/// An event that fails inside a batch rolls the batch back; its
/// neighbours are then applied one by one, once each and in order, and the
/// failing event is dead-lettered without holding its successors.
#[tokio::test]
async fn a_failing_event_rolls_its_batch_back_and_the_rest_is_applied_once() {
    let (_env, db, js, subjects) = on_shared_nats("batch_poison").await;
    let outbox = test_outbox(&db, &js, &subjects).await;
    let staged = commit_backlog(&db, &outbox, &["a", "b", "c", "d"], 10).await;
    let poison = staged[17].event_id;
    outbox.publish(staged.clone()).await;
    let largest = Arc::new(AtomicUsize::new(0));
    let mut cfg = ConsumerConfig::new("svc", "test");
    cfg.lanes = 1;
    cfg.gap_wait = Duration::from_secs(3600);
    let (token, task) = start_consumer(
        &db,
        &js,
        &subjects,
        Batched(PoisonOn(poison), largest.clone()),
        cfg,
    );
    wait_all_acked(&js, &subjects, 40).await;
    token.cancel();
    task.await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM effects").await, 39);
    assert!(!applied_order(&db).await.contains(&poison));
    assert_applied_once_in_order(&db, &staged).await;
    let letter = last_dead_letter(&js, &subjects)
        .await
        .expect("a dead letter");
    assert!(letter.error.contains("malformed"), "{}", letter.error);
    assert!(largest.load(Ordering::SeqCst) > 1, "no batch was tried");
}
