//! Background loops, safe with any number of replicas (rows are claimed
//! with `FOR UPDATE SKIP LOCKED`) and driven by the database, so they
//! survive restarts: offer expiry (RTG-5), auto wrap-up (RTG-9) and the
//! periodic routing pass (RTG-6's safety net).
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use livedesk_proto::routing::v1::OfferExpired;
use sea_orm::{DbErr, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Router, finish_wrap_up, stage_state_change};
use crate::domain::AgentState;
use crate::grpc::offer_view;
use crate::store::{Agents, Legs, Offers, Queues};

const CLAIM: u64 = 100;

async fn every<F, Fut>(
    period: Duration,
    shutdown: CancellationToken,
    what: &'static str,
    mut tick: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), DbErr>>,
{
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        if let Err(e) = tick().await {
            tracing::warn!(sweep = what, error = %e, "sweep failed");
        }
    }
}

/// Expires unanswered offers: the agent goes to RONA and the conversation
/// is re-offered at once (RTG-5).
pub async fn run_offer_expiry(router: Router, period: Duration, shutdown: CancellationToken) {
    every(period, shutdown, "offer_expiry", || expire_offers(&router)).await;
}

async fn expire_offers(router: &Router) -> Result<(), DbErr> {
    loop {
        let txn = router.db.begin().await?;
        let expired = Offers::claim_expired(&txn, CLAIM).await?;
        if expired.is_empty() {
            txn.rollback().await?;
            return Ok(());
        }
        let mut staged = Vec::new();
        let mut queues = BTreeSet::new();
        for offer in &expired {
            if Agents::to_rona(&txn, offer.org_id, &offer.agent_id).await? {
                let (from, to) = (AgentState::Available.as_i32(), AgentState::Rona.as_i32());
                staged.push(
                    stage_state_change(
                        &router.outbox,
                        &txn,
                        offer.org_id,
                        &offer.agent_id,
                        from,
                        to,
                        "",
                        "system",
                    )
                    .await?,
                );
            }
            staged.push(
                router
                    .outbox
                    .stage(
                        &txn,
                        offer.org_id,
                        offer.conversation_id,
                        &OfferExpired {
                            offer: Some(offer_view(offer)),
                        },
                    )
                    .await?,
            );
            queues.insert((offer.org_id, offer.queue_id));
            tracing::info!(org = %offer.org_id, conversation_id = %offer.conversation_id, agent_id = %offer.agent_id, "offer expired, agent in rona");
        }
        txn.commit().await?;
        router.outbox.publish(staged).await;
        route_each(router, queues).await;
    }
}

/// Closes wrap-ups whose deadline passed, recorded as automatic (RTG-9).
pub async fn run_wrap_up_expiry(router: Router, period: Duration, shutdown: CancellationToken) {
    every(period, shutdown, "wrap_up_expiry", || {
        close_overdue_wrap_ups(&router)
    })
    .await;
}

async fn close_overdue_wrap_ups(router: &Router) -> Result<(), DbErr> {
    loop {
        let txn = router.db.begin().await?;
        let legs = Legs::claim_overdue(&txn, CLAIM).await?;
        if legs.is_empty() {
            txn.rollback().await?;
            return Ok(());
        }
        let mut staged = Vec::new();
        let mut orgs = BTreeSet::new();
        for leg in &legs {
            staged.extend(finish_wrap_up(&router.outbox, &txn, leg).await?);
            orgs.insert(leg.org_id);
        }
        txn.commit().await?;
        router.outbox.publish(staged).await;
        for org in orgs {
            router.route_org(org).await;
        }
    }
}

/// Routes every queue that has waiting conversations without an offer:
/// whatever an event or RPC missed is picked up within one period (RTG-6).
pub async fn run_routing_sweep(router: Router, period: Duration, shutdown: CancellationToken) {
    every(period, shutdown, "routing", || async {
        let queues = Queues::with_unoffered_waiting(&router.db, 1000).await?;
        route_each(&router, queues.into_iter().collect()).await;
        Ok(())
    })
    .await;
}

async fn route_each(router: &Router, queues: BTreeSet<(Uuid, Uuid)>) {
    for (org, queue) in queues {
        router.route_queues(org, &[queue]).await;
    }
}
