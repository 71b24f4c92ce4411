//! The active blocks of each org, held in memory by every replica
//! (SPEC BLK-6: "other services … may cache the list"; here the blocking
//! service caches its own), so a `CheckIdentities` is answered without a
//! round trip to PostgreSQL.
//!
//! **What is held.** Per org, everything a check reads: each active block
//! (id, `blocked_at`, `expires_at`), its identities (clear, or hashed for
//! an erased customer), its IP range, and the org's erasure key (PRV-2).
//! A whole org is held, not answers: callers ask about a different
//! visitor each time, so a cache of answers would never be hit. Expiry is
//! evaluated at each check against the clock (BLK-8), and the answer is
//! the oldest matching block, as the query answers. Memory is bounded:
//! at most `LIVEDESK_BLOCKING__CACHE_ORGS` orgs, and an org with more
//! than `LIVEDESK_BLOCKING__CACHE_ORG_ENTRIES` identities and ranges is
//! not held (its checks go to the database).
//!
//! **How it stays right across replicas.** Triggers on every table a
//! check reads (migration 0004) `pg_notify` the org's id at commit, to
//! every replica; each replica's [`run_listener`] drops that org. A load
//! racing a notification is not stored ([`slots`]). PostgreSQL delivers a
//! session's notifications in commit order, so each replica also sends a
//! heartbeat notification of its own every 200 ms ([`run_heartbeat`]):
//! having received its own heartbeat sent at T proves every change
//! committed before T was received, and dropped. Memory is used only
//! while the newest heartbeat received was sent less than 500 ms ago; a
//! change therefore takes effect on every replica within 500 ms (BLK-6's
//! bound is 1 s). Otherwise (listener down, connection stuck, PostgreSQL
//! restarting) every check goes to the database, and when the listener
//! connects again everything held is dropped (notifications sent in the
//! gap are lost).
//!
//! **The database path** (no listener, an org too large, a cache of 0
//! orgs): one statement answers on the clear identities and returns the
//! org's erasure key; only if the org has a key not yet known here is a
//! second one run with the hashed identities too. A key, once created, is
//! never changed or deleted (`SubjectData::key_or_create`), so a key seen
//! is remembered (never the absence of one: an erasure may create it).
//! Fail closed: a database error is the check's error, as before.
//!
//! Operators see, per replica, `livedesk_blocking_cache_hits_total`
//! (answered from memory), `…_misses_total` (the org was loaded),
//! `…_bypasses_total` (memory not usable: answered by the database),
//! `…_oversized_total` (the org is above the bound: answered by the
//! database) and `livedesk_blocking_cache_resets_total` (everything
//! dropped because the listener lost its connection).
mod listener;
mod set;
mod slots;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use livedesk_platform::metrics::Counter;
use livedesk_proto::common::v1::IdentityKind;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

pub use listener::{run_heartbeat, run_listener};
use set::OrgBlocks;
use slots::{Lookup, Slots};

use crate::error::Error;
use crate::store::{Blocks, with_key};

/// The channel of the change triggers and the heartbeats.
pub const CHANNEL: &str = "livedesk_blocking_changes";
/// How often a replica sends its heartbeat.
const HEARTBEAT: Duration = Duration::from_millis(200);
/// How old the newest heartbeat received may be for memory to be used.
const STALE_AFTER: Duration = Duration::from_millis(500);

/// The memory bounds (`LIVEDESK_BLOCKING__CACHE_ORGS`,
/// `LIVEDESK_BLOCKING__CACHE_ORG_ENTRIES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Orgs held at most; 0 holds none (every check goes to the database).
    pub orgs: usize,
    /// Identities and ranges of one org held at most.
    pub entries_per_org: usize,
}

/// One org in memory: its blocks, or the fact that it has too many.
#[derive(Debug, Clone)]
enum Held {
    Set(Arc<OrgBlocks>),
    TooLarge,
}

/// How a check was answered.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Hit,
    Miss,
    Bypass,
    Oversized,
}

