//! Queued conversations (RTG-4, RTG-13) and agents' legs in them (RTG-9).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::text_array;

/// A conversation known to routing.
#[derive(Debug, Clone, FromQueryResult)]
pub struct EntryRow {
    pub conversation_id: Uuid,
    pub queue_id: Uuid,
    pub preferred_agent_id: Option<String>,
    pub status: String,
}

const ENTRY_COLUMNS: &str = "e.conversation_id, e.org_id, e.queue_id, e.priority, e.enqueued_at, e.created_at, e.customer_name, \
     e.channel, e.first_messages, e.proactive, e.preferred_agent_id, e.status";

/// What `ConversationQueued` brings.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub conversation_id: Uuid,
    pub org_id: Uuid,
    pub queue_id: Uuid,
    pub priority: i32,
    pub enqueued_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub customer_name: String,
    pub channel: i32,
    pub first_messages: Vec<String>,
    pub proactive: bool,
    pub preferred_agent_id: Option<String>,
}

/// Queue entry queries.
pub struct Entries;

impl Entries {
    /// Enqueues a conversation; a second delivery (or a conversation
    /// already ended) changes nothing. Returns whether it was inserted.
    pub async fn enqueue<C: ConnectionTrait>(db: &C, e: &NewEntry) -> Result<bool, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "INSERT INTO queue_entries (conversation_id, org_id, queue_id, priority, enqueued_at, created_at, customer_name, \
                   channel, first_messages, proactive, preferred_agent_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
                [
                    e.conversation_id.into(),
                    e.org_id.into(),
                    e.queue_id.into(),
                    e.priority.into(),
                    e.enqueued_at.into(),
                    e.created_at.into(),
                    e.customer_name.clone().into(),
                    e.channel.into(),
                    text_array(&e.first_messages),
                    e.proactive.into(),
                    e.preferred_agent_id.clone().into(),
                ],
            ))
            .await?
            .rows_affected()
            == 1)
    }

    /// One entry of the org, locked for the transaction.
    pub async fn lock<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<EntryRow>, DbErr> {
        EntryRow::find_by_statement(stmt(
            &format!("SELECT {ENTRY_COLUMNS} FROM queue_entries e WHERE e.org_id = $1 AND e.conversation_id = $2 FOR UPDATE"),
            [org.into(), conversation.into()],
        ))
        .one(db)
        .await
    }

    /// Waiting entries of a queue without a pending offer, best first
    /// (priority, then age: RTG-4), skipping rows another replica holds.
    pub async fn claim_unoffered<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        limit: u64,
    ) -> Result<Vec<EntryRow>, DbErr> {
        EntryRow::find_by_statement(stmt(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM queue_entries e \
                 WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued' \
                   AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = e.conversation_id AND o.status = 'pending') \
                 ORDER BY e.priority DESC, e.enqueued_at, e.conversation_id LIMIT $3 FOR UPDATE OF e SKIP LOCKED"
            ),
            [org.into(), queue.into(), (limit as i64).into()],
        ))
        .all(db)
        .await
    }

    /// Sets the status of an entry if it currently has `from`.
    pub async fn transition<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        from: &str,
        to: &str,
    ) -> Result<bool, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "UPDATE queue_entries SET status = $4, \
                   assigned_at = CASE WHEN $4 = 'assigned' THEN now() ELSE assigned_at END, \
                   finished_at = CASE WHEN $4 IN ('ended', 'abandoned') THEN now() ELSE finished_at END \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = $3",
                [org.into(), conversation.into(), from.into(), to.into()],
            ))
            .await?
            .rows_affected()
            == 1)
    }

    /// Records an end that arrived before (or without) the enqueue.
    pub async fn tombstone<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        queue: Uuid,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO queue_entries (conversation_id, org_id, queue_id, enqueued_at, created_at, status, finished_at) \
             VALUES ($1, $2, $3, now(), now(), 'ended', now()) ON CONFLICT DO NOTHING",
            [conversation.into(), org.into(), queue.into()],
        ))
        .await?;
        Ok(())
    }

    /// Queues of the org with waiting entries.
    pub async fn waiting_queues<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<Uuid>, DbErr> {
        let rows = db
            .query_all_raw(stmt("SELECT DISTINCT queue_id FROM queue_entries WHERE org_id = $1 AND status = 'queued'", [org.into()]))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "queue_id"))
            .collect()
    }
}

