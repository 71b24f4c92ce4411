//! The event machinery under combined faults, judged by a history checker
//! (`livedesk_faults::check`, after Jepsen's total-queue checker).
//!
//! Writers commit state changes with their events through the outbox
//! (the production path: immediate publish after commit, the relay for
//! the rest); a durable consumer applies each event exactly once into its
//! own database. Everything runs on servers the test owns: a private
//! PostgreSQL and a private three-node NATS cluster with streams at three
//! replicas, reached through TCP proxies the test can cut. While the load
//! runs, faults are drawn from a printed seed: a NATS node killed and
//! restarted, the whole NATS cluster killed and restarted, PostgreSQL
//! stopped fast or crashed (immediate shutdown), the network to
//! PostgreSQL or to NATS cut, the consumer or the relay crashed (its task
//! aborted mid-flight) and restarted. Then everything heals, the run waits
//! for the consumer to catch up, and the checker compares what PostgreSQL
//! committed with what the consumer applied.
//!
//! `LIVEDESK_FAULTS_SEED` replays a run; `LIVEDESK_FAULTS_SECONDS` (60)
//! sets how long faults are injected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use livedesk_events::consumer::{self, ConsumerConfig, ConsumerContext};
use livedesk_events::{
    EventHandler, HandlerError, Outbox, ReceivedEvent, Staged, Subjects, ensure_streams,
};
use livedesk_faults::schedule::{self, Deck};
use livedesk_faults::{Effect, Write, check};
use livedesk_platform::db::stmt;
use livedesk_proto::blocking::v1::{Block, CustomerBlocked};
use livedesk_testkit::{PrivateNatsCluster, PrivatePostgres, TcpProxy, eventually};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const PRODUCER: &str = "faults";
const WRITERS: usize = 4;
const AGGREGATES_PER_WRITER: usize = 5;

struct ProducerMigrator;
impl MigratorTrait for ProducerMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = livedesk_events::events_migrations();
        all.push(Box::new(livedesk_platform::db::SqlMigration::new(
                "m0001_writes",
                "CREATE TABLE writes (event_id uuid PRIMARY KEY, aggregate text NOT NULL, seq bigint NOT NULL, \
                 UNIQUE (aggregate, seq));",
        )));
        all
    }
}

struct ConsumerMigrator;
impl MigratorTrait for ConsumerMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = livedesk_events::events_migrations();
        all.push(Box::new(livedesk_platform::db::SqlMigration::new(
                "m0001_effects",
                "CREATE TABLE effects (n bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate text NOT NULL, \
                 seq bigint NOT NULL);",
        )));
        all
    }
}

/// Applies each event once: an `effects` row, in the consumer's
/// transaction (with `processed_events`).
struct Apply;
impl EventHandler for Apply {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let Some(payload) = event.payload::<CustomerBlocked>() else {
            return Ok(vec![]);
        };
        let seq: i64 = payload?
            .block
            .map(|b| b.reason)
            .unwrap_or_default()
            .parse()
            .map_err(HandlerError::permanent)?;
        txn.execute_raw(stmt(
            "INSERT INTO effects (event_id, aggregate, seq) VALUES ($1, $2, $3)",
            [
                event.event_id.into(),
                event.envelope.aggregate_id.clone().into(),
                seq.into(),
            ],
        ))
        .await?;
        Ok(vec![])
    }
}