struct Metrics {
    hits: Counter<u64>,
    misses: Counter<u64>,
    bypasses: Counter<u64>,
    oversized: Counter<u64>,
    resets: Counter<u64>,
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let meter = livedesk_platform::metrics::meter();
        let counter = |name: &'static str, description: &'static str| {
            meter.u64_counter(name).with_description(description).build()
        };
        Metrics {
            hits: counter(
                "livedesk.blocking.cache.hits",
                "block checks answered from memory",
            ),
            misses: counter(
                "livedesk.blocking.cache.misses",
                "block checks that loaded their org's blocks into memory",
            ),
            bypasses: counter(
                "livedesk.blocking.cache.bypasses",
                "block checks answered by the database because memory was not usable (change listener not live)",
            ),
            oversized: counter(
                "livedesk.blocking.cache.oversized",
                "block checks answered by the database because their org has more blocked identities than the cache holds",
            ),
            resets: meter
                .u64_counter("livedesk.blocking.cache.resets")
                .with_description(
                    "times every org held was dropped because the change listener lost its connection",
                )
                .build(),
        }
    })
}

/// This replica's counts (the metrics are per process, and tests run
/// several replicas in one process).
#[derive(Debug, Default)]
struct Stats {
    hits: AtomicU64,
    misses: AtomicU64,
    bypasses: AtomicU64,
    oversized: AtomicU64,
    /// Statements run by checks.
    queries: AtomicU64,
    resets: AtomicU64,
}