/// One agent's part in a conversation.
#[derive(Debug, Clone, FromQueryResult)]
pub struct LegRow {
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub agent_id: String,
    pub status: String,
    pub assigned_at: DateTime<Utc>,
    pub wrap_up_deadline: Option<DateTime<Utc>>,
    pub wrap_up_code: Option<String>,
    pub wrap_up_automatic: bool,
    pub wrapped_up_at: Option<DateTime<Utc>>,
}

const LEG_COLUMNS: &str = "id, org_id, conversation_id, agent_id, queue_id, status, assigned_at, wrap_up_deadline, \
     wrap_up_code, wrap_up_automatic, wrapped_up_at";

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
        LegRow::find_by_statement(stmt(
            &format!(
                "INSERT INTO legs (id, org_id, conversation_id, agent_id, queue_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING RETURNING {LEG_COLUMNS}"
            ),
            [Uuid::now_v7().into(), org.into(), conversation.into(), agent.into(), queue.into()],
        ))
        .one(db)
        .await
    }

    /// Moves the active legs of a conversation to wrap-up (RTG-9).
    pub async fn start_wrap_up<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        seconds: i32,
    ) -> Result<Vec<LegRow>, DbErr> {
        LegRow::find_by_statement(stmt(
            &format!(
                "UPDATE legs SET status = 'wrap_up', ended_at = now(), wrap_up_deadline = now() + make_interval(secs => $3::int) \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = 'active' RETURNING {LEG_COLUMNS}"
            ),
            [org.into(), conversation.into(), seconds.into()],
        ))
        .all(db)
        .await
    }

    /// Records a wrap-up code on the agent's leg in wrap-up.
    pub async fn submit<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        code: &str,
    ) -> Result<Option<LegRow>, DbErr> {
        LegRow::find_by_statement(stmt(
            &format!(
                "UPDATE legs SET status = 'done', wrap_up_code = $4, wrapped_up_at = now() \
                 WHERE id = (SELECT id FROM legs WHERE org_id = $1 AND conversation_id = $2 AND agent_id = $3 AND status = 'wrap_up' \
                             ORDER BY assigned_at LIMIT 1 FOR UPDATE) \
                 RETURNING {LEG_COLUMNS}"
            ),
            [org.into(), conversation.into(), agent.into(), code.into()],
        ))
        .one(db)
        .await
    }

    /// Closes wrap-ups past their deadline (RTG-9), any replica.
    pub async fn claim_overdue<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<LegRow>, DbErr> {
        LegRow::find_by_statement(stmt(
            &format!(
                "UPDATE legs SET status = 'done', wrap_up_automatic = true, wrap_up_code = '', wrapped_up_at = now() \
                 WHERE id IN (SELECT id FROM legs WHERE status = 'wrap_up' AND wrap_up_deadline <= now() \
                              ORDER BY wrap_up_deadline LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 RETURNING {LEG_COLUMNS}"
            ),
            [(limit as i64).into()],
        ))
        .all(db)
        .await
    }

    /// The legs of one conversation, oldest first.
    pub async fn of_conversation<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Vec<LegRow>, DbErr> {
        LegRow::find_by_statement(stmt(
            &format!("SELECT {LEG_COLUMNS} FROM legs WHERE org_id = $1 AND conversation_id = $2 ORDER BY assigned_at"),
            [org.into(), conversation.into()],
        ))
        .all(db)
        .await
    }
}
