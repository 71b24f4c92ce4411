//! What this service knows of conversations, learnt from events only:
//! queue, customer, agents, end, and blocks (NTF-3). Every write is an
//! upsert or a conditional update, so replays and reordering are harmless.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// One tracked conversation.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct Tracked {
    /// The customer's principal id ('' when not yet known).
    pub customer: String,
    /// The conversation ended BLOCKED, or its customer has a live block.
    pub customer_blocked: bool,
}

const TRACKED: &str = "SELECT t.customer, \
     (t.blocked OR EXISTS (SELECT 1 FROM blocked_customers b WHERE b.org_id = t.org_id AND b.principal_id = t.customer AND t.customer <> '')) AS customer_blocked \
     FROM tracked_conversations t WHERE t.org_id = $1 AND t.conversation_id = $2";

/// Conversation queries; every one is scoped by org.
pub struct Conversations;

impl Conversations {
    /// The conversation as known, or a default (nothing known yet).
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: &str,
    ) -> Result<Tracked, DbErr> {
        Ok(
            Tracked::find_by_statement(stmt(TRACKED, [org.into(), conversation.to_owned().into()]))
                .one(db)
                .await?
                .unwrap_or_default(),
        )
    }

    /// Records a conversation's queue and customer (a re-queue moves it).
    pub async fn queued<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: &str,
        queue: &str,
        customer: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO tracked_conversations (org_id, conversation_id, queue_id, customer) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET \
               queue_id = CASE WHEN EXCLUDED.queue_id <> '' THEN EXCLUDED.queue_id ELSE tracked_conversations.queue_id END, \
               customer = CASE WHEN tracked_conversations.customer = '' THEN EXCLUDED.customer ELSE tracked_conversations.customer END, \
               updated_at = now()",
            [org.into(), conversation.to_owned().into(), queue.to_owned().into(), customer.to_owned().into()],
        ))
        .await?;
        if !customer.is_empty() {
            Self::add_member(db, org, conversation, customer, "customer").await?;
        }
        Ok(())
    }

    /// Adds a member (customer or agent); a no-op when already there.
    pub async fn add_member<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: &str,
        principal: &str,
        role: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO conversation_members (org_id, conversation_id, principal_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            [org.into(), conversation.to_owned().into(), principal.to_owned().into(), role.to_owned().into()],
        ))
        .await?;
        Ok(())
    }

    /// Agents of a conversation.
    pub async fn agents<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: &str,
    ) -> Result<Vec<String>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT principal_id FROM conversation_members WHERE org_id = $1 AND conversation_id = $2 AND role = 'agent' ORDER BY principal_id",
                [org.into(), conversation.to_owned().into()],
            ))
            .await?;
        rows.iter().map(|r| r.try_get("", "principal_id")).collect()
    }

    /// Marks the conversation ended (and blocked when it ended BLOCKED).
    /// Returns whether this call ended it: a second end tells nobody.
    pub async fn end<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: &str,
        customer: &str,
        blocked: bool,
    ) -> Result<bool, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "INSERT INTO tracked_conversations (org_id, conversation_id, customer, ended_at, blocked) VALUES ($1, $2, $3, now(), $4) \
                 ON CONFLICT (org_id, conversation_id) DO UPDATE SET ended_at = now(), \
                   blocked = tracked_conversations.blocked OR EXCLUDED.blocked, \
                   customer = CASE WHEN tracked_conversations.customer = '' THEN EXCLUDED.customer ELSE tracked_conversations.customer END, \
                   updated_at = now() \
                 WHERE tracked_conversations.ended_at IS NULL \
                 RETURNING conversation_id",
                [org.into(), conversation.to_owned().into(), customer.to_owned().into(), blocked.into()],
            ))
            .await?;
        Ok(row.is_some())
    }

    /// Moves a conversation to another queue (transfer to a queue).
    pub async fn set_queue<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: &str,
        queue: &str,
    ) -> Result<(), DbErr> {
        Self::queued(db, org, conversation, queue, "").await
    }

    /// Live conversations of a queue whose customer may be told things:
    /// `(conversation_id, customer)`.
    pub async fn live_customers_in_queue<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: &str,
    ) -> Result<Vec<(String, String)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT t.conversation_id, t.customer FROM tracked_conversations t \
                 WHERE t.org_id = $1 AND t.queue_id = $2 AND t.ended_at IS NULL AND NOT t.blocked AND t.customer <> '' \
                   AND NOT EXISTS (SELECT 1 FROM blocked_customers b WHERE b.org_id = t.org_id AND b.principal_id = t.customer) \
                 ORDER BY t.conversation_id",
                [org.into(), queue.to_owned().into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "conversation_id")?,
                    r.try_get("", "customer")?,
                ))
            })
            .collect()
    }

    /// Applies a customer block (BLK-1): the conversation is marked blocked
    /// and its customer, when known, is blocked until the block is lifted.
    pub async fn block<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: &str,
        conversation: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO tracked_conversations (org_id, conversation_id, blocked) VALUES ($1, $2, true) \
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET blocked = true, updated_at = now()",
            [org.into(), conversation.to_owned().into()],
        ))
        .await?;
        db.execute_raw(stmt(
            "INSERT INTO blocked_customers (org_id, block_id, principal_id) \
             SELECT org_id, $3, customer FROM tracked_conversations WHERE org_id = $1 AND conversation_id = $2 AND customer <> '' \
             ON CONFLICT DO NOTHING",
            [org.into(), conversation.to_owned().into(), block_id.to_owned().into()],
        ))
        .await?;
        Ok(())
    }

    /// Lifts a block (unblocked or expired). The conversation it was made
    /// from stays blocked: messages sent while blocked stay hidden.
    pub async fn lift_block<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "DELETE FROM blocked_customers WHERE org_id = $1 AND block_id = $2",
            [org.into(), block_id.to_owned().into()],
        ))
        .await?;
        Ok(())
    }

    /// Forgets conversations ended more than `days` days ago (and their
    /// members); safe with several replicas.
    pub async fn sweep<C: ConnectionTrait>(db: &C, days: u32, batch: i64) -> Result<u64, DbErr> {
        let days = days as i32;
        db.execute_raw(stmt(
            "DELETE FROM conversation_members m USING tracked_conversations t \
             WHERE m.org_id = t.org_id AND m.conversation_id = t.conversation_id \
               AND t.ended_at < now() - make_interval(days => $1)",
            [days.into()],
        ))
        .await?;
        Ok(db
            .execute_raw(stmt(
                "DELETE FROM tracked_conversations WHERE ctid IN ( \
                   SELECT ctid FROM tracked_conversations WHERE ended_at < now() - make_interval(days => $1) LIMIT $2)",
                [days.into(), batch.into()],
            ))
            .await?
            .rows_affected())
    }
}
