//! Natural close (CNV-13): a live conversation with no activity for its
//! org's `natural_close_days` is ended by the system (ended_by INACTIVITY;
//! RESOURCE_DELETED when it was interrupted, RTG-11). Safe with several
//! replicas: rows are claimed with `FOR UPDATE SKIP LOCKED` and ended by a
//! conditional UPDATE, so each conversation ends, and is announced, once.
use livedesk_events::Outbox;
use livedesk_platform::Period;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio_util::sync::CancellationToken;

use crate::domain::{EndedBy, Qualification, RequestStatus, Status};
use crate::store::{Conversations, EndChange};
use crate::views::ended_event;

/// Conversations ended per transaction.
const BATCH: u64 = 100;

/// Runs every `period` until shutdown; a tick ends batches until one is
/// not full.
pub async fn run_natural_close(
    db: DatabaseConnection,
    outbox: Outbox,
    period: Period,
    shutdown: CancellationToken,
) {
    livedesk_platform::tasks::every("natural_close", period, shutdown, || async {
        while sweep_once(&db, &outbox).await? as u64 == BATCH {}
        Ok::<(), DbErr>(())
    })
    .await;
}

/// Ends one batch of idle conversations; returns how many were claimed.
async fn sweep_once(db: &DatabaseConnection, outbox: &Outbox) -> Result<usize, DbErr> {
    let txn = db.begin().await?;
    let idle = Conversations::claim_idle(&txn, BATCH).await?;
    let mut staged = Vec::with_capacity(idle.len());
    for c in &idle {
        let change = EndChange {
            status: Status::Ended,
            ended_by: if c.interrupted {
                EndedBy::ResourceDeleted
            } else {
                EndedBy::Inactivity
            },
            by: "system".into(),
            request_status: RequestStatus::Closed,
            qualification: Qualification::default(),
        };
        if let Some(row) = Conversations::end(&txn, c.org_id, c.id, &change).await? {
            staged.push(
                outbox
                    .stage(&txn, c.org_id, c.id, &ended_event(&row))
                    .await?,
            );
            tracing::info!(conversation_id = %c.id, "conversation closed for inactivity");
        }
    }
    txn.commit().await?;
    outbox.publish(staged).await;
    Ok(idle.len())
}
