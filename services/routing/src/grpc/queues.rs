//! Queues (RTG-3), members, and staffing status (RTG-10).
use livedesk_auth::principal;
use livedesk_platform::defaults::queue_or_default;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::page::Page;
use livedesk_proto::routing::v1 as pb;
use sea_orm::{ConnectionTrait, TransactionTrait};
use tonic::Request;
use uuid::Uuid;

use super::RoutingGrpc;
use crate::domain::QueueSpec;
use crate::engine::stage_memberships;
use crate::error::{Entity, Error};
use crate::store::{Agents, Memberships, Orgs, Queues};
use crate::views;
use livedesk_events::Staged;

fn spec_of(q: &pb::Queue) -> Result<(QueueSpec, Option<Uuid>), Error> {
    let mut violations = Vec::new();
    let spec = QueueSpec::parse(
        &q.name,
        q.strategy,
        q.offer_timeout_seconds,
        &q.required_skills,
        q.max_wait_seconds,
        q.transfer_failure_policy,
        q.offer_form_after_seconds,
    )
    .map_err(|v| violations.extend(v))
    .ok();
    // RTG-3, SCH-1: a queue's schedule has one writer, scheduling's
    // AssignSchedule (it evaluates IsOpen from it); routing neither stores
    // nor echoes one, so a value here would be silently ignored: refused.
    if !q.schedule_id.trim().is_empty() {
        violations.push(FieldViolation::new(
            "queue.schedule_id",
            "read-only: assign a schedule with SchedulingService.AssignSchedule",
        ));
    }
    let schedule: Option<Uuid> = None;
    match spec {
        Some(spec) if violations.is_empty() => Ok((spec, schedule)),
        _ => Err(Error::Invalid(violations)),
    }
}

async fn check_agents<C: ConnectionTrait>(
    db: &C,
    org: Uuid,
    ids: &[String],
) -> Result<Vec<String>, Error> {
    let mut ids: Vec<String> = ids
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    if Agents::existing(db, org, &ids).await?.len() != ids.len() {
        return Err(Error::NotFound(Entity::Agent));
    }
    Ok(ids)
}

