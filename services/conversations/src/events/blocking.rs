//! Blocks learned from the blocking service (BLK-3, BLK-5, BLK-6, BLK-8,
//! BLK-9): identities and IP ranges go into the local cache; every live
//! conversation the block covers becomes BLOCKED.
use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged};
use livedesk_proto::blocking::v1::{
    Block, BlockExpired, CustomerBlocked, CustomerUnblocked, IpBlocked,
};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::domain::{EndedBy, Qualification, RequestStatus, Status};
use crate::store::{BlockedCache, Conversations, EndChange};
use crate::views::ended_event;

/// Consumes the blocking stream.
pub struct BlockingEvents {
    pub outbox: Outbox,
}

fn block_id(block: &Block) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&block.id)
        .map_err(|_| HandlerError::permanent("block event without a valid id"))
}

impl BlockingEvents {
    /// Caches the block, then ends every live conversation it covers as
    /// BLOCKED: the agent's, and any other the same customer (or the
    /// blocked address range) has queued, active or paused (BLK-2, BLK-9).
    async fn blocked(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        block: Block,
    ) -> Result<Vec<Staged>, HandlerError> {
        let id = block_id(&block)?;
        let expires_at = block
            .expires_at
            .as_ref()
            .and_then(livedesk_platform::time::from_proto);
        match block.ip_cidr.trim() {
            "" => {
                let identities = livedesk_platform::identity::normalize_all(&block.identities)
                    .map_err(|v| HandlerError::permanent(format!("block identities: {v}")))?
                    .into_iter()
                    .map(|(k, v)| (k as i32, v))
                    .collect::<Vec<_>>();
                BlockedCache::insert(txn, org, id, &identities, expires_at).await?;
            }
            cidr => BlockedCache::insert_ip(txn, org, id, cidr, expires_at).await?,
        }
        let mut targets = BlockedCache::live_conversations(txn, org, id).await?;
        if let Ok(own) = Uuid::parse_str(&block.conversation_id)
            && !targets.contains(&own)
        {
            targets.push(own);
        }
        let change = EndChange {
            status: Status::Blocked,
            ended_by: EndedBy::Agent,
            by: block.blocked_by.clone(),
            request_status: RequestStatus::Closed,
            qualification: Qualification::default(),
        };
        let mut staged = Vec::with_capacity(targets.len());
        for conversation_id in targets {
            // Already ended: the cache is all that changes for it.
            if let Some(row) = Conversations::end(txn, org, conversation_id, &change).await? {
                tracing::info!(%conversation_id, block_id = %id, "conversation blocked");
                staged.push(
                    self.outbox
                        .stage(txn, org, conversation_id, &ended_event(&row))
                        .await?,
                );
            }
        }
        Ok(staged)
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
        if let Some(blocked) = event.payload::<IpBlocked>() {
            let Some(block) = blocked?.block else {
                return Err(HandlerError::permanent("IpBlocked without a block"));
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
