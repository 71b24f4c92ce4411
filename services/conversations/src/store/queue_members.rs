//! The local read model of queue memberships (TEN-3): which queues each
//! agent serves, as routing last published it (`AgentQueuesChanged`).
//! Snapshots carry a version that grows in routing's commit order; one
//! applies only over an older one, so redelivered or reordered events
//! leave the table exactly as routing has it.
use livedesk_platform::db::{stmt, uuid_array};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Queries on `agent_memberships` and `queue_members`.
pub struct QueueMembers;

impl QueueMembers {
    /// Replaces `agent`'s queues with `queues` (none when `deleted`) if
    /// `version` is newer than the applied one; returns whether it was.
    pub async fn apply<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
        queues: &[Uuid],
        deleted: bool,
        version: i64,
    ) -> Result<bool, DbErr> {
        // The upsert locks the agent's row until commit: two snapshots of
        // one agent never interleave their replacements.
        let newer = db
            .execute_raw(stmt(
                "INSERT INTO agent_memberships (org_id, agent_id, version, deleted) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, agent_id) DO UPDATE SET version = EXCLUDED.version, deleted = EXCLUDED.deleted \
                 WHERE agent_memberships.version < EXCLUDED.version",
                [org.into(), agent.into(), version.into(), deleted.into()],
            ))
            .await?
            .rows_affected()
            == 1;
        if !newer {
            return Ok(false);
        }
        db.execute_raw(stmt(
            "DELETE FROM queue_members WHERE org_id = $1 AND agent_id = $2",
            [org.into(), agent.into()],
        ))
        .await?;
        if !deleted && !queues.is_empty() {
            db.execute_raw(stmt(
                "INSERT INTO queue_members (org_id, agent_id, queue_id) SELECT $1, $2, unnest($3::uuid[]) \
                 ON CONFLICT DO NOTHING",
                [org.into(), agent.into(), uuid_array(queues)],
            ))
            .await?;
        }
        Ok(true)
    }

    /// Whether `agent` may see some conversation of the request, or, for a
    /// request without any (an email or form ticket), serves the org's
    /// default queue, where such tickets are handled (TEN-3).
    pub async fn sees_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
        request: Uuid,
    ) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                &format!(
                    "SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.org_id = $1 AND c.request_id = $3 AND {}) \
                     OR (NOT EXISTS (SELECT 1 FROM conversations c WHERE c.org_id = $1 AND c.request_id = $3) \
                         AND EXISTS (SELECT 1 FROM queue_members m WHERE m.org_id = $1 AND m.agent_id = $2 AND m.queue_id = $4))",
                    agent_sees("c", "$2")
                ),
                [
                    org.into(),
                    agent.into(),
                    request.into(),
                    livedesk_platform::defaults::default_queue_id(org).into(),
                ],
            ))
            .await?
            .is_some())
    }

    /// Whether `agent` serves `queue`.
    pub async fn serves<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
        queue: Uuid,
    ) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                "SELECT 1 AS one FROM queue_members WHERE org_id = $1 AND agent_id = $2 AND queue_id = $3",
                [org.into(), agent.into(), queue.into()],
            ))
            .await?
            .is_some())
    }
}

/// SQL condition: the agent whose id is the text parameter `agent` may see
/// conversation alias `c` (TEN-3) — it waits or waited in one of their
/// queues, is assigned to them, or they take or took part in it. The same
/// rule as `grpc::access::can_see`, for listings.
pub(crate) fn agent_sees(c: &str, agent: &str) -> String {
    format!(
        "({c}.assigned_agent_id = {agent} \
         OR EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = {c}.id AND p.principal_id = {agent}) \
         OR EXISTS (SELECT 1 FROM queue_members m WHERE m.org_id = {c}.org_id AND m.agent_id = {agent} AND m.queue_id = {c}.queue_id))"
    )
}