impl RoutingGrpc {
    /// Publishes a queue's new state with the change's transaction, commits,
    /// and lets routing look at the queue again.
    async fn commit_queue_change(
        &self,
        txn: sea_orm::DatabaseTransaction,
        org: uuid::Uuid,
        id: uuid::Uuid,
        mut staged: Vec<Staged>,
    ) -> Result<pb::Queue, Error> {
        let row = Queues::get(&txn, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Queue))?;
        let view = views::queue(&row);
        staged.push(
            self.outbox
                .stage(
                    &txn,
                    org,
                    id,
                    &pb::QueueChanged {
                        queue: Some(view.clone()),
                        deleted: false,
                    },
                )
                .await?,
        );
        self.commit(txn, staged).await?;
        self.router.kick_queues(org, &[id]);
        Ok(view)
    }

    pub(super) async fn create_queue(
        &self,
        req: Request<pb::CreateQueueRequest>,
    ) -> Result<pb::Queue, Error> {
        let who = principal(&req)?;
        who.require_admin("create a queue")?;
        let body = req.get_ref();
        let q = body.queue.clone().unwrap_or_default();
        let (spec, schedule) = spec_of(&q)?;
        let key = Some(body.client_request_id.trim()).filter(|k| !k.is_empty());
        if let Some(k) = key
            && let Some(existing) = Queues::by_client_request(&self.db, who.org_id, k).await?
        {
            return Ok(views::queue(&existing));
        }
        let txn = self.db.begin().await?;
        Memberships::lock(&txn, who.org_id).await?;
        Orgs::ensure(&txn, who.org_id).await?;
        let members = check_agents(&txn, who.org_id, &q.member_agent_ids).await?;
        let Some(id) = Queues::insert(&txn, who.org_id, &spec, schedule, key).await? else {
            txn.rollback().await?;
            // The same key raced with itself: answer with the winner.
            let k = key.unwrap_or_default();
            return Queues::by_client_request(&self.db, who.org_id, k)
                .await?
                .map(|r| views::queue(&r))
                .ok_or(Error::NotFound(Entity::Queue));
        };
        Queues::set_members(&txn, who.org_id, id, &members).await?;
        let staged = stage_memberships(&self.outbox, &txn, who.org_id, &members).await?;
        let queue = self
            .commit_queue_change(txn, who.org_id, id, staged)
            .await?;
        tracing::info!(org = %who.org_id, queue_id = %id, "queue created");
        Ok(queue)
    }

    pub(super) async fn update_queue(
        &self,
        req: Request<pb::UpdateQueueRequest>,
    ) -> Result<pb::Queue, Error> {
        let who = principal(&req)?;
        who.require_admin("update a queue")?;
        let q = req.get_ref().queue.clone().unwrap_or_default();
        let id = parse_uuid("queue.id", &q.id)?;
        let (spec, schedule) = spec_of(&q)?;
        let txn = self.db.begin().await?;
        let n = Queues::update(&txn, who.org_id, id, &spec, schedule).await?;
        if !n {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Queue));
        }
        self.commit_queue_change(txn, who.org_id, id, vec![]).await
    }

    pub(super) async fn get_queue(
        &self,
        req: Request<pb::GetQueueRequest>,
    ) -> Result<pb::Queue, Error> {
        let who = principal(&req)?;
        who.require_staff("read queues")?;
        let id = queue_or_default(who.org_id, &req.get_ref().id)
            .map_err(|_| FieldViolation::new("id", "must be a UUID"))?;
        Queues::ensure_default(&self.db, who.org_id).await?;
        Ok(views::queue(
            &Queues::get(&self.db, who.org_id, id)
                .await?
                .ok_or(Error::NotFound(Entity::Queue))?,
        ))
    }

    pub(super) async fn list_queues(
        &self,
        req: Request<pb::ListQueuesRequest>,
    ) -> Result<pb::ListQueuesResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list queues")?;
        let page = Page::parse(req.get_ref().page.as_ref())?;
        Queues::ensure_default(&self.db, who.org_id).await?;
        let rows = Queues::list(&self.db, who.org_id, page.after, page.size).await?;
        let last = rows.last().map(|r| (r.created_at, r.id));
        Ok(pb::ListQueuesResponse {
            page: Some(page.response(rows.len(), last)),
            queues: rows.iter().map(views::queue).collect(),
        })
    }

    pub(super) async fn set_queue_members(
        &self,
        req: Request<pb::SetQueueMembersRequest>,
    ) -> Result<pb::Queue, Error> {
        let who = principal(&req)?;
        who.require_supervisor("set queue members")?;
        let body = req.get_ref();
        let id = queue_or_default(who.org_id, &body.queue_id)
            .map_err(|_| FieldViolation::new("queue_id", "must be a UUID"))?;
        let txn = self.db.begin().await?;
        Memberships::lock(&txn, who.org_id).await?;
        Queues::ensure_default(&txn, who.org_id).await?;
        let Some(before) = Queues::get(&txn, who.org_id, id).await? else {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Queue));
        };
        let members = check_agents(&txn, who.org_id, &body.agent_ids).await?;
        Queues::set_members(&txn, who.org_id, id, &members).await?;
        // Who joined or left: their snapshots changed (TEN-3).
        let changed: Vec<String> = before
            .member_agent_ids
            .iter()
            .filter(|a| !members.contains(a))
            .chain(
                members
                    .iter()
                    .filter(|a| !before.member_agent_ids.contains(a)),
            )
            .cloned()
            .collect();
        let staged = stage_memberships(&self.outbox, &txn, who.org_id, &changed).await?;
        self.commit_queue_change(txn, who.org_id, id, staged).await
    }

    pub(super) async fn get_queue_status(
        &self,
        req: Request<pb::GetQueueStatusRequest>,
    ) -> Result<pb::QueueStatus, Error> {
        let who = principal(&req)?;
        who.require_staff("read queue status")?;
        let id = queue_or_default(who.org_id, &req.get_ref().queue_id)
            .map_err(|_| FieldViolation::new("queue_id", "must be a UUID"))?;
        Queues::ensure_default(&self.db, who.org_id).await?;
        if Queues::get(&self.db, who.org_id, id).await?.is_none() {
            return Err(Error::NotFound(Entity::Queue));
        }
        let s = Queues::status(&self.db, who.org_id, id).await?;
        Ok(pb::QueueStatus {
            queue_id: id.to_string(),
            staffed: s.available_agents > 0,
            available_agents: u32::try_from(s.available_agents).unwrap_or(0),
            waiting: u32::try_from(s.waiting).unwrap_or(0),
            oldest_wait_seconds: u32::try_from(s.oldest_wait_seconds).unwrap_or(0),
        })
    }
}
