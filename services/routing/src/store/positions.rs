//! Positions pushed to waiting customers (RTG-15). One statement ranks a
//! queue with a window function, stores the positions that changed and
//! forgets conversations that left the queue; only changes are returned,
//! so each customer hears about their position once per change.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::entries::QUEUE_ORDER;

/// Position queries.
pub struct Positions;

impl Positions {
    /// Recomputes the positions of `queue`; returns (conversation,
    /// position) for each one that changed. Callers hold the queue's
    /// advisory lock ([`Self::try_lock_queue`]) so replicas do not race.
    pub async fn refresh<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
    ) -> Result<Vec<(Uuid, i64)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                &format!(
                    "WITH ranked AS ( \
                       SELECT e.conversation_id, row_number() OVER (ORDER BY {QUEUE_ORDER}) AS position \
                       FROM queue_entries e WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued'), \
                     gone AS ( \
                       DELETE FROM queue_positions p WHERE p.queue_id = $2 \
                         AND NOT EXISTS (SELECT 1 FROM ranked r WHERE r.conversation_id = p.conversation_id)), \
                     changed AS ( \
                       INSERT INTO queue_positions (conversation_id, org_id, queue_id, position) \
                       SELECT r.conversation_id, $1, $2, r.position FROM ranked r \
                       ON CONFLICT (conversation_id) DO UPDATE SET position = EXCLUDED.position, queue_id = EXCLUDED.queue_id \
                       WHERE queue_positions.position <> EXCLUDED.position OR queue_positions.queue_id <> EXCLUDED.queue_id \
                       RETURNING conversation_id, position) \
                     SELECT conversation_id, position::bigint AS position FROM changed"
                ),
                [org.into(), queue.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "conversation_id")?,
                    r.try_get("", "position")?,
                ))
            })
            .collect()
    }

    /// Takes the queue's transaction-scoped advisory lock unless another
    /// replica holds it.
    pub async fn try_lock_queue<C: ConnectionTrait>(db: &C, queue: Uuid) -> Result<bool, DbErr> {
        let key = i64::from_le_bytes(queue.as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let row = db
            .query_one_raw(stmt(
                "SELECT pg_try_advisory_xact_lock($1) AS locked",
                [key.into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<bool>("", "locked"))
            .transpose()?
            .unwrap_or(false))
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
