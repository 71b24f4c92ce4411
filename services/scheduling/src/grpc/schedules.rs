//! Schedule CRUD and assignment (SCH-1, SCH-7): admins configure, staff read.
use livedesk_auth::principal;
use livedesk_platform::defaults::default_schedule_id;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::scheduling::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::SchedulingGrpc;
use super::convert;
use crate::domain::Schedule;
use crate::error::{Entity, Error};
use crate::store::Schedules;

type Result<T> = std::result::Result<T, Error>;

impl SchedulingGrpc {
    pub(super) async fn create_schedule_impl(
        &self,
        req: Request<pb::CreateScheduleRequest>,
    ) -> Result<pb::Schedule> {
        let who = principal(&req)?;
        who.require_admin("create a schedule")?;
        let body = req.get_ref();
        let raw = body
            .schedule
            .as_ref()
            .ok_or_else(|| FieldViolation::new("schedule", "required"))?;
        let key = Some(body.client_request_id.trim()).filter(|k| !k.is_empty());
        if let Some(k) = key
            && let Some(existing) = Schedules::by_client_request(&self.db, who.org_id, k).await?
        {
            return Ok(convert::schedule(&existing));
        }
        let schedule = Schedule::parse(
            Uuid::now_v7(),
            false,
            &convert::raw_schedule(raw),
            "schedule.",
        )?;
        if !Schedules::insert(&self.db, who.org_id, &schedule, key).await? {
            // Lost a race with a retry carrying the same key: its result wins.
            if let Some(k) = key
                && let Some(existing) =
                    Schedules::by_client_request(&self.db, who.org_id, k).await?
            {
                return Ok(convert::schedule(&existing));
            }
            return Err(Error::Corrupt(
                "schedule insert conflicted without an idempotency key".into(),
            ));
        }
        self.cache.invalidate(who.org_id);
        tracing::info!(org_id = %who.org_id, schedule_id = %schedule.id, "schedule created");
        Ok(convert::schedule(&schedule))
    }

    pub(super) async fn update_schedule_impl(
        &self,
        req: Request<pb::UpdateScheduleRequest>,
    ) -> Result<pb::Schedule> {
        let who = principal(&req)?;
        who.require_admin("update a schedule")?;
        let raw = req
            .get_ref()
            .schedule
            .as_ref()
            .ok_or_else(|| FieldViolation::new("schedule", "required"))?;
        let id = parse_uuid("schedule.id", &raw.id)?;
        let is_default = id == default_schedule_id(who.org_id);
        let schedule = Schedule::parse(id, is_default, &convert::raw_schedule(raw), "schedule.")?;
        if !Schedules::update(&self.db, who.org_id, &schedule).await? {
            return Err(Error::NotFound(Entity::Schedule));
        }
        self.cache.invalidate(who.org_id);
        tracing::info!(org_id = %who.org_id, schedule_id = %id, "schedule updated");
        Ok(convert::schedule(&schedule))
    }

    pub(super) async fn get_schedule_impl(
        &self,
        req: Request<pb::GetScheduleRequest>,
    ) -> Result<pb::Schedule> {
        let who = principal(&req)?;
        who.require_staff("read schedules")?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let s = Schedules::get(&self.db, who.org_id, id)
            .await?
            .ok_or(Error::NotFound(Entity::Schedule))?;
        Ok(convert::schedule(&s))
    }

    pub(super) async fn list_schedules_impl(
        &self,
        req: Request<pb::ListSchedulesRequest>,
    ) -> Result<pb::ListSchedulesResponse> {
        let who = principal(&req)?;
        who.require_staff("list schedules")?;
        let list = Schedules::list(&self.db, who.org_id).await?;
        Ok(pb::ListSchedulesResponse {
            schedules: list.iter().map(convert::schedule).collect(),
        })
    }

    pub(super) async fn delete_schedule_impl(
        &self,
        req: Request<pb::DeleteScheduleRequest>,
    ) -> Result<pb::DeleteScheduleResponse> {
        let who = principal(&req)?;
        who.require_admin("delete a schedule")?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        if id == default_schedule_id(who.org_id) {
            return Err(Error::DefaultScheduleUndeletable);
        }
        let deleted = match Schedules::delete(&self.db, who.org_id, id).await {
            Ok(d) => d,
            // An assignment committed between our check and the delete.
            Err(e) if livedesk_platform::db::is_foreign_key_violation(&e) => {
                return Err(Error::ScheduleAssigned);
            }
            Err(e) => return Err(e.into()),
        };
        if !deleted {
            return match Schedules::get(&self.db, who.org_id, id).await? {
                None => Err(Error::NotFound(Entity::Schedule)),
                Some(_) => Err(Error::ScheduleAssigned),
            };
        }
        self.cache.invalidate(who.org_id);
        tracing::info!(org_id = %who.org_id, schedule_id = %id, "schedule deleted");
        Ok(pb::DeleteScheduleResponse {})
    }

    pub(super) async fn assign_schedule_impl(
        &self,
        req: Request<pb::AssignScheduleRequest>,
    ) -> Result<pb::AssignScheduleResponse> {
        let who = principal(&req)?;
        who.require_admin("assign a schedule")?;
        let body = req.get_ref();
        let queue = livedesk_platform::defaults::queue_or_default(who.org_id, &body.queue_id)
            .map_err(|_| FieldViolation::new("queue_id", "must be a UUID"))?;
        // Empty = back to the org default.
        let schedule = if body.schedule_id.trim().is_empty() {
            default_schedule_id(who.org_id)
        } else {
            parse_uuid("schedule_id", &body.schedule_id)?
        };
        let txn = self.db.begin().await?;
        if Schedules::get(&txn, who.org_id, schedule).await?.is_none() {
            return Err(Error::NotFound(Entity::Schedule));
        }
        Schedules::assign(&txn, who.org_id, queue, schedule).await?;
        txn.commit().await?;
        self.cache.invalidate(who.org_id);
        tracing::info!(org_id = %who.org_id, queue_id = %queue, schedule_id = %schedule, "schedule assigned");
        Ok(pb::AssignScheduleResponse {})
    }
}
