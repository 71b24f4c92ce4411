//! Who may see a conversation or a request (TEN-3), in one place used by
//! every RPC that takes an id or lists:
//! - visitors: their own;
//! - agents: conversations of the queues they serve (the local read model
//!   of routing's memberships, [`QueueMembers`]), assigned to them, or that
//!   they take or took part in (a transfer out of their queue or a
//!   conference keeps them in); requests assigned to them or holding such a
//!   conversation;
//! - supervisors, admins and services: the whole org.
//!
//! Anything else reads as NOT_FOUND, never as "exists but forbidden".
use livedesk_auth::{Principal, Role};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::{Entity, Error};
use crate::store::{ConvRow, Conversations, QueueMembers, RequestRow, Requests, Settings};

/// Whether `who` may read `row`.
pub async fn can_see<C: ConnectionTrait>(
    db: &C,
    who: &Principal,
    row: &ConvRow,
) -> Result<bool, Error> {
    Ok(match who.role {
        Role::Visitor => row.customer_principal_id == who.id,
        Role::Agent => {
            row.has_participant(&who.id)
                || row.assigned_agent_id.as_deref() == Some(who.id.as_str())
                || QueueMembers::serves(db, who.org_id, &who.id, row.queue_id).await?
        }
        Role::Supervisor | Role::Admin | Role::Service => true,
    })
}

/// `row` if `who` may see it, NOT_FOUND otherwise.
pub async fn visible_row<C: ConnectionTrait>(
    db: &C,
    who: &Principal,
    row: Option<ConvRow>,
) -> Result<ConvRow, Error> {
    match row {
        Some(row) if can_see(db, who, &row).await? => Ok(row),
        _ => Err(Error::NotFound(Entity::Conversation)),
    }
}

/// Loads a conversation `who` may see, or NOT_FOUND.
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    who: &Principal,
    id: Uuid,
) -> Result<ConvRow, Error> {
    let row = Conversations::get(db, who.org_id, id).await?;
    visible_row(db, who, row).await
}

/// Locks (until the transaction ends) a conversation `who` may see, or
/// NOT_FOUND.
pub async fn visible_locked<C: ConnectionTrait>(
    db: &C,
    who: &Principal,
    id: Uuid,
) -> Result<ConvRow, Error> {
    let row = Conversations::lock(db, who.org_id, id).await?;
    visible_row(db, who, row).await
}

/// Loads a request `who` may see, or NOT_FOUND: visitors their own, agents
/// one assigned to them or holding a conversation they may see.
pub async fn visible_request<C: ConnectionTrait>(
    db: &C,
    who: &Principal,
    id: Uuid,
) -> Result<RequestRow, Error> {
    let Some(row) = Requests::get(db, who.org_id, id).await? else {
        return Err(Error::NotFound(Entity::Request));
    };
    let allowed = match who.role {
        Role::Visitor => row.customer_principal_id == who.id,
        Role::Agent => {
            row.assignee_id.as_deref() == Some(who.id.as_str())
                || QueueMembers::sees_request(db, who.org_id, &who.id, id).await?
        }
        Role::Supervisor | Role::Admin | Role::Service => true,
    };
    if allowed {
        Ok(row)
    } else {
        Err(Error::NotFound(Entity::Request))
    }
}

/// The agent whose listings are scoped by the TEN-3 rule, if `who` is one.
pub fn scoped_agent(who: &Principal) -> Option<String> {
    (who.role == Role::Agent).then(|| who.id.clone())
}

/// Whether reads by `who` show emails and phone numbers masked: people on
/// the support side, when the org masks PII (default on, CNV-9).
pub async fn masks_pii<C: ConnectionTrait>(db: &C, who: &Principal) -> Result<bool, Error> {
    Ok(who.is_staff() && Settings::get(db, who.org_id).await?.mask_pii)
}
