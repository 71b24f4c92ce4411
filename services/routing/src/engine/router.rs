//! The routing cycle (RTG-4, RTG-6): queued conversations become offers to
//! one eligible agent at a time, correct with several replicas.
//!
//! One transaction per batch: load the queue's AVAILABLE members below
//! capacity once (none → nothing to do, cheaply), claim the best waiting
//! entries without a pending offer (`FOR UPDATE SKIP LOCKED`, RTG-4
//! order), rank the candidates with the pure [`rank_preferring`], lock the
//! best-ranked agent no other transaction holds (one `SKIP LOCKED` round
//! trip over the ranked list) and re-check its eligibility in a fresh
//! statement — which sees every offer committed before the lock was
//! obtained — so capacity decisions serialize per agent. The partial
//! unique index on pending offers is the last guard.
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livedesk_events::Outbox;
use livedesk_proto::routing::v1::OfferCreated;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Followup, Unanswered, after_unanswered, stage_abandoned};
use crate::domain::{Channel, OfferKind, is_eligible, rank_preferring};
use crate::store::{Agents, Entries, NewOffer, Offers, Queues};
use crate::views;

/// Entries examined per transaction.
const BATCH: u64 = 20;
/// Agents tried per locking round trip.
const LOCK_WINDOW: usize = 64;
/// Pause before looking again at a queue whose agents another replica
/// held: its transaction is short. A back-off after contention, not the
/// period of a task (the periodic routing pass is `ROUTING_SWEEP_MS`), so
/// it is not configuration: it only spaces retries of a queue that was
/// just found contended.
const CONTENDED_PAUSE: Duration = Duration::from_millis(10);

/// Runs routing cycles and publishes what they stage.
///
/// Whatever may make an offer possible (a new waiting conversation, freed
/// capacity, an agent becoming AVAILABLE) *kicks* the queues concerned;
/// one worker per replica ([`Router::run`]) routes kicked queues, so a
/// burst of events coalesces into a few passes and no RPC or consumer
/// waits for routing. The periodic sweep covers a kick lost in a crash.
#[derive(Clone)]
pub struct Router {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    kicks: Arc<Kicks>,
}

#[derive(Default)]
struct Kicks {
    /// (org, queue); the nil queue means every waiting queue of the org.
    dirty: Mutex<BTreeSet<(Uuid, Uuid)>>,
    wake: Notify,
}

struct BatchOutcome {
    made: usize,
    /// An agent was skipped because another transaction held it.
    contended: bool,
}

