//! Offers of a conversation to one agent (RTG-4, RTG-5). The partial
//! unique index `offers_one_pending` keeps one pending offer per
//! conversation; answers are conditional updates on `status = 'pending'`.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// An offer with what the agent needs to see (customer, queue, timer).
#[derive(Debug, Clone, FromQueryResult)]
pub struct OfferRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub agent_id: String,
    pub queue_id: Uuid,
    pub queue_name: String,
    pub kind: i32,
    pub expires_at: DateTime<Utc>,
    pub customer_name: String,
    pub channel: i32,
    pub first_messages: Vec<String>,
    pub proactive: bool,
    pub conversation_created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT o.id, o.org_id, o.conversation_id, o.agent_id, o.queue_id, COALESCE(q.name, '') AS queue_name, \
     o.kind, o.status, o.expires_at, COALESCE(e.customer_name, '') AS customer_name, COALESCE(e.channel, 0) AS channel, \
     COALESCE(e.first_messages, '{}'::text[]) AS first_messages, COALESCE(e.proactive, false) AS proactive, \
     COALESCE(e.created_at, o.created_at) AS conversation_created_at \
     FROM offers o LEFT JOIN queue_entries e ON e.conversation_id = o.conversation_id \
     LEFT JOIN queues q ON q.id = o.queue_id";

/// Offer queries.
pub struct Offers;

impl Offers {
    /// Inserts a pending offer expiring after `timeout_seconds`; `None`
    /// when the conversation already has one (RTG-6).
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        queue: Uuid,
        timeout_seconds: i32,
    ) -> Result<Option<OfferRow>, DbErr> {
        let id = Uuid::now_v7();
        let n = db
            .execute_raw(stmt(
                "INSERT INTO offers (id, org_id, conversation_id, agent_id, queue_id, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int)) ON CONFLICT DO NOTHING",
                [id.into(), org.into(), conversation.into(), agent.into(), queue.into(), timeout_seconds.into()],
            ))
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        Self::get(db, org, id).await
    }

    /// One offer of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<OfferRow>, DbErr> {
        OfferRow::find_by_statement(stmt(
            &format!("{SELECT} WHERE o.org_id = $1 AND o.id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// Pending offers of an agent, oldest first.
    pub async fn pending_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
    ) -> Result<Vec<OfferRow>, DbErr> {
        OfferRow::find_by_statement(stmt(
            &format!("{SELECT} WHERE o.org_id = $1 AND o.agent_id = $2 AND o.status = 'pending' ORDER BY o.created_at"),
            [org.into(), agent.into()],
        ))
        .all(db)
        .await
    }

    /// Answers a pending, unexpired offer of `agent` (accept or decline).
    pub async fn answer<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        agent: &str,
        status: &str,
        reason: &str,
    ) -> Result<bool, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "UPDATE offers SET status = $4, answered_at = now(), reason = $5 \
                 WHERE org_id = $1 AND id = $2 AND agent_id = $3 AND status = 'pending' AND expires_at > now()",
                [org.into(), id.into(), agent.into(), status.into(), reason.into()],
            ))
            .await?
            .rows_affected()
            == 1)
    }

    /// Withdraws the pending offer of a conversation (it ended); returns
    /// the agent it was offered to.
    pub async fn withdraw<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<String>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "UPDATE offers SET status = 'withdrawn', answered_at = now() \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = 'pending' RETURNING agent_id",
                [org.into(), conversation.into()],
            ))
            .await?;
        row.map(|r| r.try_get::<String>("", "agent_id")).transpose()
    }

    /// Expires pending offers past their deadline (any replica: SKIP LOCKED).
    pub async fn claim_expired<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<OfferRow>, DbErr> {
        let ids = db
            .query_all_raw(stmt(
                "UPDATE offers SET status = 'expired', answered_at = now() \
                 WHERE id IN (SELECT id FROM offers WHERE status = 'pending' AND expires_at <= now() \
                              ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, org_id",
                [(limit as i64).into()],
            ))
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for r in ids {
            let (id, org): (Uuid, Uuid) = (r.try_get("", "id")?, r.try_get("", "org_id")?);
            if let Some(o) = Self::get(db, org, id).await? {
                out.push(o);
            }
        }
        Ok(out)
    }
}
