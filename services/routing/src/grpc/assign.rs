//! Manual pick and direct assignment (RTG-12): an agent takes a waiting
//! conversation of their queue, a supervisor gives one to an agent. Both
//! respect capacity (RTG-2) and the one-owner index (RTG-6); a pending
//! offer to someone else is withdrawn in the same transaction.
use livedesk_auth::{AuthError, Role, principal};
use livedesk_platform::errors::parse_uuid;
use livedesk_platform::time::to_proto;
use livedesk_proto::routing::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::{RoutingGrpc, acting_agent};
use crate::domain::Channel;
use crate::engine::{Followup, Unanswered, after_unanswered};
use crate::error::{Entity, Error};
use crate::store::{Agents, Entries, Legs, Offers};

impl RoutingGrpc {
    pub(super) async fn pick_conversation(
        &self,
        req: Request<pb::PickConversationRequest>,
    ) -> Result<pb::Assignment, Error> {
        let who = acting_agent(&req, "pick a conversation")?;
        let conversation = parse_uuid("conversation_id", &req.get_ref().conversation_id)?;
        self.assign_directly(
            who.org_id,
            conversation,
            &who.id,
            who.role == Role::Agent,
            &who.id,
        )
        .await
    }

    pub(super) async fn assign_conversation(
        &self,
        req: Request<pb::AssignConversationRequest>,
    ) -> Result<pb::Assignment, Error> {
        let who = principal(&req)?;
        who.require(&[Role::Supervisor, Role::Admin], "assign a conversation")?;
        let body = req.get_ref();
        let conversation = parse_uuid("conversation_id", &body.conversation_id)?;
        let agent = body.agent_id.trim();
        if agent.is_empty() {
            return Err(livedesk_platform::errors::FieldViolation::new(
                "agent_id",
                "must not be empty",
            )
            .into());
        }
        self.assign_directly(who.org_id, conversation, agent, false, &who.id)
            .await
    }

    async fn assign_directly(
        &self,
        org: Uuid,
        conversation: Uuid,
        agent_id: &str,
        member_only: bool,
        by: &str,
    ) -> Result<pb::Assignment, Error> {
        let txn = self.db.begin().await?;
        // Lock order everywhere: entry, then offer, then agent.
        let entry = Entries::lock(&txn, org, conversation)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        if entry.status != "queued" {
            txn.rollback().await?;
            return Err(Error::NotWaiting);
        }
        let mut followup = Followup::default();
        let reason = if member_only { "picked" } else { "assigned" };
        if let Some(o) = Offers::withdraw(&txn, org, conversation, reason).await? {
            let how = Unanswered::Withdrawn {
                reason,
                consequences: false,
            };
            followup.extend(after_unanswered(&self.outbox, &txn, &o, how).await?);
        }
        if !Agents::lock(&txn, org, agent_id).await? {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Agent));
        }
        let agent = Agents::get(&txn, org, agent_id)
            .await?
            .ok_or(Error::NotFound(Entity::Agent))?;
        if member_only && !agent.queue_ids.contains(&entry.queue_id) {
            txn.rollback().await?;
            return Err(AuthError::Forbidden {
                role: Role::Agent,
                action: "pick a conversation of another queue",
            }
            .into());
        }
        // Room on the conversation's channel, read after the lock (RTG-2).
        let channel = Channel::of_conversation(entry.channel);
        let room = Agents::candidate(&txn, org, agent_id)
            .await?
            .is_some_and(|c| c.has_room(channel));
        if !room {
            txn.rollback().await?;
            return Err(Error::NoFreeCapacity);
        }
        Entries::transition(&txn, org, conversation, "queued", "assigned").await?;
        let Some(leg) =
            Legs::insert_owner(&txn, org, conversation, agent_id, entry.queue_id).await?
        else {
            txn.rollback().await?;
            return Err(Error::AlreadyOwned);
        };
        Agents::touch_idle(&txn, org, agent_id).await?;
        let assigned = pb::ConversationAssigned {
            conversation_id: conversation.to_string(),
            agent_id: agent_id.to_owned(),
            agent_display_name: agent.display_name.clone(),
            agent_initials: agent.initials.clone(),
            queue_id: entry.queue_id.to_string(),
            previous_agent_id: String::new(),
            assigned_at: Some(to_proto(leg.assigned_at)),
            customer_principal_id: entry.customer_principal_id.clone(),
        };
        followup.staged.push(
            self.outbox
                .stage(&txn, org, conversation, &assigned)
                .await?,
        );
        txn.commit().await?;
        tracing::info!(%org, %conversation, agent_id, by, "conversation assigned directly");
        // A withdrawn offer freed another agent's capacity.
        self.router.finish(followup).await;
        Ok(pb::Assignment {
            conversation_id: conversation.to_string(),
            agent_id: agent_id.to_owned(),
            queue_id: entry.queue_id.to_string(),
            assigned_at: Some(to_proto(leg.assigned_at)),
        })
    }
}
