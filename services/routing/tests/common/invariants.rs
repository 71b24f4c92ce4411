//! RTG-6 invariant checkers: a replay of the routing stream (capacity per
//! agent, one pending offer and one owner per conversation) and samplers
//! of the database while the system runs.
//!
//! The replay orders events by `occurred_at` (stamped when staged, inside
//! the transaction). Every capacity-taking change (an offer, a pick) is
//! staged after a fresh check made while holding the agent's row lock, so
//! each capacity-freeing event it relied on was staged — and committed —
//! before: in this order a replayed load above capacity is a real
//! violation, never an artefact of publish order across replicas.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use livedesk_proto::EventType;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::routing::v1 as pb;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::OFFER_WITHDRAWN;

/// What the replay found.
#[derive(Debug, Default)]
pub struct Replay {
    pub violations: Vec<String>,
    pub max_load: HashMap<String, i64>,
    pub events: usize,
    pub offers: usize,
    pub assignments: usize,
    pub assigned_conversations: HashSet<String>,
}

fn offer_of(e: &EventEnvelope) -> Option<pb::Offer> {
    let p = e.payload.as_slice();
    match e.r#type.as_str() {
        t if t == pb::OfferCreated::TYPE => pb::OfferCreated::decode(p).ok()?.offer,
        t if t == pb::OfferAccepted::TYPE => pb::OfferAccepted::decode(p).ok()?.offer,
        t if t == pb::OfferDeclined::TYPE || t == OFFER_WITHDRAWN => {
            pb::OfferDeclined::decode(p).ok()?.offer
        }
        t if t == pb::OfferExpired::TYPE => pb::OfferExpired::decode(p).ok()?.offer,
        _ => None,
    }
}

fn at(e: &EventEnvelope) -> (i64, i32) {
    e.occurred_at
        .as_ref()
        .map_or((0, 0), |t| (t.seconds, t.nanos))
}

/// Replays `events` against the agents' capacities.
pub fn replay(mut events: Vec<EventEnvelope>, capacity: &HashMap<String, i64>) -> Replay {
    events.sort_by(|a, b| at(a).cmp(&at(b)).then_with(|| a.event_id.cmp(&b.event_id)));
    let mut r = Replay {
        events: events.len(),
        ..Default::default()
    };
    let mut load: HashMap<String, i64> = HashMap::new();
    let mut pending: HashMap<String, String> = HashMap::new(); // conversation → offer id
    let mut accepted: HashSet<(String, String)> = HashSet::new();
    let mut owner: HashMap<String, String> = HashMap::new();
    let mut bump = |r: &mut Replay, agent: &str, d: i64, why: &str| {
        let l = load.entry(agent.to_owned()).or_default();
        *l += d;
        let m = r.max_load.entry(agent.to_owned()).or_default();
        *m = (*m).max(*l);
        let cap = capacity.get(agent).copied().unwrap_or(i64::MAX);
        if *l > cap {
            r.violations
                .push(format!("{agent} over capacity ({l} > {cap}) after {why}"));
        }
        if *l < 0 {
            r.violations
                .push(format!("{agent} load negative after {why}"));
        }
    };
    for e in &events {
        let t = e.r#type.as_str();
        if let Some(o) = offer_of(e) {
            let conv = o.conversation_id.clone();
            if t == pb::OfferCreated::TYPE {
                r.offers += 1;
                if let Some(other) = pending.insert(conv.clone(), o.id.clone()) {
                    r.violations
                        .push(format!("{conv} offered twice at once ({other}, {})", o.id));
                }
                bump(&mut r, &o.agent_id, 1, "an offer");
            } else {
                if pending.get(&conv) == Some(&o.id) {
                    pending.remove(&conv);
                }
                if t == pb::OfferAccepted::TYPE {
                    accepted.insert((conv, o.agent_id.clone()));
                } else {
                    bump(&mut r, &o.agent_id, -1, t);
                }
            }
        } else if t == pb::ConversationAssigned::TYPE {
            let a = pb::ConversationAssigned::decode(e.payload.as_slice()).unwrap();
            r.assignments += 1;
            r.assigned_conversations.insert(a.conversation_id.clone());
            if !accepted.remove(&(a.conversation_id.clone(), a.agent_id.clone())) {
                bump(&mut r, &a.agent_id, 1, "a direct assignment");
            }
            if let Some(o) = owner.get(&a.conversation_id)
                && *o != a.previous_agent_id
            {
                r.violations.push(format!(
                    "{} owned by {o} and {} at once",
                    a.conversation_id, a.agent_id
                ));
            }
            owner.insert(a.conversation_id, a.agent_id);
        } else if t == pb::WrapUpStarted::TYPE {
            let w = pb::WrapUpStarted::decode(e.payload.as_slice()).unwrap();
            if owner.get(&w.conversation_id) == Some(&w.agent_id) {
                owner.remove(&w.conversation_id);
            }
        } else if t == pb::WrapUpSubmitted::TYPE {
            let w = pb::WrapUpSubmitted::decode(e.payload.as_slice())
                .unwrap()
                .wrap_up
                .unwrap_or_default();
            bump(&mut r, &w.agent_id, -1, "a wrap-up");
        }
    }
    r
}

