//! Positions pushed to waiting customers (RTG-15). One statement ranks a
//! queue with a window function, forgets conversations that left it and
//! returns the positions that differ from the last one pushed; the caller
//! decides which to push ([`crate::domain::should_push`]) and records them.
//! A table of its own, so computing positions never locks the entries
//! routing claims.
use livedesk_platform::db::{int_array, stmt};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::changed_one;
use super::entries::QUEUE_ORDER;
use super::uuid_array;

/// A waiting conversation whose position moved: (conversation, now, last pushed).
pub type Moved = (Uuid, i64, Option<i32>);

/// Position queries.
pub struct Positions;

impl Positions {
    /// Claims this period's turn for `queue`: true for one replica per
    /// period (a conditional upsert; the row lock serializes replicas).
    pub async fn claim_turn<C: ConnectionTrait>(
        db: &C,
        queue: Uuid,
        period_ms: i64,
    ) -> Result<bool, DbErr> {
        let st = stmt(
            "INSERT INTO queue_position_runs (queue_id, ran_at) VALUES ($1, clock_timestamp()) \
             ON CONFLICT (queue_id) DO UPDATE SET ran_at = clock_timestamp() \
             WHERE queue_position_runs.ran_at <= clock_timestamp() - make_interval(secs => $2::float8 / 1000.0)",
            [queue.into(), (period_ms as f64).into()],
        );
        changed_one(db, st).await
    }

    /// Ranks `queue`, forgets conversations no longer waiting in it, and
    /// returns those whose position differs from the last one pushed.
    pub async fn moved<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
    ) -> Result<Vec<Moved>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                &format!(
                    "WITH ranked AS ( \
                       SELECT e.conversation_id, row_number() OVER (ORDER BY {QUEUE_ORDER}) AS position \
                       FROM queue_entries e WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued'), \
                     gone AS ( \
                       DELETE FROM queue_positions p WHERE p.queue_id = $2 \
                         AND NOT EXISTS (SELECT 1 FROM ranked r WHERE r.conversation_id = p.conversation_id)) \
                     SELECT r.conversation_id, r.position::bigint AS position, p.position AS last \
                     FROM ranked r LEFT JOIN queue_positions p ON p.conversation_id = r.conversation_id \
                     WHERE p.position IS DISTINCT FROM r.position OR p.queue_id <> $2"
                ),
                [org.into(), queue.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "conversation_id")?,
                    r.try_get("", "position")?,
                    r.try_get("", "last")?,
                ))
            })
            .collect()
    }

    /// Records the positions just pushed.
    pub async fn record<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        pushed: &[(Uuid, i32)],
    ) -> Result<(), DbErr> {
        let ids: Vec<Uuid> = pushed.iter().map(|p| p.0).collect();
        let positions: Vec<i32> = pushed.iter().map(|p| p.1).collect();
        db.execute_raw(stmt(
            "INSERT INTO queue_positions (conversation_id, org_id, queue_id, position) \
             SELECT c, $1, $2, p FROM unnest($3::uuid[], $4::int[]) AS t(c, p) \
             ON CONFLICT (conversation_id) DO UPDATE SET position = EXCLUDED.position, queue_id = EXCLUDED.queue_id",
            [org.into(), queue.into(), uuid_array(&ids), int_array(&positions)],
        ))
        .await?;
        Ok(())
    }

    /// Queues whose positions may have changed: with waiting conversations
    /// or with positions still stored.
    pub async fn queues<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT DISTINCT org_id, queue_id FROM queue_entries WHERE status = 'queued' \
                 UNION SELECT DISTINCT org_id, queue_id FROM queue_positions LIMIT $1",
                [(limit as i64).into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "org_id")?, r.try_get("", "queue_id")?)))
            .collect()
    }
}
