//! Conversation facts from `ConversationEnded` (RPT-2), later edits of
//! their tags and reason from `QualificationUpdated` (CNV-10), and
//! dropped-message counts from `MessageDropped` (BLK-3, BLK-7).
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_platform::time::from_proto;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1::{
    ConversationEnded, ConversationStatus, EndedBy, MessageDropped, QualificationUpdated,
};
use sea_orm::DatabaseTransaction;

use super::{required_enum, required_label, required_uuid, time_or_occurred};
use crate::domain::{FactTimes, label, mask_customer_name};
use crate::store::{ConversationSummary, EndedFact, Facts};

/// Consumes the conversations stream.
pub struct ConversationEvents;

impl EventHandler for ConversationEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(ended) = event.payload::<ConversationEnded>() {
            ended_fact(txn, event, ended?).await?;
        } else if let Some(updated) = event.payload::<QualificationUpdated>() {
            let updated = updated?;
            let conversation_id = required_uuid("conversation_id", &updated.conversation_id)?;
            let q = updated.qualification.unwrap_or_default();
            Facts::upsert_qualification(
                txn,
                event.org_id,
                conversation_id,
                &q.tags,
                &q.contact_reason,
                event.occurred_at(),
            )
            .await?;
        } else if let Some(dropped) = event.payload::<MessageDropped>() {
            let block_id = required_uuid("block_id", &dropped?.block_id)?;
            Facts::count_dropped(txn, event.org_id, block_id).await?;
        }
        Ok(vec![])
    }
}

async fn ended_fact(
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
    e: ConversationEnded,
) -> Result<(), HandlerError> {
    let conversation_id = required_uuid("conversation_id", &e.conversation_id)?;
    let status = required_enum::<ConversationStatus>("status", e.status)?;
    // RPT-2: only ended conversations count; anything else (a paused one)
    // is not a fact of the statistics.
    if !matches!(
        status,
        ConversationStatus::Ended | ConversationStatus::Blocked
    ) {
        tracing::debug!(%conversation_id, status = e.status, "conversation not ended, ignored");
        return Ok(());
    }
    let time = |t: &Option<prost_types::Timestamp>| t.as_ref().and_then(from_proto);
    let ended_at = time_or_occurred(event, e.ended_at.as_ref());
    let times = FactTimes {
        queued_at: time(&e.queued_at),
        assigned_at: time(&e.assigned_at),
        first_response_at: time(&e.first_response_at),
        ended_at: Some(ended_at),
        abandoned: e.abandoned,
    };
    let qualification = e.qualification.unwrap_or_default();
    let fact = EndedFact {
        org_id: event.org_id,
        conversation_id,
        summary: ConversationSummary {
            queue_id: e.queue_id,
            channel: required_label::<Channel>("channel", e.channel)?,
            agent_ids: e.agent_ids,
            tags: qualification.tags,
            reason: qualification.contact_reason,
            status: label(status).to_owned(),
            ended_by: required_label::<EndedBy>("ended_by", e.ended_by)?,
        },
        customer_name: mask_customer_name(&e.customer_name),
        created_at: time(&e.created_at),
        queued_at: times.queued_at,
        first_response_at: times.first_response_at,
        assigned_at: times.assigned_at,
        ended_at,
        message_count: i32::try_from(e.message_count).unwrap_or(i32::MAX),
        abandoned: e.abandoned,
        proactive: e.proactive,
        blocked: status == ConversationStatus::Blocked,
        durations: times.durations(),
    };
    Facts::upsert_ended(txn, &fact).await?;
    Ok(())
}