/// The database samplers' findings.
#[derive(Debug, Default, Clone)]
pub struct Sampled {
    pub samples: usize,
    pub over_capacity: Vec<String>,
    pub double_offer: Vec<String>,
    pub double_owner: Vec<String>,
    /// Conversations that stayed waiting while an eligible agent was free
    /// in every sample for longer than the grace, with the duration.
    pub stuck: Vec<(String, Duration)>,
    pub longest_stuck: Duration,
    /// Stuck while no offer was pending anywhere (quiescent) for longer
    /// than one routing cycle.
    pub quiet_stuck: Vec<String>,
}

/// Load per agent and channel of the conversations (RTG-2).
macro_rules! channel_load {
    () => {
        "SELECT x.agent_id, routing_channel(e.channel) AS ch, count(*) AS n FROM ( \
           SELECT agent_id, conversation_id FROM offers WHERE status = 'pending' \
           UNION ALL SELECT agent_id, conversation_id FROM legs WHERE status <> 'done') x \
         LEFT JOIN queue_entries e ON e.conversation_id = x.conversation_id GROUP BY 1, 2"
    };
}
const OVER_CAPACITY: &str = concat!(
    "WITH l AS (",
    channel_load!(),
    ") SELECT DISTINCT l.agent_id AS id FROM l JOIN agents a ON a.id = l.agent_id WHERE l.n > a.capacities[l.ch]"
);
const DOUBLE_OFFER: &str = "SELECT conversation_id::text AS id FROM offers WHERE status = 'pending' \
     GROUP BY conversation_id HAVING count(*) > 1";
const DOUBLE_OWNER: &str = "SELECT conversation_id::text AS id FROM legs WHERE status = 'active' AND role = 'owner' \
     GROUP BY conversation_id HAVING count(*) > 1";
/// Waiting, unoffered conversations for which an eligible agent (member,
/// AVAILABLE, no next state, free capacity, not excluded) exists now.
pub const STUCK: &str = concat!(
    "WITH load AS (",
    channel_load!(),
    "), \
     free AS (SELECT a.id, m.queue_id, a.skills, s.ch FROM agents a \
       JOIN queue_members m ON m.org_id = a.org_id AND m.agent_id = a.id CROSS JOIN generate_series(1, 5) s(ch) \
       LEFT JOIN load l ON l.agent_id = a.id AND l.ch = s.ch \
       WHERE a.state = 'available' AND a.next_state IS NULL AND COALESCE(l.n, 0) < a.capacities[s.ch]) \
     SELECT e.conversation_id::text AS id, \
       NOT EXISTS (SELECT 1 FROM offers p WHERE p.status = 'pending') AS quiet \
     FROM queue_entries e JOIN queues q ON q.id = e.queue_id \
     WHERE e.status = 'queued' \
       AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = e.conversation_id AND o.status = 'pending') \
       AND EXISTS (SELECT 1 FROM free f WHERE f.queue_id = e.queue_id AND f.ch = routing_channel(e.channel) \
         AND q.required_skills <@ f.skills \
         AND NOT EXISTS (SELECT 1 FROM offers x WHERE x.conversation_id = e.conversation_id AND x.agent_id = f.id \
                         AND x.status IN ('declined', 'expired') AND x.created_at >= e.waiting_since))"
);

async fn ids(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.try_get::<String>("", "id").ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Samples the safety invariants every `every` and the liveness one
/// (nothing waits while an eligible agent is free) every `stuck_every`,
/// until `stop`; a conversation stuck in every sample for longer than
/// `grace` — or, at quiescent moments (no offer pending), longer than
/// `quiet_grace` — is a violation.
pub async fn sample(
    db: DatabaseConnection,
    every: Duration,
    stuck_every: Duration,
    grace: Duration,
    quiet_grace: Duration,
    stop: Arc<AtomicBool>,
) -> Sampled {
    let mut s = Sampled::default();
    let mut stuck_since: HashMap<String, Instant> = HashMap::new();
    let mut quiet_since: HashMap<String, Instant> = HashMap::new();
    let mut last_stuck = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        s.samples += 1;
        s.over_capacity.extend(ids(&db, OVER_CAPACITY).await);
        s.double_offer.extend(ids(&db, DOUBLE_OFFER).await);
        s.double_owner.extend(ids(&db, DOUBLE_OWNER).await);
        if last_stuck.elapsed() >= stuck_every {
            last_stuck = Instant::now();
            let rows = db
                .query_all_raw(Statement::from_string(DbBackend::Postgres, STUCK))
                .await
                .unwrap_or_default();
            let mut now = HashSet::new();
            for r in &rows {
                let id: String = r.try_get("", "id").unwrap_or_default();
                // The brief's quiescent check: no offer pending anywhere,
                // yet a waiting conversation has an eligible free agent.
                if r.try_get::<bool>("", "quiet").unwrap_or(false) {
                    let since = *quiet_since.entry(id.clone()).or_insert_with(Instant::now);
                    if since.elapsed() > quiet_grace && !s.quiet_stuck.contains(&id) {
                        s.quiet_stuck.push(id.clone());
                    }
                }
                now.insert(id);
            }
            quiet_since.retain(|id, _| now.contains(id));
            stuck_since.retain(|id, _| now.contains(id));
            for id in now {
                let since = *stuck_since.entry(id.clone()).or_insert_with(Instant::now);
                let d = since.elapsed();
                s.longest_stuck = s.longest_stuck.max(d);
                if d > grace && !s.stuck.iter().any(|(i, _)| *i == id) {
                    s.stuck.push((id, d));
                }
            }
        }
        tokio::time::sleep(every).await;
    }
    s
}
