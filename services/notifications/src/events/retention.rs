//! Feed retention: rows older than the configured number of days are
//! deleted, with the conversations that ended before then. Deletes are
//! idempotent, so every replica may run the sweep.
use livedesk_platform::Period;
use livedesk_platform::tasks::every;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::store::{Conversations, Feed};

const BATCH: i64 = 5000;

/// Sweeps every `period` (`RETENTION_SWEEP_SECS`) until shutdown.
pub async fn run_retention_sweep(
    db: DatabaseConnection,
    days: u32,
    period: Period,
    shutdown: CancellationToken,
) {
    let stop = shutdown.clone();
    every("feed_retention", period, shutdown, || async {
        sweep_once(&db, days, &stop).await.map(drop)
    })
    .await;
}

/// Deletes everything past retention, in batches; returns the feed rows deleted.
pub async fn sweep_once(
    db: &DatabaseConnection,
    days: u32,
    shutdown: &CancellationToken,
) -> Result<u64, sea_orm::DbErr> {
    let mut total = 0;
    loop {
        let n = Feed::sweep(db, days, BATCH).await?;
        total += n;
        if n < BATCH as u64 || shutdown.is_cancelled() {
            break;
        }
    }
    while Conversations::sweep(db, days, BATCH).await? >= BATCH as u64 && !shutdown.is_cancelled() {
    }
    if total > 0 {
        tracing::info!(deleted = total, "feed rows past retention deleted");
    }
    Ok(total)
}
