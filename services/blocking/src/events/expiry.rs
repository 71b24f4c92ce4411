//! Announces expired blocks (BLK-8) so caches elsewhere drop them. The
//! blocks stop applying at `expires_at` regardless: every check compares
//! with the clock; the event only tells caches and reports.
use chrono::Utc;
use livedesk_events::Outbox;
use livedesk_platform::Period;
use livedesk_proto::blocking::v1::BlockExpired;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_util::sync::CancellationToken;

use crate::store::Blocks;
use crate::views::block as block_view;

/// Runs every `period` (`LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS`) until
/// shutdown; safe with several replicas (expired blocks are claimed).
pub async fn run_expiry_sweep(
    db: DatabaseConnection,
    outbox: Outbox,
    period: Period,
    shutdown: CancellationToken,
) {
    livedesk_platform::tasks::every("block-expiry", period, shutdown, || {
        sweep_once(&db, &outbox)
    })
    .await;
}

async fn sweep_once(db: &DatabaseConnection, outbox: &Outbox) -> Result<(), crate::error::Error> {
    let txn = db.begin().await?;
    let expired = Blocks::claim_expired(&txn, 100).await?;
    let now = Utc::now();
    let mut staged = Vec::with_capacity(expired.len());
    for row in &expired {
        Blocks::audit(&txn, row.id, row.org_id, "expire", "system", "").await?;
        staged.push(
            outbox
                .stage(
                    &txn,
                    row.org_id,
                    row.id,
                    &BlockExpired {
                        block: Some(block_view(row, now, false)),
                    },
                )
                .await?,
        );
    }
    txn.commit().await?;
    outbox.publish(staged).await;
    Ok(())
}