/// The in-memory answer to block checks; cheap to clone (one shared state).
#[derive(Clone)]
pub struct BlockCache {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    bounds: Bounds,
    /// This replica, in its heartbeats' payload.
    replica: String,
    /// The origin of the instants in heartbeats (nanoseconds since it).
    base: Instant,
    /// Until when memory may be used, in nanoseconds since `base`: the
    /// send instant of the newest own heartbeat received plus
    /// [`STALE_AFTER`]; 0 while the listener is not known to be live.
    fresh_until: AtomicU64,
    slots: Mutex<Slots<Held>>,
    keys: Mutex<HashMap<Uuid, Arc<[u8]>>>,
    stats: Stats,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BlockCache {
    /// A cache over `db`; memory is not used until [`run_listener`] and
    /// [`run_heartbeat`] run for it and its first heartbeat comes back.
    pub fn new(db: DatabaseConnection, bounds: Bounds) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                bounds,
                replica: Uuid::now_v7().simple().to_string(),
                base: Instant::now(),
                fresh_until: AtomicU64::new(0),
                slots: Mutex::new(Slots::new(bounds.orgs)),
                keys: Mutex::new(HashMap::new()),
                stats: Stats::default(),
            }),
        }
    }

    /// The first active block of `org` naming one of `identities` (clear
    /// values, normalized) or holding `ip` (BLK-3, BLK-9, PRV-2).
    pub async fn check(
        &self,
        org: Uuid,
        identities: Vec<(IdentityKind, String)>,
        ip: Option<IpAddr>,
    ) -> Result<Option<Uuid>, Error> {
        if !self.live() {
            self.count(Outcome::Bypass);
            return self.by_database(org, identities, ip).await;
        }
        let lookup = lock(&self.inner.slots).lookup(org);
        let ticket = match lookup {
            Lookup::Ready(Held::Set(set)) => {
                self.count(Outcome::Hit);
                return Ok(answer(&set, identities, ip));
            }
            Lookup::Ready(Held::TooLarge) => {
                self.count(Outcome::Oversized);
                return self.by_database(org, identities, ip).await;
            }
            Lookup::NoRoom => {
                self.count(Outcome::Bypass);
                return self.by_database(org, identities, ip).await;
            }
            Lookup::Load(ticket) => ticket,
        };
        self.count(Outcome::Miss);
        let bound = self.inner.bounds.entries_per_org;
        self.inner.stats.queries.fetch_add(1, Ordering::Relaxed);
        let loaded = Blocks::active_of(&self.inner.db, org, bound as u64 + 1).await?;
        if let Some(key) = &loaded.key {
            self.remember_key(org, key);
        }
        if loaded.rows.len() > bound {
            lock(&self.inner.slots).finish(ticket, Held::TooLarge);
            return self.by_database(org, identities, ip).await;
        }
        let set = Arc::new(OrgBlocks::from_rows(loaded)?);
        lock(&self.inner.slots).finish(ticket, Held::Set(set.clone()));
        Ok(answer(&set, identities, ip))
    }

    /// The check by the database: one statement, two the first time an
    /// org's erasure key is seen.
    async fn by_database(
        &self,
        org: Uuid,
        identities: Vec<(IdentityKind, String)>,
        ip: Option<IpAddr>,
    ) -> Result<Option<Uuid>, Error> {
        let ip = ip.map(|ip| ip.to_string());
        let db = &self.inner.db;
        let known = lock(&self.inner.keys).get(&org).cloned();
        self.inner.stats.queries.fetch_add(1, Ordering::Relaxed);
        if let Some(key) = known {
            let all = with_key(&key, identities);
            return Ok(Blocks::find_active(db, org, &all, ip.as_deref()).await?);
        }
        let (found, key) = Blocks::find_active_and_key(db, org, &identities, ip.as_deref()).await?;
        let Some(key) = key else {
            return Ok(found);
        };
        // An erased customer's block names hashed identities; the oldest
        // match may be one of them, so ask again with both.
        self.remember_key(org, &key);
        self.inner.stats.queries.fetch_add(1, Ordering::Relaxed);
        let all = with_key(&key, identities);
        Ok(Blocks::find_active(db, org, &all, ip.as_deref()).await?)
    }

    fn remember_key(&self, org: Uuid, key: &[u8]) {
        let cap = self.inner.bounds.orgs;
        let mut keys = lock(&self.inner.keys);
        if keys.contains_key(&org) || cap == 0 {
            return;
        }
        if keys.len() >= cap
            && let Some(victim) = keys.keys().next().copied()
        {
            keys.remove(&victim);
        }
        keys.insert(org, Arc::from(key));
    }

    fn count(&self, outcome: Outcome) {
        let (s, m) = (&self.inner.stats, metrics());
        let (mine, all) = match outcome {
            Outcome::Hit => (&s.hits, &m.hits),
            Outcome::Miss => (&s.misses, &m.misses),
            Outcome::Bypass => (&s.bypasses, &m.bypasses),
            Outcome::Oversized => (&s.oversized, &m.oversized),
        };
        mine.fetch_add(1, Ordering::Relaxed);
        all.add(1, &[]);
    }

    fn now_nanos(&self) -> u64 {
        u64::try_from(self.inner.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether memory may be used now (a recent own heartbeat came back).
    fn live(&self) -> bool {
        self.now_nanos() < self.inner.fresh_until.load(Ordering::Acquire)
    }

    /// The payload of a heartbeat sent now.
    fn heartbeat_payload(&self) -> String {
        format!("hb:{}:{}", self.inner.replica, self.now_nanos())
    }

    /// A notification on [`CHANNEL`], in the order PostgreSQL delivers them.
    fn notified(&self, payload: &str) {
        if let Some(beat) = payload.strip_prefix("hb:") {
            // Other replicas' heartbeats prove nothing about this one.
            if let Some((replica, sent)) = beat.split_once(':')
                && replica == self.inner.replica
                && let Ok(sent) = sent.parse::<u64>()
            {
                let until = sent.saturating_add(STALE_AFTER.as_nanos() as u64);
                self.inner.fresh_until.fetch_max(until, Ordering::AcqRel);
            }
            return;
        }
        match Uuid::parse_str(payload) {
            Ok(org) => {
                lock(&self.inner.slots).invalidate(org);
                lock(&self.inner.keys).remove(&org);
            }
            // '*' (a TRUNCATE), or a payload this code does not know:
            // drop everything rather than guess which org it meant.
            Err(_) => {
                if payload != "*" {
                    tracing::warn!(
                        payload,
                        "unknown block change notification: dropping every org held"
                    );
                }
                self.drop_all();
            }
        }
    }

    fn drop_all(&self) {
        lock(&self.inner.slots).clear();
        lock(&self.inner.keys).clear();
    }

    /// The listener lost (or has just remade) its connection: memory is
    /// not used until a new heartbeat comes back, and nothing loaded
    /// before may be used again.
    fn reset(&self) {
        self.inner.fresh_until.store(0, Ordering::Release);
        self.drop_all();
        self.inner.stats.resets.fetch_add(1, Ordering::Relaxed);
        metrics().resets.add(1, &[]);
    }
}

/// The answer from one org's set: the hashed forms are looked for too
/// when the org has an erasure key.
fn answer(
    set: &OrgBlocks,
    identities: Vec<(IdentityKind, String)>,
    ip: Option<IpAddr>,
) -> Option<Uuid> {
    let identities = match &set.key {
        Some(key) => with_key(key, identities),
        None => identities,
    };
    set.first_match(&identities, ip, Utc::now())
}

#[cfg(test)]
mod tests;
