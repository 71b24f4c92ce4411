//! State changes of a live conversation driven by routing and by agents:
//! pause and resume (CNV-12), transfer and conference (RTG-7, RTG-8),
//! interruption (RTG-11), and the natural-close claim (CNV-13). Each is a
//! conditional UPDATE on the current state, so a late, repeated or
//! reordered event changes nothing, whatever the replicas do.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::{ConvRow, Conversations};
use crate::domain::Status;
use crate::domain::labels::status_label;

/// A conversation the natural-close sweep claimed.
#[derive(Debug, Clone, FromQueryResult)]
pub struct IdleRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub interrupted: bool,
}

/// The live statuses' labels (`labels::live_statuses_sql`), written out
/// as the predicate of the `conversations_live_activity` partial index
/// (migration 0008) so the natural-close sweep can use it.
const LIVE: &str = "('queued', 'active', 'paused')";

impl Conversations {
    /// ACTIVE → PAUSED by its owner: the agent is freed (no longer assigned
    /// nor an active participant) and remembered as the preferred one.
    pub async fn pause<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        agent: &str,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE conversations SET status = $3, paused_by_agent_id = $4, assigned_agent_id = NULL \
                 WHERE org_id = $1 AND id = $2 AND status = $5 AND assigned_agent_id = $4 AND NOT interrupted",
                [
                    org.into(),
                    id.into(),
                    status_label(Status::Paused).into(),
                    agent.to_owned().into(),
                    status_label(Status::Active).into(),
                ],
            ))
            .await?
            .rows_affected();
        if n == 1 {
            db.execute_raw(stmt(
                "UPDATE participants SET active = false WHERE conversation_id = $1 AND role = 'agent'",
                [id.into()],
            ))
            .await?;
        }
        Ok(n == 1)
    }

    /// PAUSED → QUEUED when the customer writes again (CNV-12).
    pub async fn resume<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<ConvRow>, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE conversations SET status = $3 WHERE org_id = $1 AND id = $2 AND status = $4",
                [
                    org.into(),
                    id.into(),
                    status_label(Status::Queued).into(),
                    status_label(Status::Paused).into(),
                ],
            ))
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        Self::get(db, org, id).await
    }

    /// Transfer to a queue (RTG-7): QUEUED again in the new queue, the
    /// transferring agent no longer active. Only while `from` still owns it.
    pub async fn transfer_to_queue<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        from: &str,
        queue: Uuid,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE conversations SET status = $3, queue_id = $4, assigned_agent_id = NULL \
                 WHERE org_id = $1 AND id = $2 AND status = $5 AND assigned_agent_id = $6",
                [
                    org.into(),
                    id.into(),
                    status_label(Status::Queued).into(),
                    queue.into(),
                    status_label(Status::Active).into(),
                    from.to_owned().into(),
                ],
            ))
            .await?
            .rows_affected();
        if n == 1 {
            Self::deactivate(db, id, from).await?;
        }
        Ok(n == 1)
    }

    /// Makes `agent` an active participant of a live conversation (RTG-8);
    /// `true` only when they were not active already.
    pub async fn join<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        agent: &str,
        name: &str,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                &format!(
                    "INSERT INTO participants (conversation_id, org_id, principal_id, role, display_name) \
                     SELECT id, org_id, $3, 'agent', $4 FROM conversations WHERE org_id = $1 AND id = $2 AND status IN {LIVE} \
                     ON CONFLICT (conversation_id, principal_id) DO UPDATE SET active = true, \
                       display_name = CASE WHEN EXCLUDED.display_name = '' THEN participants.display_name ELSE EXCLUDED.display_name END \
                     WHERE NOT participants.active"
                ),
                [org.into(), id.into(), agent.to_owned().into(), name.to_owned().into()],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// An invited agent leaves (conference ended or declined); the owner
    /// never does this way.
    pub async fn leave<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        agent: &str,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE participants p SET active = false FROM conversations c \
                 WHERE c.id = p.conversation_id AND c.org_id = $1 AND c.id = $2 AND p.principal_id = $3 \
                   AND p.role = 'agent' AND p.active AND c.assigned_agent_id IS DISTINCT FROM $3",
                [org.into(), id.into(), agent.to_owned().into()],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Marks a live conversation interrupted (RTG-11).
    pub async fn interrupt<C: ConnectionTrait>(db: &C, org: Uuid, id: Uuid) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                &format!(
                    "UPDATE conversations SET interrupted = true \
                     WHERE org_id = $1 AND id = $2 AND status IN {LIVE} AND NOT interrupted"
                ),
                [org.into(), id.into()],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Claims up to `limit` live conversations idle for longer than their
    /// org's `natural_close_days` (CNV-13). Rows stay locked until the
    /// caller's transaction ends; other replicas skip them.
    pub async fn claim_idle<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<IdleRow>, DbErr> {
        IdleRow::find_by_statement(stmt(
            &format!(
                "SELECT c.org_id, c.id, c.interrupted FROM conversations c \
                 LEFT JOIN settings s ON s.org_id = c.org_id \
                 WHERE c.status IN {LIVE} \
                   AND c.last_activity_at < now() - make_interval(days => COALESCE(s.natural_close_days, 7)) \
                 ORDER BY c.last_activity_at LIMIT $1 FOR UPDATE OF c SKIP LOCKED"
            ),
            [i64::try_from(limit).unwrap_or(100).into()],
        ))
        .all(db)
        .await
    }

    pub(super) async fn deactivate<C: ConnectionTrait>(
        db: &C,
        id: Uuid,
        agent: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE participants SET active = false WHERE conversation_id = $1 AND principal_id = $2 AND role = 'agent'",
            [id.into(), agent.to_owned().into()],
        ))
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_live_literal_lists_the_live_statuses() {
        assert_eq!(super::LIVE, crate::domain::labels::live_statuses_sql());
    }
}
