//! The announcement sweep (SCH-4): every period, each queue with an assigned
//! schedule is evaluated; a change of open state stages `QueueOpened` /
//! `QueueClosed`, and an opening that ends within the schedule's
//! `closing_soon_minutes` stages `QueueClosingSoon` once per closing
//! instant. Safe with several replicas: the database admits one announcer
//! (see the `announcements` store). Queues without an assignment follow the
//! org default (always open unless edited) and are not announced.
use chrono::{DateTime, Utc};
use livedesk_events::Outbox;
use livedesk_platform::Period;
use livedesk_proto::scheduling::v1 as pb;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_util::sync::CancellationToken;

use crate::cache::OrgCache;
use crate::domain::evaluate;
use crate::error::Error;
use crate::store::Announcements;

/// Runs every `period` (`LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS`) until
/// shutdown.
pub async fn run_sweep(
    db: DatabaseConnection,
    outbox: Outbox,
    cache: OrgCache,
    period: Period,
    shutdown: CancellationToken,
) {
    livedesk_platform::tasks::every("queue-announcements", period, shutdown, || {
        sweep_once(&db, &outbox, &cache)
    })
    .await;
}

fn chrono_of(t: jiff::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.as_second(), u32::try_from(t.subsec_nanosecond()).ok()?)
}

async fn sweep_once(
    db: &DatabaseConnection,
    outbox: &Outbox,
    cache: &OrgCache,
) -> Result<(), Error> {
    let now = jiff::Timestamp::now();
    for (org, queue) in Announcements::assigned_queues(db).await? {
        let snapshot = cache.get(org).await?;
        let schedule = snapshot.schedule_for(queue);
        let e = evaluate(&schedule, now);
        let before_assignment = evaluate(&snapshot.default_schedule(), now).open;
        let txn = db.begin().await?;
        let mut staged = Vec::new();
        if Announcements::record_state(&txn, org, queue, schedule.id, e.open, before_assignment)
            .await?
        {
            let (queue_id, schedule_id) = (queue.to_string(), schedule.id.to_string());
            staged.push(if e.open {
                outbox
                    .stage(
                        &txn,
                        org,
                        queue,
                        &pb::QueueOpened {
                            queue_id,
                            schedule_id,
                        },
                    )
                    .await?
            } else {
                outbox
                    .stage(
                        &txn,
                        org,
                        queue,
                        &pb::QueueClosed {
                            queue_id,
                            schedule_id,
                        },
                    )
                    .await?
            });
            tracing::info!(%org, %queue, open = e.open, "queue state announced");
        }
        let lead = i64::from(schedule.closing_soon_minutes) * 60;
        if let (true, Some(end)) = (e.open && lead > 0, e.current_interval_end)
            && end.as_second() - now.as_second() <= lead
            && let Some(closes_at) = chrono_of(end)
            && Announcements::claim_closing_soon(&txn, org, queue, closes_at).await?
        {
            let event = pb::QueueClosingSoon {
                queue_id: queue.to_string(),
                schedule_id: schedule.id.to_string(),
                closes_at: Some(livedesk_platform::time::to_proto(closes_at)),
                message: snapshot.settings.closing_soon().to_owned(),
            };
            staged.push(outbox.stage(&txn, org, queue, &event).await?);
            tracing::info!(%org, %queue, %closes_at, "closing soon announced");
        }
        txn.commit().await?;
        outbox.publish(staged).await;
    }
    Ok(())
}
