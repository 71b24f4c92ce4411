//! The cache against a real PostgreSQL: two caches on one database are two
//! replicas (each with its own pool, listener and heartbeat). What each
//! answered from memory is read from its own counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use livedesk_platform::subject::{SubjectScope, SubjectShare};
use livedesk_proto::common::v1::{Channel, IdentityKind};
use livedesk_testkit::{TestEnv, eventually};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::*;
use crate::store::{Migrator, NewBlock, SubjectData};

const BOUNDS: Bounds = Bounds {
    orgs: 100,
    entries_per_org: 100,
};

/// One replica's cache, with its tasks when `listening`.
struct Replica {
    cache: BlockCache,
    stop: CancellationToken,
}

impl Replica {
    async fn start(url: &str, bounds: Bounds, listening: bool) -> Self {
        let db = livedesk_platform::db::connect(url).await.unwrap();
        let cache = BlockCache::new(db, bounds);
        let stop = CancellationToken::new();
        if listening {
            tokio::spawn(run_listener(cache.clone(), stop.clone()));
            tokio::spawn(run_heartbeat(cache.clone(), stop.clone()));
            let c = cache.clone();
            eventually(20, "the listener to be live", || async {
                c.live().then_some(())
            })
            .await
            .unwrap();
        }
        Self { cache, stop }
    }

    async fn check(&self, org: Uuid, email: &str) -> Option<Uuid> {
        self.cache
            .check(org, vec![(IdentityKind::Email, email.to_owned())], None)
            .await
            .unwrap()
    }

    fn count(&self, of: fn(&Stats) -> &AtomicU64) -> u64 {
        of(&self.cache.inner.stats).load(Ordering::Relaxed)
    }

    /// Waits until this replica has received a heartbeat it sent after
    /// now: every change committed before now has then been handled.
    async fn settle(&self) {
        let after = self.cache.now_nanos() + STALE_AFTER.as_nanos() as u64;
        let c = self.cache.clone();
        eventually(20, "a heartbeat sent after the change", || async {
            (c.inner.fresh_until.load(Ordering::Acquire) > after).then_some(())
        })
        .await
        .unwrap();
    }

    /// A check answered from memory: polls until one is counted as a hit
    /// (memory goes unused for a moment if a heartbeat is late on a busy
    /// machine), and proves that it ran no statement.
    async fn in_memory(&self, org: Uuid, email: &str) -> Option<Uuid> {
        eventually(20, "a check answered from memory", || async {
            let (hits, queries) = (self.count(|s| &s.hits), self.count(|s| &s.queries));
            let answer = self.check(org, email).await;
            (self.count(|s| &s.hits) == hits + 1).then(|| {
                assert_eq!(
                    self.count(|s| &s.queries),
                    queries,
                    "a hit runs no statement"
                );
                answer
            })
        })
        .await
        .unwrap()
    }

