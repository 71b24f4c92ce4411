//! Deleting queues and agents (RTG-11). Live conversations are
//! interrupted (`ConversationInterrupted`: participants are alerted and
//! the conversation can only be ended); waiting conversations of a deleted
//! queue are abandoned (`queue_deleted`); a deleted agent's pending offers
//! are withdrawn and re-offered (a transfer to them fails per policy).
use std::collections::BTreeSet;

use livedesk_auth::principal;
use livedesk_platform::defaults::default_queue_id;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::routing::v1 as pb;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tonic::Request;
use uuid::Uuid;

use super::RoutingGrpc;
use crate::engine::{Followup, Unanswered, after_unanswered, stage_abandoned, stage_memberships};
use crate::error::{Entity, Error};
use crate::store::{Agents, Entries, Legs, Memberships, Offers, Queues};
use crate::views;

impl RoutingGrpc {
    /// Interrupts one live conversation: alerts its agents, withdraws a
    /// pending transfer or invitation, and marks it end-only.
    async fn interrupt(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        conv: Uuid,
        reason: &'static str,
        out: &mut Followup,
    ) -> Result<(), Error> {
        let agents: BTreeSet<String> = Legs::of_conversation(txn, org, conv)
            .await?
            .into_iter()
            .filter(|l| l.status == "active")
            .map(|l| l.agent_id)
            .collect();
        if let Some(o) = Offers::withdraw(txn, org, conv, reason).await? {
            let how = Unanswered::Withdrawn {
                reason,
                consequences: false,
            };
            out.extend(after_unanswered(&self.outbox, txn, &o, how).await?);
        }
        Entries::interrupt(txn, org, conv).await?;
        let e = pb::ConversationInterrupted {
            conversation_id: conv.to_string(),
            reason: reason.to_owned(),
            agent_ids: agents.into_iter().collect(),
        };
        out.staged
            .push(self.outbox.stage(txn, org, conv, &e).await?);
        Ok(())
    }

    pub(super) async fn delete_queue(
        &self,
        req: Request<pb::DeleteQueueRequest>,
    ) -> Result<pb::DeleteQueueResponse, Error> {
        let who = principal(&req)?;
        who.require_admin("delete a queue")?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let org = who.org_id;
        if id == default_queue_id(org) {
            return Err(Error::DefaultQueue);
        }
        let txn = self.db.begin().await?;
        Memberships::lock(&txn, org).await?;
        let queue = Queues::get(&txn, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Queue))?;
        if !Queues::lock(&txn, org, id).await? {
            return Err(Error::NotFound(Entity::Queue));
        }
        let mut out = Followup::default();
        for conv in Entries::of_queue(&txn, org, id, &["queued"]).await? {
            let Some(entry) = Entries::lock(&txn, org, conv).await? else {
                continue;
            };
            if !Entries::transition(&txn, org, conv, "queued", "abandoned").await? {
                continue;
            }
            if let Some(o) = Offers::withdraw(&txn, org, conv, "queue_deleted").await? {
                let how = Unanswered::Withdrawn {
                    reason: "queue_deleted",
                    consequences: false,
                };
                out.extend(after_unanswered(&self.outbox, &txn, &o, how).await?);
            }
            out.staged
                .push(stage_abandoned(&self.outbox, &txn, &entry, "queue_deleted").await?);
        }
        let mut interrupted = Vec::new();
        for conv in Entries::of_queue(&txn, org, id, &["assigned", "paused"]).await? {
            if Entries::lock(&txn, org, conv).await?.is_some() {
                self.interrupt(&txn, org, conv, "queue_deleted", &mut out)
                    .await?;
                interrupted.push(conv.to_string());
            }
        }
        Queues::delete(&txn, org, id).await?;
        // Its members lost it (the membership rows went with the queue).
        out.staged
            .extend(stage_memberships(&self.outbox, &txn, org, &queue.member_agent_ids).await?);
        let e = pb::QueueChanged {
            queue: Some(views::queue(&queue)),
            deleted: true,
        };
        out.staged.push(self.outbox.stage(&txn, org, id, &e).await?);
        txn.commit().await?;
        tracing::info!(%org, queue_id = %id, interrupted = interrupted.len(), "queue deleted");
        out.route.clear();
        self.router.finish(out).await;
        // Withdrawn offers freed agents who may serve other queues.
        self.router.kick_org(org);
        Ok(pb::DeleteQueueResponse {
            interrupted_conversation_ids: interrupted,
        })
    }

    pub(super) async fn delete_agent(
        &self,
        req: Request<pb::DeleteAgentRequest>,
    ) -> Result<pb::DeleteAgentResponse, Error> {
        let who = principal(&req)?;
        who.require_admin("delete an agent")?;
        let id = req.get_ref().id.trim().to_owned();
        if id.is_empty() || id.chars().count() > 200 {
            return Err(FieldViolation::new("id", "1 to 200 characters").into());
        }
        let org = who.org_id;
        if Agents::get(&self.db, org, &id).await?.is_none() {
            return Err(Error::NotFound(Entity::Agent));
        }
        let txn = self.db.begin().await?;
        Memberships::lock(&txn, org).await?;
        // Entries first (the lock order), then the agent: no new offer can
        // reach them once their row is locked (routing locks it to offer).
        let live = Legs::live_conversations_of(&txn, org, &id).await?;
        let offered = Offers::pending_conversations_of(&txn, org, &id).await?;
        let convs: BTreeSet<Uuid> = live.iter().chain(&offered).copied().collect();
        for conv in &convs {
            Entries::lock(&txn, org, *conv).await?;
        }
        if !Agents::lock(&txn, org, &id).await? {
            return Err(Error::NotFound(Entity::Agent));
        }
        let mut out = Followup::default();
        let mut interrupted = Vec::new();
        for conv in Legs::live_conversations_of(&txn, org, &id).await? {
            self.interrupt(&txn, org, conv, "agent_deleted", &mut out)
                .await?;
            interrupted.push(conv.to_string());
        }
        for conv in Offers::pending_conversations_of(&txn, org, &id).await? {
            if let Some(o) = Offers::withdraw(&txn, org, conv, "agent_deleted").await? {
                let how = Unanswered::Withdrawn {
                    reason: "agent_deleted",
                    consequences: true,
                };
                out.extend(after_unanswered(&self.outbox, &txn, &o, how).await?);
            }
        }
        Legs::close_agent(&txn, org, &id).await?;
        Agents::delete(&txn, org, &id).await?;
        // Consumers forget the agent's memberships (TEN-3).
        out.staged
            .extend(stage_memberships(&self.outbox, &txn, org, std::slice::from_ref(&id)).await?);
        txn.commit().await?;
        tracing::info!(%org, agent_id = %id, interrupted = interrupted.len(), "agent deleted");
        self.router.finish(out).await;
        Ok(pb::DeleteAgentResponse {
            interrupted_conversation_ids: interrupted,
        })
    }
}
