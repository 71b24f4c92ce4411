//! `AgentQueuesChanged` (TEN-3): after a transaction changed queue
//! memberships (under [`Memberships::lock`]), one snapshot per affected
//! agent, staged in that same transaction.
use livedesk_events::{Outbox, Staged};
use livedesk_proto::routing::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::store::Memberships;

/// Stages the current memberships of each of `agents` (a deleted agent
/// as `deleted`), each with a new version.
pub async fn stage_memberships<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    org: Uuid,
    agents: &[String],
) -> Result<Vec<Staged>, DbErr> {
    let mut ids: Vec<&String> = agents.iter().filter(|a| !a.trim().is_empty()).collect();
    ids.sort();
    ids.dedup();
    let mut staged = Vec::with_capacity(ids.len());
    for agent in ids {
        let queues = Memberships::of(txn, org, agent).await?;
        let version = Memberships::next_version(txn).await?;
        let event = pb::AgentQueuesChanged {
            agent_id: agent.clone(),
            deleted: queues.is_none(),
            queue_ids: queues
                .unwrap_or_default()
                .iter()
                .map(Uuid::to_string)
                .collect(),
            version: u64::try_from(version).unwrap_or(0),
        };
        staged.push(outbox.stage(txn, org, agent, &event).await?);
    }
    Ok(staged)
}
