//! The erasure of one service's share of a customer's data (PRV-2, PRV-3),
//! once for every service: on `CustomerErasureRequested` it parses what the
//! event names (a malformed event is dead-lettered, never guessed at), lets
//! the service's [`SubjectShare`] erase it in the consumer's transaction,
//! and stages `CustomerErased` in the same transaction, so the erasure and
//! its answer commit together and a redelivered event changes nothing more.
use livedesk_platform::subject::{SubjectScope, SubjectShare};
use livedesk_proto::privacy::v1::{CustomerErased, CustomerErasureRequested};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::consumer::{EventHandler, HandlerError};
use crate::{Outbox, ReceivedEvent, Staged};

/// Consumes `CustomerErasureRequested` (conversations stream) for `S`.
pub struct ErasureEvents<S> {
    pub outbox: Outbox,
    pub share: S,
}

impl<S: SubjectShare> EventHandler for ErasureEvents<S> {
    /// No limit of its own: it shares a consumer with the service's handler
    /// ([`crate::Both`]), whose batch it then takes. Erasures are
    /// independent of one another, and in a batch one runs after the other
    /// handler applied the whole batch, so what that batch wrote about the
    /// customer is erased with the rest.
    const BATCH: usize = 1024;

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
        let scope = SubjectScope::of_erasure(&req)
            .map_err(|v| HandlerError::permanent(format!("erasure scope: {}", v.field)))?;
        self.share.erase(txn, event.org_id, &scope).await?;
        tracing::info!(
            erasure_id = %erasure,
            service = S::SERVICE,
            conversations = scope.conversations.len(),
            "customer data erased"
        );
        let done = CustomerErased {
            erasure_id: erasure.to_string(),
            service: S::SERVICE.into(),
        };
        Ok(vec![
            self.outbox.stage(txn, event.org_id, erasure, &done).await?,
        ])
    }
}
