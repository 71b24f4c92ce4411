//! Wrap-up codes (`WrapUpSubmitted`) and agent states (`AgentStateChanged`)
//! from the routing stream.
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_platform::time::from_proto;
use livedesk_proto::routing::v1::{AgentStateChanged, WrapUpSubmitted};
use sea_orm::DatabaseTransaction;

use super::required_uuid;
use crate::store::{Activity, Facts, NewStateChange, WrapUpFact};

/// Consumes the routing stream.
pub struct RoutingEvents;

impl EventHandler for RoutingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(submitted) = event.payload::<WrapUpSubmitted>() {
            let Some(w) = submitted?.wrap_up else {
                return Err(HandlerError::permanent("WrapUpSubmitted without a wrap_up"));
            };
            let fact = WrapUpFact {
                org_id: event.org_id,
                conversation_id: required_uuid("conversation_id", &w.conversation_id)?,
                agent_id: w.agent_id,
                code: w.code,
                automatic: w.automatic,
                submitted_at: w
                    .submitted_at
                    .as_ref()
                    .and_then(from_proto)
                    .unwrap_or_else(|| event.occurred_at()),
            };
            Facts::upsert_wrap_up(txn, &fact).await?;
        } else if let Some(changed) = event.payload::<AgentStateChanged>() {
            let c = changed?;
            let change = NewStateChange {
                event_id: event.event_id,
                org_id: event.org_id,
                agent_id: c.agent_id,
                from_state: c.from,
                to_state: c.to,
                away_reason: c.away_reason,
                changed_by: c.changed_by,
                at: event.occurred_at(),
            };
            Activity::insert_state_change(txn, &change).await?;
        }
        Ok(vec![])
    }
}