/// One write: the next `seq` of `aggregate` and its event, in one
/// transaction; then the immediate publish. An error leaves the truth to
/// the database (a commit cut mid-way may or may not have happened).
async fn write(db: &DatabaseConnection, outbox: &Outbox, org: Uuid, aggregate: &str) -> bool {
    let attempt = async {
        let txn = db.begin().await?;
        let row = txn
            .query_one_raw(stmt(
                "SELECT coalesce(max(seq), 0) + 1 AS seq FROM writes WHERE aggregate = $1",
                [aggregate.to_owned().into()],
            ))
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound("seq".into()))?;
        let seq: i64 = row.try_get("", "seq")?;
        let event = CustomerBlocked {
            block: Some(Block {
                id: aggregate.to_owned(),
                reason: seq.to_string(),
                ..Default::default()
            }),
        };
        let staged = outbox.stage(&txn, org, aggregate, &event).await?;
        txn.execute_raw(stmt(
            "INSERT INTO writes (event_id, aggregate, seq) VALUES ($1, $2, $3)",
            [
                staged.event_id.into(),
                aggregate.to_owned().into(),
                seq.into(),
            ],
        ))
        .await?;
        txn.commit().await?;
        Ok::<_, sea_orm::DbErr>(staged)
    };
    match tokio::time::timeout(Duration::from_secs(15), attempt).await {
        Ok(Ok(staged)) => {
            outbox.publish(vec![staged]).await;
            true
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    NatsNodeKilled,
    NatsClusterKilled,
    PostgresStoppedFast,
    PostgresCrashed,
    PostgresLinkCut,
    NatsLinkCut,
    ConsumerCrashed,
    RelayCrashed,
}

const FAULTS: [Fault; 8] = [
    Fault::NatsNodeKilled,
    Fault::NatsClusterKilled,
    Fault::PostgresStoppedFast,
    Fault::PostgresCrashed,
    Fault::PostgresLinkCut,
    Fault::NatsLinkCut,
    Fault::ConsumerCrashed,
    Fault::RelayCrashed,
];

struct Cluster {
    nats: PrivateNatsCluster,
    nats_links: Vec<TcpProxy>,
    pg: PrivatePostgres,
    pg_link: TcpProxy,
}

impl Cluster {
    fn nats_client_urls(&self) -> Vec<String> {
        self.nats_links
            .iter()
            .map(|p| format!("nats://{}", p.addr()))
            .collect()
    }
}

async fn nats_client(urls: Vec<String>) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .ignore_discovered_servers()
        .retry_on_initial_connect()
        .connect(urls)
        .await
        .unwrap()
}

