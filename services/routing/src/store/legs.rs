//! Agents' legs in conversations (RTG-8, RTG-9): the owner's, and an
//! invited participant's. A leg is 'active', then 'wrap_up', then 'done'.
//! Unique partial indexes keep one active owner and one active participant
//! per conversation (RTG-6, RTG-8).
use super::uuids;
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};
use uuid::Uuid;

/// One agent's part in a conversation.
#[derive(Debug, Clone, FromQueryResult)]
pub struct LegRow {
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub agent_id: String,
    pub queue_id: Uuid,
    pub status: String,
    pub assigned_at: DateTime<Utc>,
    pub wrap_up_deadline: Option<DateTime<Utc>>,
    pub wrap_up_code: Option<String>,
    pub wrap_up_automatic: bool,
    pub wrapped_up_at: Option<DateTime<Utc>>,
}

const LEG_COLUMNS: &str = "id, org_id, conversation_id, agent_id, queue_id, role, status, assigned_at, wrap_up_deadline, \
     wrap_up_code, wrap_up_automatic, wrapped_up_at";

impl LegRow {
    /// The one leg `st` returns, if any.
    async fn one<C: ConnectionTrait>(db: &C, st: Statement) -> Result<Option<Self>, DbErr> {
        Self::find_by_statement(st).one(db).await
    }

    /// Every leg `st` returns.
    async fn all<C: ConnectionTrait>(db: &C, st: Statement) -> Result<Vec<Self>, DbErr> {
        Self::find_by_statement(st).all(db).await
    }
}

/// Leg queries.
pub struct Legs;

impl Legs {
    /// Makes `agent` the owner; `None` when the conversation already has
    /// one (the unique partial index decides, RTG-6).
    pub async fn insert_owner<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        queue: Uuid,
    ) -> Result<Option<LegRow>, DbErr> {
        Self::insert(db, org, conversation, agent, queue, "owner").await
    }

    /// Adds `agent` as the conference participant (RTG-8); `None` when
    /// there already is one.
    pub async fn insert_participant<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        queue: Uuid,
    ) -> Result<Option<LegRow>, DbErr> {
        Self::insert(db, org, conversation, agent, queue, "participant").await
    }

    async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        queue: Uuid,
        role: &str,
    ) -> Result<Option<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "INSERT INTO legs (id, org_id, conversation_id, agent_id, queue_id, role) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT DO NOTHING RETURNING {LEG_COLUMNS}"
            ),
            [
                Uuid::now_v7().into(),
                org.into(),
                conversation.into(),
                agent.into(),
                queue.into(),
                role.into(),
            ],
        );
        LegRow::one(db, st).await
    }

    /// The active leg of `role` in a conversation.
    pub async fn active<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        role: &str,
    ) -> Result<Option<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "SELECT {LEG_COLUMNS} FROM legs WHERE org_id = $1 AND conversation_id = $2 AND role = $3 AND status = 'active'"
            ),
            [org.into(), conversation.into(), role.into()],
        );
        LegRow::one(db, st).await
    }

    /// Moves the active legs of a conversation to wrap-up (RTG-9); with
    /// `agent`, only that agent's leg (transfer, end of conference).
    pub async fn start_wrap_up<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: Option<&str>,
        seconds: i32,
    ) -> Result<Vec<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "UPDATE legs SET status = 'wrap_up', ended_at = now(), wrap_up_deadline = now() + make_interval(secs => $3::int) \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = 'active' AND ($4::text IS NULL OR agent_id = $4) \
                 RETURNING {LEG_COLUMNS}"
            ),
            [
                org.into(),
                conversation.into(),
                seconds.into(),
                agent.map(str::to_owned).into(),
            ],
        );
        LegRow::all(db, st).await
    }

    /// Ends the active legs of a conversation without wrap-up (a paused
    /// conversation, CNV-12): the agents' capacity is free at once.
    pub async fn close_active<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Vec<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "UPDATE legs SET status = 'done', ended_at = now(), closed_without_wrap_up = true \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = 'active' RETURNING {LEG_COLUMNS}"
            ),
            [org.into(), conversation.into()],
        );
        LegRow::all(db, st).await
    }

    /// Ends every unfinished leg of a deleted agent (RTG-11).
    pub async fn close_agent<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
    ) -> Result<Vec<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "UPDATE legs SET status = 'done', ended_at = COALESCE(ended_at, now()), closed_without_wrap_up = true \
                 WHERE org_id = $1 AND agent_id = $2 AND status <> 'done' RETURNING {LEG_COLUMNS}"
            ),
            [org.into(), agent.into()],
        );
        LegRow::all(db, st).await
    }

    /// Records a wrap-up code on the agent's leg in wrap-up.
    pub async fn submit<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        code: &str,
    ) -> Result<Option<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "UPDATE legs SET status = 'done', wrap_up_code = $4, wrapped_up_at = now() \
                 WHERE id = (SELECT id FROM legs WHERE org_id = $1 AND conversation_id = $2 AND agent_id = $3 AND status = 'wrap_up' \
                             ORDER BY assigned_at LIMIT 1 FOR UPDATE) \
                 RETURNING {LEG_COLUMNS}"
            ),
            [org.into(), conversation.into(), agent.into(), code.into()],
        );
        LegRow::one(db, st).await
    }

    /// Closes wrap-ups past their deadline (RTG-9), any replica.
    pub async fn claim_overdue<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "UPDATE legs SET status = 'done', wrap_up_automatic = true, wrap_up_code = '', wrapped_up_at = now() \
                 WHERE id IN (SELECT id FROM legs WHERE status = 'wrap_up' AND wrap_up_deadline <= now() \
                              ORDER BY wrap_up_deadline LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 RETURNING {LEG_COLUMNS}"
            ),
            [(limit as i64).into()],
        );
        LegRow::all(db, st).await
    }

    /// The legs of one conversation, oldest first.
    pub async fn of_conversation<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Vec<LegRow>, DbErr> {
        let st = stmt(
            &format!(
                "SELECT {LEG_COLUMNS} FROM legs WHERE org_id = $1 AND conversation_id = $2 ORDER BY assigned_at"
            ),
            [org.into(), conversation.into()],
        );
        LegRow::all(db, st).await
    }

    /// Conversations in which `agent` has an active leg.
    pub async fn live_conversations_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
    ) -> Result<Vec<Uuid>, DbErr> {
        let st = stmt(
            "SELECT DISTINCT conversation_id FROM legs WHERE org_id = $1 AND agent_id = $2 AND status = 'active' ORDER BY conversation_id",
            [org.into(), agent.into()],
        );
        uuids(db, st, "conversation_id").await
    }

    /// Conversations of the queue assigned in the last `window_seconds`
    /// (RTG-15 throughput).
    pub async fn recent_assignments<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        window_seconds: u32,
    ) -> Result<i64, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT count(*) AS n FROM legs WHERE org_id = $1 AND queue_id = $2 AND role = 'owner' \
                 AND assigned_at > now() - make_interval(secs => $3::int)",
                [org.into(), queue.into(), (window_seconds as i32).into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0))
    }
}
