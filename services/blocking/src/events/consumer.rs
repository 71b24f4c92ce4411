//! Counting dropped messages and form submissions against their block
//! (BLK-3).
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_proto::conversations::v1::MessageDropped;
use livedesk_proto::scheduling::v1::FormSubmissionDropped;
use sea_orm::DatabaseTransaction;

use crate::store::Blocks;

/// Consumes the conversations stream.
pub struct ConversationEvents;

impl EventHandler for ConversationEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(dropped) = event.payload::<MessageDropped>() {
            let dropped = dropped?;
            let Ok(block_id) = uuid::Uuid::parse_str(&dropped.block_id) else {
                return Err(HandlerError::permanent(
                    "MessageDropped without a valid block_id",
                ));
            };
            Blocks::count_dropped(txn, event.org_id, block_id).await?;
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
            let Ok(block_id) = uuid::Uuid::parse_str(&dropped?.block_id) else {
                return Err(HandlerError::permanent(
                    "FormSubmissionDropped without a valid block_id",
                ));
            };
            Blocks::count_dropped(txn, event.org_id, block_id).await?;
        }
        Ok(vec![])
    }
}
