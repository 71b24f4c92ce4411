//! Offers of a conversation to one agent (RTG-4, RTG-5, RTG-7, RTG-8). The
//! partial unique index `offers_one_pending` keeps one pending offer per
//! conversation; answers are conditional updates on `status = 'pending'`.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};
use uuid::Uuid;

use super::{all_checked, changed_one, one_checked, uuids};
use crate::domain::{OfferKind, UnknownLabel};
use livedesk_platform::labels::{label, parse_label};

/// An offer with what the agent needs to see (customer, queue, timer).
#[derive(Debug, Clone)]
pub struct OfferRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub agent_id: String,
    pub queue_id: Uuid,
    pub queue_name: String,
    pub kind: OfferKind,
    pub status: String,
    pub from_agent_id: String,
    pub expires_at: DateTime<Utc>,
    pub customer_name: String,
    pub channel: i32,
    pub first_messages: Vec<String>,
    pub proactive: bool,
    pub conversation_created_at: DateTime<Utc>,
}

impl OfferRow {
    /// What the offer is for.
    pub fn kind(&self) -> OfferKind {
        self.kind
    }
}

/// An offer as stored: its kind as its stored name.
#[derive(FromQueryResult)]
struct StoredOffer {
    id: Uuid,
    org_id: Uuid,
    conversation_id: Uuid,
    agent_id: String,
    queue_id: Uuid,
    queue_name: String,
    kind: String,
    status: String,
    from_agent_id: String,
    expires_at: DateTime<Utc>,
    customer_name: String,
    channel: i32,
    first_messages: Vec<String>,
    proactive: bool,
    conversation_created_at: DateTime<Utc>,
}

impl TryFrom<StoredOffer> for OfferRow {
    type Error = UnknownLabel;

    fn try_from(s: StoredOffer) -> Result<Self, UnknownLabel> {
        Ok(Self {
            id: s.id,
            org_id: s.org_id,
            conversation_id: s.conversation_id,
            agent_id: s.agent_id,
            queue_id: s.queue_id,
            queue_name: s.queue_name,
            kind: parse_label::<OfferKind>("offers.kind", &s.kind)?,
            status: s.status,
            from_agent_id: s.from_agent_id,
            expires_at: s.expires_at,
            customer_name: s.customer_name,
            channel: s.channel,
            first_messages: s.first_messages,
            proactive: s.proactive,
            conversation_created_at: s.conversation_created_at,
        })
    }
}

/// The one offer `st` returns, if any.
async fn one<C: ConnectionTrait>(db: &C, st: Statement) -> Result<Option<OfferRow>, DbErr> {
    one_checked::<StoredOffer, _, _>(db, st).await
}

const SELECT: &str = "SELECT o.id, o.org_id, o.conversation_id, o.agent_id, o.queue_id, COALESCE(q.name, '') AS queue_name, \
     o.kind, o.status, o.from_agent_id, o.note, o.expires_at, COALESCE(e.customer_name, '') AS customer_name, \
     COALESCE(e.channel, 0) AS channel, \
     COALESCE(e.first_messages, '{}'::text[]) AS first_messages, COALESCE(e.proactive, false) AS proactive, \
     COALESCE(e.created_at, o.created_at) AS conversation_created_at \
     FROM offers o LEFT JOIN queue_entries e ON e.conversation_id = o.conversation_id \
     LEFT JOIN queues q ON q.id = o.queue_id";

/// A new offer.
#[derive(Debug, Clone)]
pub struct NewOffer<'a> {
    pub org: Uuid,
    pub conversation: Uuid,
    pub agent: &'a str,
    pub queue: Uuid,
    pub timeout_seconds: i32,
    pub kind: OfferKind,
    pub from_agent: &'a str,
    pub note: &'a str,
}

/// Offer queries.
pub struct Offers;

