//! The sweeps that drive the engine on a period, safe with any number of
//! replicas and driven by the database, so they survive restarts: offer
//! expiry (RTG-5), max wait (RTG-13), the offline-form offer (SCH-8), auto
//! wrap-up (RTG-9), queue positions (RTG-15) and the periodic routing pass
//! (RTG-6's safety net). Each runs in the one periodic loop
//! [`every`], its period from configuration (`LIVEDESK_ROUTING__*_MS`).
use std::collections::BTreeSet;

use livedesk_platform::Period;
use livedesk_platform::tasks::every;
use livedesk_platform::time::to_proto;
use livedesk_proto::routing::v1 as pb;
use sea_orm::{DbErr, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Followup, Router, Unanswered, after_unanswered, finish_wrap_up, stage_abandoned};
use crate::domain::{THROUGHPUT_WINDOW_SECONDS, estimate_wait, should_push};
use crate::store::{Entries, Legs, Offers, Positions, Queues};

const CLAIM: u64 = 100;

/// Expires unanswered offers: the agent goes to RONA and the conversation
/// is re-offered at once (RTG-5); a direct transfer fails per its queue's
/// policy (RTG-7); a conference invitation is declined (RTG-8).
pub async fn run_offer_expiry(router: Router, period: Period, shutdown: CancellationToken) {
    every("offer_expiry", period, shutdown, || expire_offers(&router)).await;
}

async fn expire_offers(router: &Router) -> Result<(), DbErr> {
    let due = Offers::due(&router.db, CLAIM).await?;
    let mut followup = Followup::default();
    for (org, conv) in due {
        // One short transaction per offer, entry lock first (the lock
        // order of every path); an entry another replica holds is left
        // for the next tick.
        let txn = router.db.begin().await?;
        if Entries::try_lock(&txn, org, conv).await?.is_none() {
            txn.rollback().await?;
            continue;
        }
        let Some(offer) = Offers::expire(&txn, org, conv).await? else {
            txn.rollback().await?;
            continue;
        };
        let out = after_unanswered(&router.outbox, &txn, &offer, Unanswered::Expired).await?;
        txn.commit().await?;
        tracing::info!(%org, conversation_id = %conv, agent_id = %offer.agent_id, "offer expired, agent in rona");
        router.outbox.publish(out.staged).await;
        followup.route.extend(out.route);
    }
    router.finish(followup).await;
    Ok(())
}

/// Abandons waiting conversations older than their queue's max wait
/// (RTG-13): `ConversationAbandoned{reason: "max_wait"}`; a pending offer
/// is withdrawn and its agent's capacity freed.
pub async fn run_max_wait(router: Router, period: Period, shutdown: CancellationToken) {
    every("max_wait", period, shutdown, || abandon_overdue(&router)).await;
}

async fn abandon_overdue(router: &Router) -> Result<(), DbErr> {
    loop {
        let txn = router.db.begin().await?;
        let rows = Entries::abandon_overdue(&txn, CLAIM).await?;
        if rows.is_empty() {
            txn.rollback().await?;
            return Ok(());
        }
        let mut followup = Followup::default();
        for row in &rows {
            let (org, conv) = (row.org_id, row.conversation_id);
            if let Some(offer) = Offers::withdraw(&txn, org, conv, "abandoned").await? {
                let how = Unanswered::Withdrawn {
                    reason: "abandoned",
                    consequences: false,
                };
                followup.extend(after_unanswered(&router.outbox, &txn, &offer, how).await?);
            }
            if let Some(entry) = Entries::get(&txn, org, conv).await? {
                followup
                    .staged
                    .push(stage_abandoned(&router.outbox, &txn, &entry, "max_wait").await?);
            }
            tracing::info!(%org, conversation_id = %conv, queue_id = %row.queue_id, "max wait reached, abandoned");
        }
        txn.commit().await?;
        router.finish(followup).await;
    }
}

/// Offers the offline form to customers still waiting after their
/// queue's `offer_form_after_seconds` (SCH-8): `OfflineFormOffered`, once
/// per wait; the conversation stays queued.
pub async fn run_form_offers(router: Router, period: Period, shutdown: CancellationToken) {
    every("form_offers", period, shutdown, || offer_forms(&router)).await;
}

