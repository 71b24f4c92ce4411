//! Wrap-up codes (`WrapUpSubmitted`) and agent states (`AgentStateChanged`)
//! from the routing stream.
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_proto::routing::v1::{AgentState, AgentStateChanged, WrapUpSubmitted};
use sea_orm::DatabaseTransaction;

use super::{required_label, required_uuid, time_or_occurred};
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
                submitted_at: time_or_occurred(event, w.submitted_at.as_ref()),
            };
            Facts::upsert_wrap_up(txn, &fact).await?;
        } else if let Some(changed) = event.payload::<AgentStateChanged>() {
            let c = changed?;
            let change = NewStateChange {
                event_id: event.event_id,
                org_id: event.org_id,
                agent_id: c.agent_id,
                from_state: required_label::<AgentState>("from", c.from)?,
                to_state: required_label::<AgentState>("to", c.to)?,
                away_reason: c.away_reason,
                changed_by: c.changed_by,
                at: event.occurred_at(),
            };
            Activity::insert_state_change(txn, &change).await?;
        }
        Ok(vec![])
    }
}
