//! Queries on `schedules` and `queue_schedules`. Intervals and exceptions
//! are stored as jsonb in their raw API shape and re-validated on load, so
//! the domain only ever sees parsed schedules.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{RawException, RawSchedule, Schedule};
use crate::error::Error;

#[derive(Debug, Serialize, Deserialize)]
struct IntervalJson {
    weekday: u32,
    start: u32,
    end: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct HoursJson {
    start: u32,
    end: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExceptionJson {
    date: String,
    closed: bool,
    #[serde(default)]
    hours: Vec<HoursJson>,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Clone, FromQueryResult)]
struct ScheduleRow {
    id: Uuid,
    name: String,
    time_zone: String,
    intervals: serde_json::Value,
    exceptions: serde_json::Value,
    always_open: bool,
    closing_soon_minutes: i32,
    is_default: bool,
}

impl ScheduleRow {
    fn parse(self) -> Result<Schedule, Error> {
        let corrupt = |what: &str| Error::Corrupt(format!("schedule {}: {what}", self.id));
        let intervals: Vec<IntervalJson> =
            serde_json::from_value(self.intervals.clone()).map_err(|_| corrupt("intervals"))?;
        let exceptions: Vec<ExceptionJson> =
            serde_json::from_value(self.exceptions.clone()).map_err(|_| corrupt("exceptions"))?;
        let raw = RawSchedule {
            name: self.name.clone(),
            time_zone: self.time_zone.clone(),
            intervals: intervals
                .into_iter()
                .map(|i| (i.weekday, i.start, i.end))
                .collect(),
            exceptions: exceptions
                .into_iter()
                .map(|e| RawException {
                    date: e.date,
                    closed: e.closed,
                    hours: e.hours.into_iter().map(|h| (h.start, h.end)).collect(),
                    name: e.name,
                })
                .collect(),
            always_open: self.always_open,
            closing_soon_minutes: u32::try_from(self.closing_soon_minutes).unwrap_or(0),
        };
        Schedule::parse(self.id, self.is_default, &raw, "")
            .map_err(|v| corrupt(&format!("{} invalid fields", v.len())))
    }
}

fn json_of(s: &Schedule) -> (serde_json::Value, serde_json::Value) {
    let raw = s.to_raw();
    let intervals: Vec<IntervalJson> = raw
        .intervals
        .iter()
        .map(|&(weekday, start, end)| IntervalJson {
            weekday,
            start,
            end,
        })
        .collect();
    let exceptions: Vec<ExceptionJson> = raw
        .exceptions
        .into_iter()
        .map(|e| ExceptionJson {
            date: e.date,
            closed: e.closed,
            hours: e
                .hours
                .into_iter()
                .map(|(start, end)| HoursJson { start, end })
                .collect(),
            name: e.name,
        })
        .collect();
    (serde_json::json!(intervals), serde_json::json!(exceptions))
}

const COLUMNS: &str =
    "id, name, time_zone, intervals, exceptions, always_open, closing_soon_minutes, is_default";

/// Schedule queries.
pub struct Schedules;

impl Schedules {
    /// Inserts a new schedule; `false` when `client_request_id` was already
    /// used by this org (a retry).
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        s: &Schedule,
        client_request_id: Option<&str>,
    ) -> Result<bool, DbErr> {
        let (intervals, exceptions) = json_of(s);
        let res = db
            .execute_raw(stmt(
                "INSERT INTO schedules (id, org_id, name, time_zone, intervals, exceptions, always_open, \
                 closing_soon_minutes, is_default, client_request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                [
                    s.id.into(),
                    org.into(),
                    s.name.clone().into(),
                    s.time_zone_name.clone().into(),
                    intervals.into(),
                    exceptions.into(),
                    s.always_open.into(),
                    (s.closing_soon_minutes as i32).into(),
                    s.is_default.into(),
                    client_request_id.map(str::to_owned).into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Replaces a schedule's content; the default schedule is created on
    /// its first edit. `false` when no such schedule exists in the org.
    pub async fn update<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        s: &Schedule,
    ) -> Result<bool, DbErr> {
        let (intervals, exceptions) = json_of(s);
        let sql = if s.is_default {
            "INSERT INTO schedules (id, org_id, name, time_zone, intervals, exceptions, always_open, closing_soon_minutes, is_default) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true) \
             ON CONFLICT (id) DO UPDATE SET name = $3, time_zone = $4, intervals = $5, exceptions = $6, \
             always_open = $7, closing_soon_minutes = $8, updated_at = now() WHERE schedules.org_id = $2"
        } else {
            "UPDATE schedules SET name = $3, time_zone = $4, intervals = $5, exceptions = $6, always_open = $7, \
             closing_soon_minutes = $8, updated_at = now() WHERE id = $1 AND org_id = $2"
        };
        let res = db
            .execute_raw(stmt(
                sql,
                [
                    s.id.into(),
                    org.into(),
                    s.name.clone().into(),
                    s.time_zone_name.clone().into(),
                    intervals.into(),
                    exceptions.into(),
                    s.always_open.into(),
                    (s.closing_soon_minutes as i32).into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// One schedule of the org (the default one even when never stored).
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<Schedule>, Error> {
        let row = ScheduleRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM schedules WHERE org_id = $1 AND id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await?;
        match row {
            Some(r) => Ok(Some(r.parse()?)),
            None if id == livedesk_platform::defaults::default_schedule_id(org) => {
                Ok(Some(Schedule::default_for(org)))
            }
            None => Ok(None),
        }
    }

    /// The schedule created by an earlier call with the same idempotency key.
    pub async fn by_client_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        key: &str,
    ) -> Result<Option<Schedule>, Error> {
        let row = ScheduleRow::find_by_statement(stmt(
            &format!(
                "SELECT {COLUMNS} FROM schedules WHERE org_id = $1 AND client_request_id = $2"
            ),
            [org.into(), key.to_owned().into()],
        ))
        .one(db)
        .await?;
        row.map(ScheduleRow::parse).transpose()
    }

    /// Every schedule of the org, the default first.
    pub async fn list<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<Schedule>, Error> {
        let rows = ScheduleRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM schedules WHERE org_id = $1 ORDER BY is_default DESC, created_at, id"),
            [org.into()],
        ))
        .all(db)
        .await?;
        let mut out = Vec::with_capacity(rows.len() + 1);
        if !rows.iter().any(|r| r.is_default) {
            out.push(Schedule::default_for(org));
        }
        for r in rows {
            out.push(r.parse()?);
        }
        Ok(out)
    }

    /// Deletes an unassigned, non-default schedule. Returns whether it was
    /// deleted; the FK on `queue_schedules` refuses an assigned one even
    /// when an assignment races this delete.
    pub async fn delete<C: ConnectionTrait>(db: &C, org: Uuid, id: Uuid) -> Result<bool, DbErr> {
        let res = db
            .execute_raw(stmt(
                "DELETE FROM schedules WHERE org_id = $1 AND id = $2 AND NOT is_default \
                 AND NOT EXISTS (SELECT 1 FROM queue_schedules WHERE org_id = $1 AND schedule_id = $2)",
                [org.into(), id.into()],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Points a queue at a schedule; the default schedule removes the row.
    pub async fn assign<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        schedule: Uuid,
    ) -> Result<(), DbErr> {
        if schedule == livedesk_platform::defaults::default_schedule_id(org) {
            db.execute_raw(stmt(
                "DELETE FROM queue_schedules WHERE org_id = $1 AND queue_id = $2",
                [org.into(), queue.into()],
            ))
            .await?;
        } else {
            db.execute_raw(stmt(
                "INSERT INTO queue_schedules (org_id, queue_id, schedule_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id, queue_id) DO UPDATE SET schedule_id = $3, assigned_at = now()",
                [org.into(), queue.into(), schedule.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// The org's queue → schedule assignments.
    pub async fn assignments<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
    ) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT queue_id, schedule_id FROM queue_schedules WHERE org_id = $1",
                [org.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "queue_id")?, r.try_get("", "schedule_id")?)))
            .collect()
    }
}
