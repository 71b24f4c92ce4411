//! Who may see a conversation (TEN-3): visitors their own, agents those
//! they take part in or that wait in a queue, supervisors, admins and
//! services the whole org. Anything else reads as NOT_FOUND, never as
//! "exists but forbidden".
use livedesk_auth::{Principal, Role};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::Status;
use crate::error::Error;
use crate::store::{ConvRow, Conversations, Settings};

/// Whether `who` may read `row`.
pub fn can_see(who: &Principal, row: &ConvRow) -> bool {
    match who.role {
        Role::Visitor => row.customer_principal_id == who.id,
        Role::Agent => row.has_participant(&who.id) || row.status() == Status::Queued,
        Role::Supervisor | Role::Admin | Role::Service => true,
    }
}

/// Loads a conversation `who` may see, or NOT_FOUND.
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    who: &Principal,
    id: Uuid,
) -> Result<ConvRow, Error> {
    Conversations::get(db, who.org_id, id)
        .await?
        .filter(|row| can_see(who, row))
        .ok_or(Error::NotFound("conversation"))
}

/// Whether reads by `who` show emails and phone numbers masked: people on
/// the support side, when the org masks PII (default on, CNV-9).
pub async fn masks_pii<C: ConnectionTrait>(db: &C, who: &Principal) -> Result<bool, Error> {
    Ok(who.is_staff() && Settings::get(db, who.org_id).await?.mask_pii)
}