async fn offer_forms(router: &Router) -> Result<(), DbErr> {
    loop {
        let txn = router.db.begin().await?;
        let rows = Entries::offer_form_overdue(&txn, CLAIM).await?;
        if rows.is_empty() {
            txn.rollback().await?;
            return Ok(());
        }
        let mut staged = Vec::with_capacity(rows.len());
        for row in &rows {
            let waited = (row.form_offered_at - row.waiting_since)
                .num_seconds()
                .max(0);
            let e = pb::OfflineFormOffered {
                conversation_id: row.conversation_id.to_string(),
                queue_id: row.queue_id.to_string(),
                customer_principal_id: row.customer_principal_id.clone(),
                waited_seconds: u32::try_from(waited).unwrap_or(u32::MAX),
                waiting_since: Some(to_proto(row.waiting_since)),
                offered_at: Some(to_proto(row.form_offered_at)),
            };
            staged.push(
                router
                    .outbox
                    .stage(&txn, row.org_id, row.conversation_id, &e)
                    .await?,
            );
            tracing::info!(org = %row.org_id, conversation_id = %row.conversation_id, queue_id = %row.queue_id, "offline form offered");
        }
        txn.commit().await?;
        router.outbox.publish(staged).await;
    }
}

/// Closes wrap-ups whose deadline passed, recorded as automatic (RTG-9).
pub async fn run_wrap_up_expiry(router: Router, period: Period, shutdown: CancellationToken) {
    every("wrap_up_expiry", period, shutdown, || {
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
            router.kick_org(org);
        }
    }
}

/// Routes every queue that has waiting conversations without an offer:
/// whatever an event or RPC missed is picked up within one period (RTG-6).
pub async fn run_routing_sweep(router: Router, period: Period, shutdown: CancellationToken) {
    every("routing", period, shutdown, || async {
        let queues = Queues::with_unoffered_waiting(&router.db, 1000).await?;
        let queues: BTreeSet<_> = queues.into_iter().collect();
        for (org, queue) in queues {
            router.kick_queues(org, &[queue]);
        }
        Ok::<(), DbErr>(())
    })
    .await;
}

/// Pushes positions to waiting customers (RTG-15): each period, every
/// queue whose order changed (an enqueue, an assignment, an abandon, a
/// transfer) is re-ranked in one statement, and `QueuePositionChanged` is
/// published for each customer whose position moved enough to tell
/// ([`should_push`]: every move near the head, steps of a tenth further
/// back). One replica per queue per period claims the turn.
pub async fn run_positions(router: Router, period: Period, shutdown: CancellationToken) {
    let period_ms = i64::try_from(period.get().as_millis()).unwrap_or(i64::MAX);
    every("positions", period, shutdown, || {
        push_positions(&router, period_ms)
    })
    .await;
}

async fn push_positions(router: &Router, period_ms: i64) -> Result<(), DbErr> {
    for (org, queue) in Positions::queues(&router.db, 1000).await? {
        let txn = router.db.begin().await?;
        if !Positions::claim_turn(&txn, queue, period_ms).await? {
            txn.rollback().await?;
            continue;
        }
        let moved = Positions::moved(&txn, org, queue).await?;
        let push: Vec<(Uuid, u32)> = moved
            .into_iter()
            .filter_map(|(conv, now, last)| {
                let now = u32::try_from(now).ok()?;
                should_push(last.and_then(|l| u32::try_from(l).ok()), now).then_some((conv, now))
            })
            .collect();
        if push.is_empty() {
            txn.commit().await?;
            continue;
        }
        let recent = Legs::recent_assignments(&txn, org, queue, THROUGHPUT_WINDOW_SECONDS).await?;
        let recent = u32::try_from(recent).unwrap_or(u32::MAX);
        let mut staged = Vec::with_capacity(push.len());
        for (conv, position) in &push {
            let e = pb::QueuePositionChanged {
                position: Some(pb::QueuePosition {
                    conversation_id: conv.to_string(),
                    position: *position,
                    estimated_wait_seconds: estimate_wait(
                        *position,
                        recent,
                        THROUGHPUT_WINDOW_SECONDS,
                    ),
                }),
            };
            staged.push(router.outbox.stage(&txn, org, *conv, &e).await?);
        }
        let record: Vec<(Uuid, i32)> = push
            .iter()
            .map(|(c, p)| (*c, i32::try_from(*p).unwrap_or(i32::MAX)))
            .collect();
        Positions::record(&txn, org, queue, &record).await?;
        txn.commit().await?;
        router.outbox.publish(staged).await;
    }
    Ok(())
}
