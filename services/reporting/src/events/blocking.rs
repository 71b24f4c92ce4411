//! Blocks from `CustomerBlocked`, `CustomerUnblocked` and `BlockExpired`
//! (BLK-7). Identities are masked before they are stored.
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_platform::time::from_proto;
use livedesk_proto::blocking::v1::{Block, BlockExpired, CustomerBlocked, CustomerUnblocked};
use livedesk_proto::common::v1::{Channel, IdentityKind};
use sea_orm::DatabaseTransaction;

use super::{required_label, required_uuid};
use crate::domain::{identity_label, mask_customer_name};
use crate::store::{BlockFact, BlockState, Facts};

/// Consumes the blocking stream.
pub struct BlockingEvents;

impl EventHandler for BlockingEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let (block, expired) = if let Some(e) = event.payload::<CustomerBlocked>() {
            (e?.block, false)
        } else if let Some(e) = event.payload::<CustomerUnblocked>() {
            (e?.block, false)
        } else if let Some(e) = event.payload::<BlockExpired>() {
            (e?.block, true)
        } else {
            return Ok(vec![]);
        };
        let Some(block) = block else {
            return Err(HandlerError::permanent("block event without a block"));
        };
        // IP-range blocks belong to no conversation: not part of BLK-7.
        if block.conversation_id.is_empty() {
            return Ok(vec![]);
        }
        Facts::upsert_block(txn, &fact(event, block, expired)?).await?;
        Ok(vec![])
    }
}

fn fact(event: &ReceivedEvent, b: Block, expired: bool) -> Result<BlockFact, HandlerError> {
    let identities = b
        .identities
        .iter()
        .map(|i| {
            let kind = required_label::<IdentityKind>("block.identities.kind", i.kind)?;
            Ok(identity_label(&kind, &i.value))
        })
        .collect::<Result<Vec<_>, HandlerError>>()?
        .join(" | ");
    Ok(BlockFact {
        org_id: event.org_id,
        block_id: required_uuid("block.id", &b.id)?,
        block: BlockState {
            conversation_id: b.conversation_id,
            blocked_by: b.blocked_by,
            blocked_at: b.blocked_at.as_ref().and_then(from_proto),
            reason: b.reason,
            identities,
            customer_name: mask_customer_name(&b.customer_name),
            channel: required_label::<Channel>("block.channel", b.channel)?,
            expires_at: b.expires_at.as_ref().and_then(from_proto),
            expired,
            unblocked_by: b.unblocked_by,
            unblocked_at: b.unblocked_at.as_ref().and_then(from_proto),
        },
        dropped_reported: i64::try_from(b.dropped_messages).unwrap_or(i64::MAX),
    })
}
