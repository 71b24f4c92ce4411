//! Routing's decisions: an assignment activates the conversation, an
//! abandonment ends it (ended_by SYSTEM). Both check the current status, so
//! a late or repeated event changes nothing.
use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged};
use livedesk_proto::conversations::v1::ConversationActivated;
use livedesk_proto::routing::v1::{ConversationAbandoned, ConversationAssigned};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::domain::{EndedBy, Qualification, RequestStatus, Status};
use crate::grpc::ended_event;
use crate::store::{Conversations, EndChange};

/// Consumes the routing stream.
pub struct RoutingEvents {
    pub outbox: Outbox,
}

fn conversation_id(raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw)
        .map_err(|_| HandlerError::permanent("event without a valid conversation_id"))
}

impl EventHandler for RoutingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let org = event.org_id;
        if let Some(assigned) = event.payload::<ConversationAssigned>() {
            let assigned = assigned?;
            let id = conversation_id(&assigned.conversation_id)?;
            let at = assigned
                .assigned_at
                .as_ref()
                .and_then(livedesk_platform::time::from_proto)
                .unwrap_or_else(|| event.occurred_at());
            if !Conversations::assign(
                txn,
                org,
                id,
                &assigned.agent_id,
                &assigned.agent_display_name,
                at,
            )
            .await?
            {
                tracing::info!(%id, "assignment ignored: conversation not live or already assigned to this agent");
                return Ok(vec![]);
            }
            let staged = self
                .outbox
                .stage(
                    txn,
                    org,
                    id,
                    &ConversationActivated {
                        conversation_id: id.to_string(),
                        agent_id: assigned.agent_id.clone(),
                    },
                )
                .await?;
            return Ok(vec![staged]);
        }
        if let Some(abandoned) = event.payload::<ConversationAbandoned>() {
            let abandoned = abandoned?;
            let id = conversation_id(&abandoned.conversation_id)?;
            let change = EndChange {
                status: Status::Ended,
                ended_by: EndedBy::System,
                by: "routing".into(),
                // The customer is still waiting for an answer: keep the request open.
                request_status: RequestStatus::Open,
                qualification: Qualification::default(),
            };
            let Some(row) = Conversations::end(txn, org, id, &change).await? else {
                return Ok(vec![]);
            };
            let mut ended = ended_event(&row);
            ended.abandoned = true;
            return Ok(vec![self.outbox.stage(txn, org, id, &ended).await?]);
        }
        Ok(vec![])
    }
}
