//! `PauseConversation` (CNV-12): on a social channel the owning agent
//! pauses the conversation; it stays open awaiting the customer and the
//! agent's capacity is freed (routing reacts to `ConversationPaused`). The
//! customer's next message resumes it (see `messages.rs`).
use livedesk_auth::{Role, principal};
use livedesk_platform::errors::parse_uuid;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;

use super::access::{masks_pii, visible_locked};
use super::service::ConversationsGrpc;
use crate::domain::Status;
use crate::error::{Entity, Error};
use crate::store::Conversations;
use crate::views;

/// Channels where a conversation can wait for the customer (CNV-12).
fn pausable(channel: i32) -> bool {
    matches!(
        Channel::try_from(channel),
        Ok(Channel::Messenger | Channel::Whatsapp | Channel::Instagram)
    )
}

impl ConversationsGrpc {
    /// Pauses an ACTIVE social conversation; only its owning agent may.
    pub(super) async fn pause(
        &self,
        req: Request<pb::PauseConversationRequest>,
    ) -> Result<pb::Conversation, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "pause a conversation",
        )?;
        let org = who.org_id;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let txn = self.db.begin().await?;
        let row = visible_locked(&txn, &who, id).await?;
        if row.assigned_agent_id.as_deref() != Some(who.id.as_str()) {
            return Err(Error::NotOwner);
        }
        if row.interrupted {
            return Err(Error::Interrupted);
        }
        if !pausable(row.channel) {
            return Err(Error::NotPausable);
        }
        if row.status()? != Status::Active || !Conversations::pause(&txn, org, id, &who.id).await? {
            return Err(Error::NotActive);
        }
        let paused = pb::ConversationPaused {
            conversation_id: id.to_string(),
            agent_id: who.id.clone(),
        };
        let staged = self.outbox.stage(&txn, org, id, &paused).await?;
        let row = Conversations::get(&txn, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        tracing::info!(conversation_id = %id, "conversation paused");
        Ok(views::conversation(&row, masks_pii(&self.db, &who).await?))
    }
}