impl Offers {
    /// Inserts a pending offer expiring after its timeout and returns it
    /// with its details (one statement); `None` when the conversation
    /// already has one (RTG-6).
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        o: &NewOffer<'_>,
    ) -> Result<Option<OfferRow>, DbErr> {
        let st = stmt(
            "WITH o AS (INSERT INTO offers (id, org_id, conversation_id, agent_id, queue_id, expires_at, kind, from_agent_id, note, created_at) \
                 VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int), $7, $8, $9, clock_timestamp()) \
                 ON CONFLICT DO NOTHING RETURNING *) \
             SELECT o.id, o.org_id, o.conversation_id, o.agent_id, o.queue_id, COALESCE(q.name, '') AS queue_name, \
               o.kind, o.status, o.from_agent_id, o.expires_at, COALESCE(e.customer_name, '') AS customer_name, \
               COALESCE(e.channel, 0) AS channel, COALESCE(e.first_messages, '{}'::text[]) AS first_messages, \
               COALESCE(e.proactive, false) AS proactive, COALESCE(e.created_at, o.created_at) AS conversation_created_at \
             FROM o LEFT JOIN queue_entries e ON e.conversation_id = o.conversation_id LEFT JOIN queues q ON q.id = o.queue_id",
            [
                Uuid::now_v7().into(),
                o.org.into(),
                o.conversation.into(),
                o.agent.into(),
                o.queue.into(),
                o.timeout_seconds.into(),
                label(o.kind).into(),
                o.from_agent.into(),
                o.note.into(),
            ],
        );
        one(db, st).await
    }

    /// One offer of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<OfferRow>, DbErr> {
        one(
            db,
            stmt(
                &format!("{SELECT} WHERE o.org_id = $1 AND o.id = $2"),
                [org.into(), id.into()],
            ),
        )
        .await
    }

    /// Pending offers of an agent, oldest first.
    pub async fn pending_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
    ) -> Result<Vec<OfferRow>, DbErr> {
        let st = stmt(
            &format!(
                "{SELECT} WHERE o.org_id = $1 AND o.agent_id = $2 AND o.status = 'pending' ORDER BY o.created_at"
            ),
            [org.into(), agent.into()],
        );
        all_checked::<StoredOffer, _, _>(db, st).await
    }

    /// The pending offer of a conversation, if any.
    pub async fn pending_for<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<OfferRow>, DbErr> {
        let st = stmt(
            &format!(
                "{SELECT} WHERE o.org_id = $1 AND o.conversation_id = $2 AND o.status = 'pending'"
            ),
            [org.into(), conversation.into()],
        );
        one(db, st).await
    }

    /// The latest offer of `kind` for a conversation to `agent`.
    pub async fn latest_for<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        kind: OfferKind,
    ) -> Result<Option<OfferRow>, DbErr> {
        let st = stmt(
            &format!(
                "{SELECT} WHERE o.org_id = $1 AND o.conversation_id = $2 AND o.agent_id = $3 AND o.kind = $4 \
                 ORDER BY o.created_at DESC LIMIT 1"
            ),
            [
                org.into(),
                conversation.into(),
                agent.into(),
                label(kind).into(),
            ],
        );
        one(db, st).await
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
        let st = stmt(
            "UPDATE offers SET status = $4, answered_at = now(), reason = $5 \
             WHERE org_id = $1 AND id = $2 AND agent_id = $3 AND status = 'pending' AND expires_at > now()",
            [
                org.into(),
                id.into(),
                agent.into(),
                status.into(),
                reason.into(),
            ],
        );
        changed_one(db, st).await
    }

    /// Withdraws the pending offer of a conversation; returns it.
    pub async fn withdraw<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        reason: &str,
    ) -> Result<Option<OfferRow>, DbErr> {
        Self::updated(
            db,
            org,
            stmt(
                "UPDATE offers SET status = 'withdrawn', answered_at = now(), reason = $3 \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = 'pending' RETURNING id",
                [org.into(), conversation.into(), reason.into()],
            ),
        )
        .await
    }

    /// The offer an `UPDATE … RETURNING id` changed, with its details.
    async fn updated<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        update: Statement,
    ) -> Result<Option<OfferRow>, DbErr> {
        match db.query_one_raw(update).await? {
            Some(r) => Self::get(db, org, r.try_get::<Uuid>("", "id")?).await,
            None => Ok(None),
        }
    }

    /// Conversations with a pending offer to `agent`.
    pub async fn pending_conversations_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
    ) -> Result<Vec<Uuid>, DbErr> {
        let st = stmt(
            "SELECT conversation_id FROM offers WHERE org_id = $1 AND agent_id = $2 AND status = 'pending' ORDER BY conversation_id",
            [org.into(), agent.into()],
        );
        uuids(db, st, "conversation_id").await
    }

    /// Pending offers past their deadline, as (org, conversation), without
    /// locking: the sweep then locks each entry first (the lock order).
    pub async fn due<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT org_id, conversation_id FROM offers WHERE status = 'pending' AND expires_at <= now() \
                 ORDER BY expires_at LIMIT $1",
                [(limit as i64).into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "org_id")?, r.try_get("", "conversation_id")?)))
            .collect()
    }

    /// Expires the conversation's pending offer if its deadline passed.
    pub async fn expire<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<OfferRow>, DbErr> {
        Self::updated(db, org, stmt(
                "UPDATE offers SET status = 'expired', answered_at = now() \
                 WHERE org_id = $1 AND conversation_id = $2 AND status = 'pending' AND expires_at <= now() RETURNING id",
                [org.into(), conversation.into()],
            )).await
    }

    /// Agents who declined or let go each of `conversations` during its
    /// current wait (RTG-5): they are not offered it again.
    pub async fn excluded<C: ConnectionTrait>(
        db: &C,
        conversations: &[Uuid],
    ) -> Result<Vec<(Uuid, String)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT o.conversation_id, o.agent_id FROM offers o JOIN queue_entries e ON e.conversation_id = o.conversation_id \
                 WHERE o.conversation_id = ANY($1) AND o.status IN ('declined', 'expired') AND o.created_at >= e.waiting_since",
                [super::uuid_array(conversations)],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "conversation_id")?,
                    r.try_get("", "agent_id")?,
                ))
            })
            .collect()
    }
}
