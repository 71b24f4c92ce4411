//! Qualification after the end, audited (CNV-10), and the per-queue
//! policy of mandatory tags and reason (CNV-16).
use livedesk_auth::{Role, principal};
use livedesk_platform::errors::parse_uuid;
use livedesk_platform::time::to_proto;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;

use super::access::{masks_pii, visible_locked};
use super::service::ConversationsGrpc;
use crate::domain::Qualification;
use crate::error::{Entity, Error};
use crate::store::{Conversations, Policies, PolicyRow};
use crate::views;

fn qual(tags: &[String], reason: &str, note: &str) -> pb::Qualification {
    pb::Qualification {
        tags: tags.to_vec(),
        contact_reason: reason.to_owned(),
        note: note.to_owned(),
    }
}

impl ConversationsGrpc {
    /// Changes tags, reason and note of an ended conversation: the agent
    /// who handled it or a supervisor/admin; every change is audited.
    pub(super) async fn update_qualification(
        &self,
        req: Request<pb::UpdateQualificationRequest>,
    ) -> Result<pb::Conversation, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "change a qualification",
        )?;
        let org = who.org_id;
        let body = req.get_ref();
        let id = parse_uuid("id", &body.id)?;
        let q = body.qualification.clone().unwrap_or_default();
        let after = Qualification::parse(&q.tags, &q.contact_reason, &q.note)?;
        let txn = self.db.begin().await?;
        let row = visible_locked(&txn, &who, id).await?;
        if who.role == Role::Agent && !row.all_agents().contains(&who.id) {
            return Err(Error::NotHandler);
        }
        if row.ended_at.is_none() {
            return Err(Error::QualificationAfterEnd);
        }
        let policy = Policies::get(&txn, org, row.queue_id).await?;
        let missing = after.missing(policy.require_tags, policy.require_contact_reason);
        if !missing.is_empty() {
            return Err(Error::Invalid(missing));
        }
        let before = Qualification {
            tags: row.qual_tags.clone(),
            contact_reason: row.qual_reason.clone(),
            note: row.qual_note.clone(),
        };
        Policies::requalify(&txn, org, id, &who.id, &before, &after).await?;
        let event = pb::QualificationUpdated {
            conversation_id: id.to_string(),
            qualification: Some(qual(&after.tags, &after.contact_reason, &after.note)),
            changed_by: who.id.clone(),
        };
        let staged = self.outbox.stage(&txn, org, id, &event).await?;
        let updated = Conversations::get(&txn, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        Ok(views::conversation(
            &updated,
            masks_pii(&self.db, &who).await?,
        ))
    }

    /// Who changed a conversation's qualification, when, from what to what.
    pub(super) async fn qualification_audit(
        &self,
        req: Request<pb::ListQualificationAuditRequest>,
    ) -> Result<pb::ListQualificationAuditResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("read the qualification audit")?;
        let id = parse_uuid("conversation_id", &req.get_ref().conversation_id)?;
        super::access::visible(&self.db, &who, id).await?;
        let entries = Policies::audit(&self.db, who.org_id, id)
            .await?
            .into_iter()
            .map(|a| pb::QualificationAudit {
                conversation_id: id.to_string(),
                changed_by: a.changed_by,
                changed_at: Some(to_proto(a.changed_at)),
                before: Some(qual(&a.before_tags, &a.before_reason, &a.before_note)),
                after: Some(qual(&a.after_tags, &a.after_reason, &a.after_note)),
            })
            .collect();
        Ok(pb::ListQualificationAuditResponse { entries })
    }

    /// Makes tags and/or a reason mandatory at the end in a queue (admins).
    pub(super) async fn set_queue_policy(
        &self,
        req: Request<pb::QueuePolicy>,
    ) -> Result<pb::QueuePolicy, Error> {
        let who = principal(&req)?;
        who.require_admin("change a queue policy")?;
        let body = req.get_ref();
        let queue = livedesk_platform::defaults::queue_or_default(who.org_id, &body.queue_id)
            .map_err(|_| {
                livedesk_platform::errors::FieldViolation::new(
                    "queue_id",
                    "must be a UUID or empty",
                )
            })?;
        let p = PolicyRow {
            require_tags: body.require_tags,
            require_contact_reason: body.require_contact_reason,
        };
        Policies::put(&self.db, who.org_id, queue, p).await?;
        Ok(pb::QueuePolicy {
            queue_id: queue.to_string(),
            require_tags: p.require_tags,
            require_contact_reason: p.require_contact_reason,
        })
    }

    /// A queue's policy (none configured = nothing mandatory).
    pub(super) async fn get_queue_policy(
        &self,
        req: Request<pb::GetQueuePolicyRequest>,
    ) -> Result<pb::QueuePolicy, Error> {
        let who = principal(&req)?;
        who.require_staff("read a queue policy")?;
        let queue =
            livedesk_platform::defaults::queue_or_default(who.org_id, &req.get_ref().queue_id)
                .map_err(|_| {
                    livedesk_platform::errors::FieldViolation::new(
                        "queue_id",
                        "must be a UUID or empty",
                    )
                })?;
        let p = Policies::get(&self.db, who.org_id, queue).await?;
        Ok(pb::QueuePolicy {
            queue_id: queue.to_string(),
            require_tags: p.require_tags,
            require_contact_reason: p.require_contact_reason,
        })
    }
}