    /// Polls until `email` is blocked (`want` = Some) or not.
    async fn until(&self, org: Uuid, email: &str, want: Option<Uuid>) {
        eventually(20, "the check to answer the change", || async {
            (self.check(org, email).await == want).then_some(())
        })
        .await
        .unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn database() -> (TestEnv, String, DatabaseConnection) {
    let env = TestEnv::new().await.unwrap();
    let url = env.database_url("blocking");
    let db = livedesk_platform::db::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (env, url, db)
}

/// Blocks `email` in `org` as `BlockCustomer` does (in its own
/// transaction, through its own connection: "replica A").
async fn block(
    db: &DatabaseConnection,
    org: Uuid,
    email: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Uuid {
    let txn = db.begin().await.unwrap();
    let id = Blocks::insert(
        &txn,
        &NewBlock {
            org_id: org,
            conversation_id: Some(Uuid::now_v7()),
            channel: Channel::WebChat,
            customer_name: "Customer",
            ip_cidr: None,
            reason: "abuse",
            blocked_by: "agent-1",
            expires_at,
            identities: &[(IdentityKind::Email, email.to_owned())],
            client_request_id: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    txn.commit().await.unwrap();
    id
}

// spec: BLK-6
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_made_elsewhere_is_seen_and_checks_are_answered_from_memory() {
    let (_env, url, db) = database().await;
    let b = Replica::start(&url, BOUNDS, true).await;
    let org = Uuid::now_v7();
    assert_eq!(b.check(org, "a@example.com").await, None);
    assert_eq!(b.count(|s| &s.misses), 1, "the org was loaded");

    assert_eq!(b.in_memory(org, "someone-else@example.com").await, None);

    // Blocked through "replica A" (another connection): B drops the org
    // when the notification comes, and its next check loads it again.
    let id = block(&db, org, "a@example.com", None).await;
    b.until(org, "a@example.com", Some(id)).await;
    assert_eq!(b.in_memory(org, "a@example.com").await, Some(id));

    // BLK-5: an unblock is seen the same way.
    assert!(Blocks::unblock(&db, org, id, "admin-1").await.unwrap());
    b.until(org, "a@example.com", None).await;
    assert_eq!(b.in_memory(org, "a@example.com").await, None);
}

// spec: BLK-8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_held_in_memory_stops_applying_at_its_expiry() {
    let (_env, url, db) = database().await;
    let b = Replica::start(&url, BOUNDS, true).await;
    let org = Uuid::now_v7();
    let expires = Utc::now() + chrono::Duration::seconds(2);
    let id = block(&db, org, "a@example.com", Some(expires)).await;
    // The insert's own notification handled first, so it cannot drop the
    // org after the load below.
    b.settle().await;
    assert_eq!(b.check(org, "a@example.com").await, Some(id));
    assert_eq!(b.in_memory(org, "a@example.com").await, Some(id));
    let misses = b.count(|s| &s.misses);
    b.until(org, "a@example.com", None).await;
    assert!(Utc::now() >= expires);
    assert_eq!(
        b.count(|s| &s.misses),
        misses,
        "nothing changed in the database: the expiry was evaluated in memory"
    );
}

// spec: PRV-2
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_customer_stays_blocked_through_memory() {
    let (_env, url, db) = database().await;
    let b = Replica::start(&url, BOUNDS, true).await;
    let org = Uuid::now_v7();
    let id = block(&db, org, "gone@example.com", None).await;
    assert_eq!(b.check(org, "gone@example.com").await, Some(id));
    let misses = b.count(|s| &s.misses);

    let txn = db.begin().await.unwrap();
    let scope = SubjectScope {
        identities: vec![(IdentityKind::Email, "gone@example.com".into())],
        ..Default::default()
    };
    SubjectData.erase(&txn, org, &scope).await.unwrap();
    txn.commit().await.unwrap();
    let clear = db
        .query_one_raw(livedesk_platform::db::stmt(
            "SELECT count(*) AS n FROM block_identities WHERE org_id = $1 AND value NOT LIKE 'hmac:%'",
            [org.into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(clear, 0, "only hashed identities are left");

    // The erasure changed the rows: B reloads the org (with its key) and
    // still finds the block by the clear email, now from memory.
    eventually(20, "B to reload the erased org", || async {
        (b.check(org, "gone@example.com").await == Some(id) && b.count(|s| &s.misses) > misses)
            .then_some(())
    })
    .await
    .unwrap();
    assert_eq!(b.in_memory(org, "gone@example.com").await, Some(id));
    assert_eq!(b.in_memory(org, "other@example.com").await, None);
}

/// Without a live listener nothing is held: every check is a statement,
/// and answers what the database says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_live_listener_every_check_goes_to_the_database() {
    let (_env, url, db) = database().await;
    let deaf = Replica::start(&url, BOUNDS, false).await;
    let org = Uuid::now_v7();
    let id = block(&db, org, "a@example.com", None).await;
    for _ in 0..3 {
        assert_eq!(deaf.check(org, "a@example.com").await, Some(id));
    }
    assert_eq!(deaf.count(|s| &s.bypasses), 3);
    assert_eq!(deaf.count(|s| &s.hits), 0);
    assert_eq!(deaf.count(|s| &s.queries), 3, "one statement per check");
    assert!(Blocks::unblock(&db, org, id, "admin-1").await.unwrap());
    assert_eq!(deaf.check(org, "a@example.com").await, None);

    // An erased customer: the first check learns the key (two statements),
    // later ones hash at once (one).
    let id = block(&db, org, "gone@example.com", None).await;
    let txn = db.begin().await.unwrap();
    let scope = SubjectScope {
        identities: vec![(IdentityKind::Email, "gone@example.com".into())],
        ..Default::default()
    };
    SubjectData.erase(&txn, org, &scope).await.unwrap();
    txn.commit().await.unwrap();
    let queries = deaf.count(|s| &s.queries);
    assert_eq!(deaf.check(org, "gone@example.com").await, Some(id));
    assert_eq!(deaf.count(|s| &s.queries), queries + 2);
    assert_eq!(deaf.check(org, "gone@example.com").await, Some(id));
    assert_eq!(deaf.count(|s| &s.queries), queries + 3);

    // A cache of 0 orgs holds nothing even with its listener live.
    let none = Replica::start(
        &url,
        Bounds {
            orgs: 0,
            entries_per_org: 100,
        },
        true,
    )
    .await;
    assert_eq!(none.check(org, "gone@example.com").await, Some(id));
    assert_eq!(none.check(org, "gone@example.com").await, Some(id));
    assert_eq!(none.count(|s| &s.hits), 0);
    assert_eq!(none.count(|s| &s.bypasses), 2);
}

/// An org with more identities than the bound is answered by the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_above_the_bound_is_answered_by_the_database() {
    let (_env, url, db) = database().await;
    let small = Replica::start(
        &url,
        Bounds {
            orgs: 10,
            entries_per_org: 1,
        },
        true,
    )
    .await;
    let org = Uuid::now_v7();
    let first = block(&db, org, "a@example.com", None).await;
    let second = block(&db, org, "b@example.com", None).await;
    small.until(org, "b@example.com", Some(second)).await;
    assert_eq!(small.check(org, "a@example.com").await, Some(first));
    assert_eq!(small.check(org, "c@example.com").await, None);
    let c = small.cache.clone();
    eventually(20, "a check counted as oversized", || async {
        let before = c.inner.stats.oversized.load(Ordering::Relaxed);
        let answer = small.check(org, "a@example.com").await;
        assert_eq!(answer, Some(first));
        (c.inner.stats.oversized.load(Ordering::Relaxed) > before).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(small.count(|s| &s.hits), 0, "never answered from memory");
}

/// The listener's connection is killed: everything held is dropped, the
/// listener comes back, and checks answer right all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_drops_everything_held_and_comes_back() {
    let (_env, url, db) = database().await;
    let b = Replica::start(&url, BOUNDS, true).await;
    let org = Uuid::now_v7();
    let id = block(&db, org, "a@example.com", None).await;
    assert_eq!(b.in_memory(org, "a@example.com").await, Some(id));
    let resets = b.count(|s| &s.resets);

    let killed = db
        .query_one_raw(livedesk_platform::db::stmt(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'livedesk-blocking-cache'",
            [],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(killed, 1);
    let c = b.cache.clone();
    eventually(20, "the listener to notice", || async {
        (c.inner.stats.resets.load(Ordering::Relaxed) > resets).then_some(())
    })
    .await
    .unwrap();
    // Dropped: the next check is not answered from what was held.
    let hits = b.count(|s| &s.hits);
    assert_eq!(b.check(org, "a@example.com").await, Some(id));
    assert_eq!(
        b.count(|s| &s.hits),
        hits,
        "nothing held survived the reset"
    );

    // Live again, and seeing changes again.
    let c = b.cache.clone();
    eventually(20, "the listener to be live again", || async {
        c.live().then_some(())
    })
    .await
    .unwrap();
    assert!(Blocks::unblock(&db, org, id, "admin-1").await.unwrap());
    b.until(org, "a@example.com", None).await;
    let later = block(&db, org, "z@example.com", None).await;
    b.until(org, "z@example.com", Some(later)).await;
}
