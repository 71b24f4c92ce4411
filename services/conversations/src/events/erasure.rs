//! Erasure (PRV-2) and retention (PRV-3) on the conversations side.
//!
//! [`ErasureEvents`] consumes this service's own stream and every other
//! service's: `CustomerErasureRequested` redacts this service's share and
//! answers `CustomerErased`; each service's `CustomerErased` is recorded so
//! `GetErasure` lists it. [`run_retention`] claims conversations past their
//! org's retention period and erases them through the same event.
use std::sync::Arc;

use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged};
use livedesk_platform::Period;
use livedesk_proto::common::v1::IdentityKind;
use livedesk_proto::privacy::v1::{CustomerErased, CustomerErasureRequested};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::Privacy;

/// This service's name in `CustomerErased`.
const SERVICE: &str = "conversations";

/// Handles erasure requests and completions.
pub struct ErasureEvents {
    pub outbox: Outbox,
    /// Attachment objects are deleted with their metadata.
    pub attachments: Arc<dyn ObjectStore>,
}

/// The erasure id, conversation ids and identities of a request.
type Parsed = (Uuid, Vec<Uuid>, Vec<(IdentityKind, String)>);

/// Parses the request's conversation ids and identities; anything
/// malformed is a permanent failure (dead-lettered, never half applied).
fn parse_request(e: &CustomerErasureRequested) -> Result<Parsed, HandlerError> {
    let erasure = Uuid::parse_str(&e.erasure_id)
        .map_err(|_| HandlerError::permanent("erasure_id is not a UUID"))?;
    let ids = e
        .conversation_ids
        .iter()
        .map(|s| Uuid::parse_str(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| HandlerError::permanent("conversation_ids: not a UUID"))?;
    let identities = livedesk_platform::identity::normalize_all(&e.identities)
        .map_err(|v| HandlerError::permanent(format!("identities: {v:?}")))?;
    Ok((erasure, ids, identities))
}

impl EventHandler for ErasureEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let org = event.org_id;
        if let Some(done) = event.payload::<CustomerErased>() {
            let done = done?;
            if let Ok(id) = Uuid::parse_str(&done.erasure_id) {
                Privacy::complete(txn, org, id, &done.service).await?;
            }
            return Ok(vec![]);
        }
        let Some(req) = event.payload::<CustomerErasureRequested>() else {
            return Ok(vec![]);
        };
        let req = req?;
        let (erasure, ids, identities) = parse_request(&req)?;
        // Objects first: if the transaction then fails, the retry finds
        // the rows again and deletes what is left (a missing object is fine).
        for path in Privacy::attachment_paths(txn, org, &ids).await? {
            match self.attachments.delete(&Path::from(path.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(HandlerError::transient(format!("object store: {e}"))),
            }
        }
        Privacy::redact(txn, org, &ids, &identities).await?;
        tracing::info!(erasure_id = %erasure, conversations = ids.len(), "customer data erased");
        let done = CustomerErased {
            erasure_id: erasure.to_string(),
            service: SERVICE.into(),
        };
        Ok(vec![self.outbox.stage(txn, org, erasure, &done).await?])
    }
}

/// Conversations purged per erasure (one event each).
const BATCH: u64 = 200;

/// Runs the retention sweep every `period` until shutdown (PRV-3).
pub async fn run_retention(
    db: DatabaseConnection,
    outbox: Outbox,
    period: Period,
    shutdown: CancellationToken,
) {
    livedesk_platform::tasks::every("retention", period, shutdown, || async {
        sweep(&db, &outbox).await.map(|_| ())
    })
    .await;
}

/// Erases every org's conversations past retention, in batches.
pub async fn sweep(db: &DatabaseConnection, outbox: &Outbox) -> Result<usize, DbErr> {
    let mut total = 0;
    for org in Privacy::orgs_with_retention(db).await? {
        loop {
            let txn = db.begin().await?;
            let erasure = Uuid::now_v7();
            let Some(claimed) = Privacy::claim_expired(&txn, org, erasure, BATCH).await? else {
                txn.rollback().await?;
                break;
            };
            let ids = claimed.conversation_ids;
            Privacy::record(
                &txn,
                erasure,
                claimed.org_id,
                "retention",
                "system",
                &[],
                &ids,
            )
            .await?;
            let event = CustomerErasureRequested {
                erasure_id: erasure.to_string(),
                identities: vec![],
                conversation_ids: ids.iter().map(Uuid::to_string).collect(),
                form_submission_ids: vec![],
                request_ids: Privacy::requests_of(&txn, org, &ids, &[])
                    .await?
                    .iter()
                    .map(Uuid::to_string)
                    .collect(),
            };
            let staged = outbox.stage(&txn, org, erasure, &event).await?;
            txn.commit().await?;
            outbox.publish(vec![staged]).await;
            tracing::info!(erasure_id = %erasure, conversations = ids.len(), "retention purge requested");
            total += ids.len();
            if (ids.len() as u64) < BATCH {
                break;
            }
        }
    }
    Ok(total)
}
