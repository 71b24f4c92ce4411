//! The routing cycle (RTG-4, RTG-6): queued conversations become offers to
//! one eligible agent at a time, correct with several replicas.
//!
//! One transaction per batch: claim the best waiting entries without a
//! pending offer (`FOR UPDATE SKIP LOCKED`, priority then age), rank the
//! queue's candidates with the pure [`rank`], lock the chosen agent
//! (`SKIP LOCKED`, else try the next) and re-check eligibility in a fresh
//! statement — which sees every offer committed before the lock was
//! obtained — so capacity decisions serialize per agent. The partial
//! unique index on pending offers is the last guard.
use livedesk_events::Outbox;
use livedesk_proto::routing::v1::OfferCreated;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use uuid::Uuid;

use crate::domain::{Strategy, is_eligible, rank};
use crate::grpc::offer_view;
use crate::store::{Agents, Entries, Offers, Queues};

/// Entries examined per transaction.
const BATCH: u64 = 20;

/// Runs routing cycles and publishes what they stage.
#[derive(Clone)]
pub struct Router {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
}

impl Router {
    /// A router over this service's database and outbox.
    pub fn new(db: DatabaseConnection, outbox: Outbox) -> Self {
        Self { db, outbox }
    }

    /// Offers waiting conversations of `queue` until nothing matches;
    /// returns how many offers were made.
    pub async fn route_queue(&self, org: Uuid, queue: Uuid) -> Result<usize, DbErr> {
        let mut total = 0;
        loop {
            let made = self.route_batch(org, queue).await?;
            total += made;
            if made == 0 {
                return Ok(total);
            }
        }
    }

    /// Routes every queue of the org with waiting conversations.
    pub async fn route_org(&self, org: Uuid) {
        match Entries::waiting_queues(&self.db, org).await {
            Ok(queues) => self.route_queues(org, &queues).await,
            Err(e) => tracing::warn!(%org, error = %e, "could not list waiting queues"),
        }
    }

    /// Routes each of `queues`, logging failures (the periodic sweep
    /// retries whatever is left).
    pub async fn route_queues(&self, org: Uuid, queues: &[Uuid]) {
        for q in queues {
            if let Err(e) = self.route_queue(org, *q).await {
                tracing::warn!(%org, queue_id = %q, error = %e, "routing failed, the sweep will retry");
            }
        }
    }

    async fn route_batch(&self, org: Uuid, queue_id: Uuid) -> Result<usize, DbErr> {
        let txn = self.db.begin().await?;
        let Some(queue) = Queues::get(&txn, org, queue_id).await? else {
            txn.rollback().await?;
            return Ok(0);
        };
        let entries = Entries::claim_unoffered(&txn, org, queue_id, BATCH).await?;
        let strategy = Strategy::from_i32(queue.strategy);
        let mut staged = Vec::new();
        for entry in &entries {
            let candidates =
                Agents::candidates(&txn, org, queue_id, entry.conversation_id, None).await?;
            if candidates.is_empty() {
                // Nobody AVAILABLE in this queue: later entries fare no better.
                break;
            }
            let mut ranked = rank(strategy, &candidates, &queue.required_skills);
            // A resumed conversation goes back to its agent first (CNV-12).
            if let Some(preferred) = &entry.preferred_agent_id
                && let Some(i) = ranked.iter().position(|c| &c.agent_id == preferred)
            {
                let c = ranked.remove(i);
                ranked.insert(0, c);
            }
            for candidate in ranked {
                if !Agents::try_lock(&txn, org, &candidate.agent_id).await? {
                    continue; // another replica is deciding for this agent
                }
                let fresh = Agents::candidates(
                    &txn,
                    org,
                    queue_id,
                    entry.conversation_id,
                    Some(&candidate.agent_id),
                )
                .await?;
                if !fresh
                    .first()
                    .is_some_and(|c| is_eligible(c, &queue.required_skills))
                {
                    continue;
                }
                let Some(offer) = Offers::insert(
                    &txn,
                    org,
                    entry.conversation_id,
                    &candidate.agent_id,
                    queue_id,
                    queue.offer_timeout_seconds,
                )
                .await?
                else {
                    break; // offered meanwhile by another replica
                };
                Agents::mark_offered(&txn, org, &candidate.agent_id).await?;
                staged.push(
                    self.outbox
                        .stage(
                            &txn,
                            org,
                            entry.conversation_id,
                            &OfferCreated {
                                offer: Some(offer_view(&offer)),
                            },
                        )
                        .await?,
                );
                tracing::info!(%org, conversation_id = %entry.conversation_id, agent_id = %candidate.agent_id, "offer created");
                break;
            }
        }
        txn.commit().await?;
        let made = staged.len();
        self.outbox.publish(staged).await;
        Ok(made)
    }
}
