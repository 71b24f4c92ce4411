//! Counting dropped messages and form submissions against their block
//! (BLK-3).
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_proto::conversations::v1::MessageDropped;
use livedesk_proto::scheduling::v1::FormSubmissionDropped;
use sea_orm::DatabaseTransaction;

use crate::store::Blocks;

/// Counts one drop (a chat message or a form submission) against the
/// block named by the event; an event without a valid block id is a
/// contract breach and dead-lettered, never skipped silently.
async fn count_drop(
    txn: &DatabaseTransaction,
    org: uuid::Uuid,
    block_id: &str,
    event: &'static str,
) -> Result<(), HandlerError> {
    let Ok(block_id) = uuid::Uuid::parse_str(block_id) else {
        return Err(HandlerError::permanent(format!(
            "{event} without a valid block_id"
        )));
    };
    Blocks::count_dropped(txn, org, block_id).await?;
    Ok(())
}

/// Consumes the conversations stream.
pub struct ConversationEvents;

impl EventHandler for ConversationEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(dropped) = event.payload::<MessageDropped>() {
            count_drop(txn, event.org_id, &dropped?.block_id, "MessageDropped").await?;
        }
        Ok(vec![])
    }
}

/// Consumes the scheduling stream: a dropped form submission counts as a
/// dropped message of its block.
pub struct SchedulingEvents;

impl EventHandler for SchedulingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(dropped) = event.payload::<FormSubmissionDropped>() {
            count_drop(
                txn,
                event.org_id,
                &dropped?.block_id,
                "FormSubmissionDropped",
            )
            .await?;
        }
        Ok(vec![])
    }
}