impl Router {
    /// A router over this service's database and outbox.
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self {
            db,
            outbox,
            kicks: Arc::default(),
        }
    }

    /// Publishes a committed followup, then kicks its queues.
    pub async fn finish(&self, followup: Followup) {
        self.outbox.publish(followup.staged).await;
        for (org, queue) in followup.route {
            self.kick_queues(org, &[queue]);
        }
    }

    /// Asks for `queues` to be routed soon.
    pub fn kick_queues(&self, org: Uuid, queues: &[Uuid]) {
        if let Ok(mut d) = self.kicks.dirty.lock() {
            d.extend(queues.iter().map(|q| (org, *q)));
        }
        self.kicks.wake.notify_one();
    }

    /// Asks for every waiting queue of the org to be routed soon.
    pub fn kick_org(&self, org: Uuid) {
        self.kick_queues(org, &[Uuid::nil()]);
    }

    /// The routing worker: routes kicked queues until shutdown.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.kicks.wake.notified() => {}
            }
            loop {
                let batch = match self.kicks.dirty.lock() {
                    Ok(mut d) => std::mem::take(&mut *d),
                    Err(_) => BTreeSet::new(),
                };
                if batch.is_empty() {
                    break;
                }
                let mut contended = Vec::new();
                for (org, queue) in self.expand(batch).await {
                    match self.route_queue(org, queue).await {
                        Ok(true) => contended.push((org, queue)),
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(%org, queue_id = %queue, error = %e, "routing failed, the sweep will retry");
                        }
                    }
                }
                if !contended.is_empty() {
                    // Another replica held the agents we wanted; once it
                    // commits they may still have room (RTG-6: nothing
                    // waits while an eligible agent is free).
                    tokio::time::sleep(CONTENDED_PAUSE).await;
                    if let Ok(mut d) = self.kicks.dirty.lock() {
                        d.extend(contended);
                    }
                }
            }
        }
    }

    async fn expand(&self, batch: BTreeSet<(Uuid, Uuid)>) -> BTreeSet<(Uuid, Uuid)> {
        let mut out = BTreeSet::new();
        for (org, queue) in batch {
            if !queue.is_nil() {
                out.insert((org, queue));
                continue;
            }
            match Entries::waiting_queues(&self.db, org).await {
                Ok(qs) => out.extend(qs.into_iter().map(|q| (org, q))),
                Err(e) => tracing::warn!(%org, error = %e, "could not list waiting queues"),
            }
        }
        out
    }

    /// Offers waiting conversations of `queue` until nothing matches;
    /// returns whether an agent was skipped because another transaction
    /// held it.
    pub async fn route_queue(&self, org: Uuid, queue: Uuid) -> Result<bool, DbErr> {
        loop {
            let out = self.route_batch(org, queue).await?;
            if out.made == 0 {
                return Ok(out.contended);
            }
        }
    }

    async fn route_batch(&self, org: Uuid, queue_id: Uuid) -> Result<BatchOutcome, DbErr> {
        let mut out = BatchOutcome {
            made: 0,
            contended: false,
        };
        let txn = self.db.begin().await?;
        let Some(queue) = Queues::get(&txn, org, queue_id).await? else {
            txn.rollback().await?;
            self.abandon_orphans(org, queue_id).await?;
            return Ok(out);
        };
        let mut candidates = Agents::candidates(&txn, org, queue_id).await?;
        if candidates.is_empty() {
            txn.rollback().await?;
            return Ok(out); // nobody free in this queue
        }
        let entries = Entries::claim_unoffered(&txn, org, queue_id, BATCH).await?;
        let ids: Vec<Uuid> = entries.iter().map(|e| e.conversation_id).collect();
        let mut excluded: HashMap<Uuid, HashSet<String>> = HashMap::new();
        for (conv, agent) in Offers::excluded(&txn, &ids).await? {
            excluded.entry(conv).or_default().insert(agent);
        }
        let strategy = queue.strategy;
        let mut staged = Vec::new();
        // Agents locked by this transaction. Once locked, nobody else can
        // add to their load until commit (every capacity-taking path locks
        // the agent), so the in-memory load after the fresh re-check is
        // exact or conservative for the rest of the batch.
        let mut locked: HashSet<String> = HashSet::new();
        let mut offered: Vec<String> = Vec::new();
        let none = HashSet::new();
        for entry in &entries {
            let ex = excluded.get(&entry.conversation_id).unwrap_or(&none);
            // Capacity is counted on the conversation's channel (RTG-2).
            let channel = Channel::of_conversation(entry.channel);
            for c in &mut candidates {
                c.excluded = ex.contains(&c.agent_id);
            }
            let order: Vec<String> = rank_preferring(
                strategy,
                &candidates,
                channel,
                &queue.required_skills,
                entry.preferred_agent_id.as_deref(),
            )
            .iter()
            .map(|c| c.agent_id.clone())
            .collect();
            let mut next = 0;
            while let Some(first) = order.get(next) {
                let agent_id = if locked.contains(first) {
                    next += 1;
                    first.clone()
                } else {
                    // The agents ranked before the best one this transaction
                    // already holds: lock the first free one in one round
                    // trip, so replicas skip each other's agents quickly.
                    let ahead: Vec<String> = order[next..]
                        .iter()
                        .take_while(|a| !locked.contains(*a))
                        .take(LOCK_WINDOW)
                        .cloned()
                        .collect();
                    let Some(a) = Agents::lock_first(&txn, org, &ahead).await? else {
                        out.contended = true;
                        next += ahead.len();
                        continue;
                    };
                    let at = ahead.iter().position(|x| *x == a).unwrap_or(0);
                    out.contended |= at > 0;
                    next += at + 1;
                    locked.insert(a.clone());
                    let fresh = Agents::member_candidate(&txn, org, queue_id, &a).await?;
                    match (fresh, candidates.iter_mut().find(|c| c.agent_id == a)) {
                        (Some(f), Some(c)) => {
                            c.loads = f.loads;
                            c.state = f.state;
                            c.has_next_state = f.has_next_state;
                            c.member = f.member;
                            c.capacities = f.capacities;
                        }
                        (_, Some(c)) => c.member = false,
                        _ => {}
                    }
                    a
                };
                let Some(c) = candidates.iter().find(|c| c.agent_id == agent_id) else {
                    continue;
                };
                if !is_eligible(c, channel, &queue.required_skills) {
                    continue;
                }
                let new = NewOffer {
                    org,
                    conversation: entry.conversation_id,
                    agent: &agent_id,
                    queue: queue_id,
                    timeout_seconds: queue.offer_timeout_seconds,
                    kind: OfferKind::Queue,
                    from_agent: "",
                    note: "",
                };
                let Some(offer) = Offers::insert(&txn, &new).await? else {
                    break; // offered meanwhile by another replica
                };
                if let Some(c) = candidates.iter_mut().find(|c| c.agent_id == agent_id) {
                    c.add_load(channel);
                    c.last_offered_at = Some(chrono::Utc::now());
                }
                offered.push(agent_id.clone());
                let e = OfferCreated {
                    offer: Some(views::offer(&offer)),
                };
                staged.push(
                    self.outbox
                        .stage(&txn, org, entry.conversation_id, &e)
                        .await?,
                );
                tracing::debug!(%org, conversation_id = %entry.conversation_id, agent_id = %agent_id, "offer created");
                break;
            }
            if candidates.iter().all(|c| !c.member || c.is_full()) {
                break; // everyone is full on every channel: later entries fare no better
            }
        }
        offered.sort();
        offered.dedup();
        Agents::mark_offered(&txn, org, &offered).await?;
        txn.commit().await?;
        out.made = staged.len();
        self.outbox.publish(staged).await;
        Ok(out)
    }

    /// Waiting entries of a queue that no longer exists (deleted while an
    /// event or a transfer was moving them in) are abandoned (RTG-11).
    async fn abandon_orphans(&self, org: Uuid, queue: Uuid) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        let mut followup = Followup::default();
        for conv in Entries::of_queue(&txn, org, queue, &["queued"]).await? {
            let Some(entry) = Entries::try_lock(&txn, org, conv).await? else {
                continue;
            };
            if entry.status != "queued"
                || !Entries::transition(&txn, org, conv, "queued", "abandoned").await?
            {
                continue;
            }
            if let Some(offer) = Offers::withdraw(&txn, org, conv, "queue_deleted").await? {
                let how = Unanswered::Withdrawn {
                    reason: "queue_deleted",
                    consequences: false,
                };
                followup.extend(after_unanswered(&self.outbox, &txn, &offer, how).await?);
            }
            followup
                .staged
                .push(stage_abandoned(&self.outbox, &txn, &entry, "queue_deleted").await?);
        }
        txn.commit().await?;
        followup.route.retain(|(_, q)| *q != queue);
        self.finish(followup).await;
        Ok(())
    }
}
