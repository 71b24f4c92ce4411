//! Queries deciding, across replicas, who announces a queue's transitions.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Announcement queries (SCH-4).
pub struct Announcements;

impl Announcements {
    /// Every queue with an assigned schedule: `(org, queue)`.
    pub async fn assigned_queues<C: ConnectionTrait>(db: &C) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT org_id, queue_id FROM queue_schedules ORDER BY org_id",
                [],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "org_id")?, r.try_get("", "queue_id")?)))
            .collect()
    }

    /// Records the queue's state. Returns `true` exactly once per change
    /// from `previous` (the first observation compares with `first_previous`,
    /// the state the queue had under the org default before its assignment).
    pub async fn record_state<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        schedule: Uuid,
        open: bool,
        first_previous: bool,
    ) -> Result<bool, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "INSERT INTO queue_open_state (org_id, queue_id, open, schedule_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, queue_id) DO UPDATE SET open = EXCLUDED.open, schedule_id = EXCLUDED.schedule_id, \
                 changed_at = now() WHERE queue_open_state.open <> EXCLUDED.open \
                 RETURNING (xmax = 0) AS inserted",
                [org.into(), queue.into(), open.into(), schedule.into()],
            ))
            .await?;
        Ok(match row {
            None => false,
            Some(r) => {
                let inserted: bool = r.try_get("", "inserted")?;
                !inserted || open != first_previous
            }
        })
    }

    /// Claims the closing-soon announcement of one closing instant.
    pub async fn claim_closing_soon<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        closes_at: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let res = db
            .execute_raw(stmt(
                "INSERT INTO closing_soon_announcements (org_id, queue_id, closes_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                [org.into(), queue.into(), closes_at.into()],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }
}
