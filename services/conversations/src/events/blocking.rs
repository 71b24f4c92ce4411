//! Blocks learned from the blocking service (BLK-3, BLK-5, BLK-6, BLK-8):
//! identities go into the local cache; the block's conversation, when still
//! open, becomes BLOCKED.
use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged};
use livedesk_proto::blocking::v1::{Block, BlockExpired, CustomerBlocked, CustomerUnblocked};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::domain::{EndedBy, Qualification, RequestStatus, Status};
use crate::grpc::ended_event;
use crate::store::{BlockedCache, Conversations, EndChange};

/// Consumes the blocking stream.
pub struct BlockingEvents {
    pub outbox: Outbox,
}

fn block_id(block: &Block) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&block.id)
        .map_err(|_| HandlerError::permanent("block event without a valid id"))
}

impl BlockingEvents {
    async fn blocked(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        block: Block,
    ) -> Result<Vec<Staged>, HandlerError> {
        let id = block_id(&block)?;
        let identities = livedesk_platform::identity::normalize_all(&block.identities)
            .map_err(|v| HandlerError::permanent(format!("block identities: {v}")))?
            .into_iter()
            .map(|(k, v)| (k as i32, v))
            .collect::<Vec<_>>();
        let expires_at = block
            .expires_at
            .as_ref()
            .and_then(livedesk_platform::time::from_proto);
        BlockedCache::insert(txn, org, id, &identities, expires_at).await?;
        let Ok(conversation_id) = Uuid::parse_str(&block.conversation_id) else {
            return Ok(vec![]); // an IP block: nothing to end
        };
        let change = EndChange {
            status: Status::Blocked,
            ended_by: EndedBy::Agent,
            by: block.blocked_by.clone(),
            request_status: RequestStatus::Closed,
            qualification: Qualification::default(),
        };
        let Some(row) = Conversations::end(txn, org, conversation_id, &change).await? else {
            return Ok(vec![]); // already ended: the cache is all that changes
        };
        tracing::info!(%conversation_id, block_id = %id, "conversation blocked");
        Ok(vec![
            self.outbox
                .stage(txn, org, conversation_id, &ended_event(&row))
                .await?,
        ])
    }
}

impl EventHandler for BlockingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let org = event.org_id;
        if let Some(blocked) = event.payload::<CustomerBlocked>() {
            let Some(block) = blocked?.block else {
                return Err(HandlerError::permanent("CustomerBlocked without a block"));
            };
            return self.blocked(txn, org, block).await;
        }
        let lifted = if let Some(e) = event.payload::<CustomerUnblocked>() {
            e?.block
        } else if let Some(e) = event.payload::<BlockExpired>() {
            e?.block
        } else {
            return Ok(vec![]);
        };
        if let Some(block) = lifted {
            BlockedCache::remove(txn, org, block_id(&block)?).await?;
        }
        Ok(vec![])
    }
}
