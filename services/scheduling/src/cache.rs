//! In-process cache of each org's schedules, queue assignments, settings
//! and form switches, so `IsOpen` and `GetWidgetState` evaluate without a
//! database round trip in the steady state (SCH-2).
//!
//! Staleness bound: a change made through this replica invalidates the
//! org's entry at once; other replicas reload after at most `ttl` (5 s by
//! default, `LIVEDESK_SCHEDULING__CACHE_TTL_MS`). Correctness never
//! depends on the cache: writes go to PostgreSQL, and a stale replica only
//! answers with the previous schedule for up to `ttl`.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use livedesk_proto::scheduling::v1::FormKind;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::{Schedule, Settings};
use crate::error::Error;
use crate::store::{FormMeta, Schedules, SettingsStore};

/// Everything needed to answer for one org.
#[derive(Debug)]
pub struct OrgSnapshot {
    pub org: Uuid,
    schedules: HashMap<Uuid, Arc<Schedule>>,
    default: Arc<Schedule>,
    assignments: HashMap<Uuid, Uuid>,
    pub settings: Settings,
    forms: Vec<FormMeta>,
}

impl OrgSnapshot {
    /// The schedule governing `queue`: its assignment, else the org default.
    pub fn schedule_for(&self, queue: Uuid) -> Arc<Schedule> {
        self.assignments
            .get(&queue)
            .and_then(|id| self.schedules.get(id))
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// The org default schedule (what an unassigned queue follows).
    pub fn default_schedule(&self) -> Arc<Schedule> {
        self.default.clone()
    }

    /// The enabled form of `kind` for `queue`: the queue's own form decides
    /// when it has one, else the org-wide form, else the built-in default
    /// (offline enabled, contact disabled: TEN-1).
    pub fn enabled_form(&self, queue: Uuid, kind: FormKind) -> Option<Uuid> {
        let k = kind as i32;
        let own = self
            .forms
            .iter()
            .find(|f| f.kind == k && f.queue_id == Some(queue));
        let org_wide = self
            .forms
            .iter()
            .find(|f| f.kind == k && f.queue_id.is_none());
        match own.or(org_wide) {
            Some(f) => f.enabled.then_some(f.id),
            None if kind == FormKind::Offline => Some(
                livedesk_platform::defaults::default_offline_form_id(self.org),
            ),
            None => None,
        }
    }
}

struct Entry {
    loaded: Instant,
    snapshot: Arc<OrgSnapshot>,
}

/// The cache, shared by every handler of a replica.
#[derive(Clone)]
pub struct OrgCache {
    db: DatabaseConnection,
    ttl: Duration,
    entries: Arc<RwLock<HashMap<Uuid, Entry>>>,
}

/// Past this many orgs, expired entries are dropped on the next load.
const PRUNE_ABOVE: usize = 10_000;

impl OrgCache {
    /// An empty cache over `db`.
    pub fn new(db: DatabaseConnection, ttl: Duration) -> Self {
        Self {
            db,
            ttl,
            entries: Arc::default(),
        }
    }

    /// The org's snapshot, loaded when missing or older than the TTL.
    pub async fn get(&self, org: Uuid) -> Result<Arc<OrgSnapshot>, Error> {
        if let Ok(entries) = self.entries.read()
            && let Some(e) = entries.get(&org)
            && e.loaded.elapsed() < self.ttl
        {
            return Ok(e.snapshot.clone());
        }
        let loaded = Instant::now();
        let snapshot = Arc::new(self.load(org).await?);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > PRUNE_ABOVE {
                let ttl = self.ttl;
                entries.retain(|_, e| e.loaded.elapsed() < ttl);
            }
            entries.insert(
                org,
                Entry {
                    loaded,
                    snapshot: snapshot.clone(),
                },
            );
        }
        Ok(snapshot)
    }

    /// Drops the org's entry after a change made by this replica.
    pub fn invalidate(&self, org: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&org);
        }
    }

    async fn load(&self, org: Uuid) -> Result<OrgSnapshot, Error> {
        let list = Schedules::list(&self.db, org).await?;
        let assignments = Schedules::assignments(&self.db, org)
            .await?
            .into_iter()
            .collect();
        let settings = SettingsStore::get(&self.db, org).await?;
        let forms = SettingsStore::form_metas(&self.db, org).await?;
        let schedules: HashMap<Uuid, Arc<Schedule>> =
            list.into_iter().map(|s| (s.id, Arc::new(s))).collect();
        let default_id = livedesk_platform::defaults::default_schedule_id(org);
        let default = schedules
            .get(&default_id)
            .cloned()
            .unwrap_or_else(|| Arc::new(Schedule::default_for(org)));
        Ok(OrgSnapshot {
            org,
            schedules,
            default,
            assignments,
            settings,
            forms,
        })
    }
}
