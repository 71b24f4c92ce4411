//! Erasure of the notifications service's share (PRV-2, PRV-3): on
//! `CustomerErasureRequested` it deletes the feed rows and memberships and redacts the email deliveries, then answers `CustomerErased`.
//! Only the named identities and conversations of the event's org are
//! touched; a redelivered event finds nothing more to change.
use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged};
use livedesk_proto::privacy::v1::{CustomerErased, CustomerErasureRequested};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::store::SubjectData;

/// This service's name in `CustomerErased`.
const SERVICE: &str = "notifications";

/// Consumes `CustomerErasureRequested` from the conversations stream.
pub struct ErasureEvents {
    pub outbox: Outbox,
}

impl EventHandler for ErasureEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let Some(req) = event.payload::<CustomerErasureRequested>() else {
            return Ok(vec![]);
        };
        let req = req?;
        let erasure = Uuid::parse_str(&req.erasure_id)
            .map_err(|_| HandlerError::permanent("erasure_id is not a UUID"))?;
        let ids = req
            .conversation_ids
            .iter()
            .map(|s| Uuid::parse_str(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| HandlerError::permanent("conversation_ids: not a UUID"))?;
        // Malformed identities are never guessed at: dead-lettered at once.
        let identities = livedesk_platform::identity::normalize_all(&req.identities)
            .map_err(|v| HandlerError::permanent(format!("identities: {v:?}")))?;
        let requests = req
            .request_ids
            .iter()
            .map(|s| Uuid::parse_str(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| HandlerError::permanent("request_ids: not a UUID"))?;
        SubjectData::erase(txn, event.org_id, &ids, &identities, &requests).await?;
        tracing::info!(erasure_id = %erasure, conversations = ids.len(), "customer data erased");
        let done = CustomerErased {
            erasure_id: erasure.to_string(),
            service: SERVICE.into(),
        };
        Ok(vec![
            self.outbox.stage(txn, event.org_id, erasure, &done).await?,
        ])
    }
}