fn spawn_consumer(ctx: &ConsumerContext, token: &CancellationToken) -> tokio::task::JoinHandle<()> {
    let mut cfg = ConsumerConfig::new("checker", PRODUCER);
    // A crashed consumer's events come back after this, not 30 s.
    cfg.ack_wait = Duration::from_secs(3);
    tokio::spawn(consumer::run(
        ctx.clone(),
        Arc::new(Apply),
        cfg,
        token.clone(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a fault run: make test-faults"]
async fn nothing_committed_is_lost_or_applied_twice_under_combined_faults() {
    let (seed, seconds, mut rng) = schedule::start("faults", 60);

    // Servers owned by this test, and the links the test can cut.
    let pg = PrivatePostgres::start()
        .await
        .unwrap()
        .expect("the fault run needs PostgreSQL server binaries");
    let pg_link = TcpProxy::start(([127, 0, 0, 1], pg.port).into())
        .await
        .unwrap();
    let nats = PrivateNatsCluster::start(3).await.unwrap();
    let nats_links = nats.proxies().await.unwrap();
    let mut cluster = Cluster {
        nats,
        nats_links,
        pg,
        pg_link,
    };
    let linked_pg = format!("postgres://postgres@{}", cluster.pg_link.addr());
    let producer_db = livedesk_platform::db::connect(&format!("{linked_pg}/producer"))
        .await
        .unwrap();
    livedesk_platform::db::migrate::<ProducerMigrator>(&producer_db)
        .await
        .unwrap();
    let consumer_db = livedesk_platform::db::connect(&format!("{linked_pg}/consumer"))
        .await
        .unwrap();
    livedesk_platform::db::migrate::<ConsumerMigrator>(&consumer_db)
        .await
        .unwrap();
    let subjects = Subjects::new("faults").with_stream_replicas(3);
    let js = jetstream::new(nats_client(cluster.nats_client_urls()).await);
    ensure_streams(&js, &subjects, &[PRODUCER]).await.unwrap();

    // The load: each writer owns its aggregates, so their seqs follow
    // commit order.
    let outbox = Outbox::new(producer_db.clone(), js.clone(), subjects.clone(), PRODUCER);
    let org = Uuid::now_v7();
    let stop_writers = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (db, outbox, stop, acked) = (
            producer_db.clone(),
            outbox.clone(),
            stop_writers.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut k = 0;
            while !stop.load(Ordering::SeqCst) {
                let aggregate = format!("w{w}-a{}", k % AGGREGATES_PER_WRITER);
                if write(&db, &outbox, org, &aggregate).await {
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                k += 1;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        }));
    }
    let consumer_ctx = ConsumerContext {
        db: consumer_db.clone(),
        js: js.clone(),
        subjects: subjects.clone(),
        outbox: None,
    };
    let token = CancellationToken::new();
    let mut consumer_task = spawn_consumer(&consumer_ctx, &token);
    let mut relay_task = tokio::spawn(outbox.clone().run_relay(token.clone()));

    // The faults.
    let started = Instant::now();
    let mut injected: BTreeMap<Fault, usize> = BTreeMap::new();
    // Every kind once per round: a run of eight or more faults has
    // injected every kind.
    let mut deck = Deck::new(&FAULTS);
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(rng.millis(1000, 3000)).await;
        let fault = deck.draw(&mut rng).unwrap();
        let hold = rng.millis(500, 3000);
        println!(
            "[faults] t={:>5.1}s {fault:?} for {} ms (acknowledged so far {})",
            started.elapsed().as_secs_f64(),
            hold.as_millis(),
            acknowledged.load(Ordering::SeqCst)
        );
        match fault {
            Fault::NatsNodeKilled => {
                let i = rng.below(3) as usize;
                cluster.nats.kill_for(i, hold).await.unwrap();
            }
            Fault::NatsClusterKilled => cluster.nats.kill_all_for(hold).await.unwrap(),
            Fault::PostgresStoppedFast => cluster.pg.stop_for(hold).await.unwrap(),
            Fault::PostgresCrashed => cluster.pg.crash_for(hold).await.unwrap(),
            Fault::PostgresLinkCut => TcpProxy::cut_for(&[&cluster.pg_link], hold).await,
            Fault::NatsLinkCut => {
                let links: Vec<&TcpProxy> = cluster.nats_links.iter().collect();
                TcpProxy::cut_for(&links, hold).await;
            }
            Fault::ConsumerCrashed => {
                consumer_task.abort();
                let _ = consumer_task.await;
                tokio::time::sleep(hold).await;
                consumer_task = spawn_consumer(&consumer_ctx, &token);
            }
            Fault::RelayCrashed => {
                relay_task.abort();
                let _ = relay_task.await;
                tokio::time::sleep(hold).await;
                relay_task = tokio::spawn(outbox.clone().run_relay(token.clone()));
            }
        }
        *injected.entry(fault).or_default() += 1;
    }

    // Heal, stop the load, and wait for the consumer to catch up with
    // everything PostgreSQL committed.
    stop_writers.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let committed = eventually(
        180,
        "the outbox drained and every committed write applied",
        || {
            let (p, c) = (producer_db.clone(), consumer_db.clone());
            async move {
                let writes = livedesk_testkit::count(&p, "SELECT count(*) FROM writes", [])
                    .await
                    .ok()?;
                let outbox = livedesk_testkit::count(&p, "SELECT count(*) FROM event_outbox", [])
                    .await
                    .ok()?;
                let applied =
                    livedesk_testkit::count(&c, "SELECT count(DISTINCT event_id) FROM effects", [])
                        .await
                        .ok()?;
                (outbox == 0 && applied >= writes).then_some(writes)
            }
        },
    )
    .await;
    token.cancel();
    let _ = consumer_task.await;
    let _ = relay_task.await;

    // The checker.
    let writes: Vec<Write> = producer_db
        .query_all_raw(stmt("SELECT event_id, aggregate, seq FROM writes", []))
        .await
        .unwrap()
        .iter()
        .map(|r| Write {
            event_id: r.try_get("", "event_id").unwrap(),
            aggregate: r.try_get("", "aggregate").unwrap(),
            seq: r.try_get("", "seq").unwrap(),
        })
        .collect();
    let effects: Vec<Effect> = consumer_db
        .query_all_raw(stmt(
            "SELECT event_id, aggregate, seq FROM effects ORDER BY n",
            [],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| Effect {
            event_id: r.try_get("", "event_id").unwrap(),
            aggregate: r.try_get("", "aggregate").unwrap(),
            seq: r.try_get("", "seq").unwrap(),
        })
        .collect();
    let verdict = check(&writes, &effects);
    println!(
        "[faults] seed={seed} duration={:.0}s acknowledged={} faults={injected:?}",
        started.elapsed().as_secs_f64(),
        acknowledged.load(Ordering::SeqCst)
    );
    println!("[faults] {}", verdict.figures());
    assert!(
        committed.is_ok(),
        "the run did not settle: {}",
        verdict.figures()
    );
    assert!(
        injected.len() >= 5,
        "at least 5 kinds of fault in one run, got {injected:?}"
    );
    assert!(
        verdict.clean(),
        "lost {:?} duplicated {:?} unexpected {:?} reordered {:?}",
        verdict.lost,
        verdict.duplicated,
        verdict.unexpected,
        verdict.reordered
    );
}
