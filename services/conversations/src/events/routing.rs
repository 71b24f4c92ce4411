//! Routing's decisions (RTG-5, RTG-7, RTG-8, RTG-11, RTG-13): assignments
//! activate the conversation, transfers move it, conferences add and
//! remove the invited agent, interruptions leave it only endable, and
//! abandonments end it. Every change is conditional on the current state,
//! so a late, repeated or reordered event changes nothing.
use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged};
use livedesk_proto::conversations::v1::ConversationActivated;
use livedesk_proto::routing::v1::{
    AgentQueuesChanged, ConferenceChanged, ConferenceState, ConversationAbandoned,
    ConversationAssigned, ConversationInterrupted, ConversationTransferred,
};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::domain::{Author, EndedBy, Qualification, RequestStatus, Status};
use crate::store::{Conversations, EndChange, Messages, QueueMembers};
use crate::views::{ended_event, posted_event};

/// Consumes the routing stream.
pub struct RoutingEvents {
    pub outbox: Outbox,
}

fn conversation_id(raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw)
        .map_err(|_| HandlerError::permanent("event without a valid conversation_id"))
}

/// The system message of RTG-8.
pub fn joined_text(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        "An agent joined the chat".to_owned()
    } else {
        format!("{name} joined the chat")
    }
}

impl RoutingEvents {
    async fn assigned(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        event: &ReceivedEvent,
        assigned: ConversationAssigned,
    ) -> Result<Vec<Staged>, HandlerError> {
        let id = conversation_id(&assigned.conversation_id)?;
        let at = assigned
            .assigned_at
            .as_ref()
            .and_then(livedesk_platform::time::from_proto)
            .unwrap_or_else(|| event.occurred_at());
        let previous = Some(assigned.previous_agent_id.as_str()).filter(|p| !p.is_empty());
        if !Conversations::assign(
            txn,
            org,
            id,
            &assigned.agent_id,
            &assigned.agent_display_name,
            at,
            previous,
        )
        .await?
        {
            tracing::info!(%id, "assignment ignored: conversation not live or already assigned to this agent");
            return Ok(vec![]);
        }
        let activated = ConversationActivated {
            conversation_id: id.to_string(),
            agent_id: assigned.agent_id.clone(),
        };
        Ok(vec![self.outbox.stage(txn, org, id, &activated).await?])
    }

    async fn conference(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        changed: ConferenceChanged,
    ) -> Result<Vec<Staged>, HandlerError> {
        let Some(conf) = changed.conference else {
            return Err(HandlerError::permanent(
                "ConferenceChanged without a conference",
            ));
        };
        let id = conversation_id(&conf.conversation_id)?;
        let agent = conf.invited_agent_id.as_str();
        // An unknown or missing state is routing breaking its contract:
        // refused (and logged by the consumer), never read as "nothing".
        let state = ConferenceState::try_from(conf.state)
            .ok()
            .filter(|s| *s != ConferenceState::Unspecified)
            .ok_or_else(|| HandlerError::permanent("ConferenceChanged with an unknown state"))?;
        match state {
            ConferenceState::Active => {
                if !Conversations::join(txn, org, id, agent, &changed.invited_agent_display_name)
                    .await?
                {
                    return Ok(vec![]); // already in, or the conversation ended
                }
                let Some(row) = Conversations::lock(txn, org, id).await? else {
                    return Ok(vec![]);
                };
                let text = joined_text(&changed.invited_agent_display_name);
                let msg =
                    Messages::append(txn, org, id, Author::System, "", &text, None, &[]).await?;
                tracing::info!(%id, "conference guest joined");
                Ok(vec![
                    self.outbox
                        .stage(txn, org, id, &posted_event(&row, &msg, true))
                        .await?,
                ])
            }
            ConferenceState::Ended | ConferenceState::Declined => {
                Conversations::leave(txn, org, id, agent).await?;
                Ok(vec![])
            }
            ConferenceState::Requested | ConferenceState::Unspecified => Ok(vec![]),
        }
    }

    async fn abandoned(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        abandoned: ConversationAbandoned,
    ) -> Result<Vec<Staged>, HandlerError> {
        let id = conversation_id(&abandoned.conversation_id)?;
        let Some(row) = Conversations::lock(txn, org, id).await? else {
            return Ok(vec![]);
        };
        let change = EndChange {
            status: Status::Ended,
            // A system-side end of an interrupted conversation (RTG-11).
            ended_by: if row.interrupted {
                EndedBy::ResourceDeleted
            } else {
                EndedBy::System
            },
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
        Ok(vec![self.outbox.stage(txn, org, id, &ended).await?])
    }
}

/// Keeps the read model of queue memberships (TEN-3) at routing's latest
/// snapshot of the agent.
async fn memberships(
    txn: &DatabaseTransaction,
    org: Uuid,
    changed: AgentQueuesChanged,
) -> Result<Vec<Staged>, HandlerError> {
    if changed.agent_id.trim().is_empty() {
        return Err(HandlerError::permanent(
            "AgentQueuesChanged without an agent",
        ));
    }
    let version = i64::try_from(changed.version)
        .map_err(|_| HandlerError::permanent("membership version out of range"))?;
    let queues = changed
        .queue_ids
        .iter()
        .map(|q| Uuid::parse_str(q))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| HandlerError::permanent("AgentQueuesChanged with an invalid queue id"))?;
    let applied = QueueMembers::apply(
        txn,
        org,
        &changed.agent_id,
        &queues,
        changed.deleted,
        version,
    )
    .await?;
    tracing::info!(agent_id = %changed.agent_id, version, applied, "agent queue memberships");
    Ok(vec![])
}

impl EventHandler for RoutingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let org = event.org_id;
        if let Some(assigned) = event.payload::<ConversationAssigned>() {
            return self.assigned(txn, org, event, assigned?).await;
        }
        if let Some(transferred) = event.payload::<ConversationTransferred>() {
            let t = transferred?;
            let id = conversation_id(&t.conversation_id)?;
            // To an agent: nothing until ConversationAssigned names them.
            if !t.to_queue_id.is_empty() {
                let queue = Uuid::parse_str(&t.to_queue_id)
                    .map_err(|_| HandlerError::permanent("transfer to an invalid queue id"))?;
                if Conversations::transfer_to_queue(txn, org, id, &t.from_agent_id, queue).await? {
                    tracing::info!(%id, %queue, "conversation transferred to a queue");
                }
            }
            return Ok(vec![]);
        }
        if let Some(changed) = event.payload::<ConferenceChanged>() {
            return self.conference(txn, org, changed?).await;
        }
        if let Some(interrupted) = event.payload::<ConversationInterrupted>() {
            let id = conversation_id(&interrupted?.conversation_id)?;
            if Conversations::interrupt(txn, org, id).await? {
                tracing::info!(%id, "conversation interrupted");
            }
            return Ok(vec![]);
        }
        if let Some(abandoned) = event.payload::<ConversationAbandoned>() {
            return self.abandoned(txn, org, abandoned?).await;
        }
        if let Some(changed) = event.payload::<AgentQueuesChanged>() {
            return memberships(txn, org, changed?).await;
        }
        Ok(vec![])
    }
}
