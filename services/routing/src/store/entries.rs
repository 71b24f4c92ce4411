//! Queued conversations (RTG-4, RTG-7, RTG-13, CNV-12). An entry is
//! 'queued', 'assigned', 'paused' (CNV-12: the leg ended, the customer may
//! come back), or finished ('ended', 'abandoned'). Callers lock the entry
//! first, then offers, then agents: one lock order everywhere.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::text_array;
use super::{changed_one, uuids};

/// A conversation known to routing.
#[derive(Debug, Clone, FromQueryResult)]
pub struct EntryRow {
    pub conversation_id: Uuid,
    pub org_id: Uuid,
    pub queue_id: Uuid,
    pub enqueued_at: DateTime<Utc>,
    pub preferred_agent_id: Option<String>,
    /// The conversation's channel: capacity is counted per channel (RTG-2).
    pub channel: i32,
    pub customer_principal_id: String,
    pub status: String,
    pub interrupted: bool,
}

impl EntryRow {
    /// Whole seconds since the conversation was first enqueued.
    pub fn waited_seconds(&self) -> u32 {
        u32::try_from((Utc::now() - self.enqueued_at).num_seconds().max(0)).unwrap_or(u32::MAX)
    }
}

const ENTRY_COLUMNS: &str = "e.conversation_id, e.org_id, e.queue_id, e.priority, e.enqueued_at, e.created_at, e.customer_name, \
     e.channel, e.preferred_agent_id, e.customer_principal_id, e.status, e.interrupted";

/// The RTG-4/RTG-7 order of a queue: priority, re-queued transfers first,
/// then age. Shared by routing, positions and listings.
pub const QUEUE_ORDER: &str =
    "e.priority DESC, (e.requeued_at IS NULL), e.enqueued_at, e.conversation_id";

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
    pub customer_principal_id: String,
}

/// A waiting conversation as listed to staff.
#[derive(Debug, Clone, FromQueryResult)]
pub struct WaitingRow {
    pub conversation_id: Uuid,
    pub queue_id: Uuid,
    pub priority: i32,
    pub requeued: bool,
    pub enqueued_at: DateTime<Utc>,
    pub customer_name: String,
    pub channel: i32,
    pub offered_to: Option<String>,
}

/// An entry abandoned by the max-wait sweep (RTG-13).
#[derive(Debug, Clone, FromQueryResult)]
pub struct AbandonedRow {
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub queue_id: Uuid,
}

/// A waiting customer offered the offline form (SCH-8).
#[derive(Debug, Clone, FromQueryResult)]
pub struct FormOfferRow {
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub queue_id: Uuid,
    pub customer_principal_id: String,
    pub waiting_since: DateTime<Utc>,
    pub form_offered_at: DateTime<Utc>,
}

/// Queue entry queries.
pub struct Entries;

impl Entries {
    /// Enqueues a conversation, or re-enqueues a paused one (CNV-12) with
    /// its new fields; a second delivery or a finished conversation changes
    /// nothing. Returns whether the entry is now waiting because of this call.
    pub async fn enqueue<C: ConnectionTrait>(db: &C, e: &NewEntry) -> Result<bool, DbErr> {
        let st = stmt(
            "INSERT INTO queue_entries (conversation_id, org_id, queue_id, priority, enqueued_at, created_at, customer_name, \
               channel, first_messages, proactive, preferred_agent_id, customer_principal_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (conversation_id) DO UPDATE SET queue_id = EXCLUDED.queue_id, priority = EXCLUDED.priority, \
               enqueued_at = EXCLUDED.enqueued_at, customer_name = EXCLUDED.customer_name, channel = EXCLUDED.channel, \
               first_messages = EXCLUDED.first_messages, proactive = EXCLUDED.proactive, \
               preferred_agent_id = EXCLUDED.preferred_agent_id, \
               customer_principal_id = CASE WHEN EXCLUDED.customer_principal_id = '' THEN queue_entries.customer_principal_id \
                                            ELSE EXCLUDED.customer_principal_id END, \
               status = 'queued', requeued_at = NULL, assigned_at = NULL, waiting_since = now(), form_offered_at = NULL \
             WHERE queue_entries.status = 'paused' AND queue_entries.org_id = EXCLUDED.org_id \
               AND NOT queue_entries.interrupted",
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
                e.customer_principal_id.clone().into(),
            ],
        );
        changed_one(db, st).await
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

    /// One entry, locked unless another transaction holds it (sweeps).
    pub async fn try_lock<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<EntryRow>, DbErr> {
        EntryRow::find_by_statement(stmt(
            &format!("SELECT {ENTRY_COLUMNS} FROM queue_entries e WHERE e.org_id = $1 AND e.conversation_id = $2 FOR UPDATE SKIP LOCKED"),
            [org.into(), conversation.into()],
        ))
        .one(db)
        .await
    }

    /// One entry of the org, not locked.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<EntryRow>, DbErr> {
        EntryRow::find_by_statement(stmt(
            &format!("SELECT {ENTRY_COLUMNS} FROM queue_entries e WHERE e.org_id = $1 AND e.conversation_id = $2"),
            [org.into(), conversation.into()],
        ))
        .one(db)
        .await
    }

    /// Waiting entries of a queue without a pending offer, best first
    /// (RTG-4), skipping rows another replica holds.
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
                 ORDER BY {QUEUE_ORDER} LIMIT $3 FOR UPDATE OF e SKIP LOCKED"
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
        let st = stmt(
            "UPDATE queue_entries SET status = $4, \
               assigned_at = CASE WHEN $4 = 'assigned' THEN now() ELSE assigned_at END, \
               finished_at = CASE WHEN $4 IN ('ended', 'abandoned') THEN now() ELSE finished_at END \
             WHERE org_id = $1 AND conversation_id = $2 AND status = $3",
            [org.into(), conversation.into(), from.into(), to.into()],
        );
        changed_one(db, st).await
    }

    /// Puts an assigned conversation back in `queue` keeping its original
    /// age, at the head of its priority (RTG-7).
    pub async fn requeue<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        queue: Uuid,
    ) -> Result<bool, DbErr> {
        let st = stmt(
            "UPDATE queue_entries SET status = 'queued', queue_id = $3, requeued_at = now(), waiting_since = now(), form_offered_at = NULL, \
               preferred_agent_id = NULL, \
               assigned_at = NULL WHERE org_id = $1 AND conversation_id = $2 AND status = 'assigned'",
            [org.into(), conversation.into(), queue.into()],
        );
        changed_one(db, st).await
    }

    /// Marks a conversation interrupted (RTG-11): it can only be ended.
    pub async fn interrupt<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE queue_entries SET interrupted = true WHERE org_id = $1 AND conversation_id = $2",
            [org.into(), conversation.into()],
        ))
        .await?;
        Ok(())
    }

    /// Records an end ('ended' or 'abandoned') that arrived before (or
    /// without) the enqueue.
    pub async fn tombstone<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        queue: Uuid,
        status: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO queue_entries (conversation_id, org_id, queue_id, enqueued_at, created_at, status, finished_at) \
             VALUES ($1, $2, $3, now(), now(), $4, now()) ON CONFLICT DO NOTHING",
            [conversation.into(), org.into(), queue.into(), status.into()],
        ))
        .await?;
        Ok(())
    }

    /// Queues of the org with waiting entries.
    pub async fn waiting_queues<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<Uuid>, DbErr> {
        let st = stmt(
            "SELECT DISTINCT queue_id FROM queue_entries WHERE org_id = $1 AND status = 'queued'",
            [org.into()],
        );
        uuids(db, st, "queue_id").await
    }

    /// Abandons waiting entries older than their queue's max wait (RTG-13),
    /// any replica: rows another transaction holds are skipped.
    pub async fn abandon_overdue<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<AbandonedRow>, DbErr> {
        AbandonedRow::find_by_statement(stmt(
            "UPDATE queue_entries x SET status = 'abandoned', finished_at = now() \
             WHERE x.conversation_id IN ( \
               SELECT e.conversation_id FROM queue_entries e JOIN queues q ON q.id = e.queue_id \
               WHERE e.status = 'queued' AND e.enqueued_at <= now() - make_interval(secs => q.max_wait_seconds) \
               ORDER BY e.enqueued_at LIMIT $1 FOR UPDATE OF e SKIP LOCKED) \
             RETURNING x.org_id, x.conversation_id, x.queue_id",
            [(limit as i64).into()],
        ))
        .all(db)
        .await
    }

    /// Marks waiting entries whose wait passed their queue's
    /// `offer_form_after_seconds` as offered the form (SCH-8) and returns
    /// them. Conditional (`form_offered_at IS NULL`) and skipping rows
    /// another transaction holds, so with any number of replicas each
    /// wait is offered the form once.
    pub async fn offer_form_overdue<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<FormOfferRow>, DbErr> {
        FormOfferRow::find_by_statement(stmt(
            "UPDATE queue_entries x SET form_offered_at = now() \
             WHERE x.conversation_id IN ( \
               SELECT e.conversation_id FROM queue_entries e JOIN queues q ON q.id = e.queue_id \
               WHERE e.status = 'queued' AND e.form_offered_at IS NULL AND q.offer_form_after_seconds > 0 \
                 AND e.waiting_since <= now() - make_interval(secs => q.offer_form_after_seconds) \
               ORDER BY e.waiting_since LIMIT $1 FOR UPDATE OF e SKIP LOCKED) \
             AND x.form_offered_at IS NULL \
             RETURNING x.org_id, x.conversation_id, x.queue_id, x.customer_principal_id, x.waiting_since, x.form_offered_at",
            [(limit as i64).into()],
        ))
        .all(db)
        .await
    }

    /// Position (1 = next) of a waiting conversation in its queue (RTG-15),
    /// by the queue order; `None` when it is not waiting.
    pub async fn position<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        conversation: Uuid,
    ) -> Result<Option<i64>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                &format!(
                    "SELECT position FROM (SELECT e.conversation_id, row_number() OVER (ORDER BY {QUEUE_ORDER}) AS position \
                     FROM queue_entries e WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued') r \
                     WHERE r.conversation_id = $3"
                ),
                [org.into(), queue.into(), conversation.into()],
            ))
            .await?;
        row.map(|r| r.try_get::<i64>("", "position")).transpose()
    }

    /// Waiting conversations of a queue in queue order, after the keyset
    /// cursor `(priority, requeued, enqueued_at, id)`.
    pub async fn list_waiting<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        after: Option<&WaitingCursor>,
        limit: u64,
    ) -> Result<Vec<WaitingRow>, DbErr> {
        let (p, r, at, id) = after.map_or((None, None, None, None), |c| {
            (
                Some(c.priority),
                Some(c.requeued),
                Some(c.enqueued_at),
                Some(c.id),
            )
        });
        // The order is (priority DESC, not-requeued ASC, age ASC, id ASC):
        // negate priority so one row comparison expresses "after".
        WaitingRow::find_by_statement(stmt(
            &format!(
                "SELECT e.conversation_id, e.queue_id, e.priority, (e.requeued_at IS NOT NULL) AS requeued, e.enqueued_at, \
                   e.customer_name, e.channel, \
                   (SELECT o.agent_id FROM offers o WHERE o.conversation_id = e.conversation_id AND o.status = 'pending') AS offered_to \
                 FROM queue_entries e WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued' \
                   AND ($3::int IS NULL OR (-e.priority, (e.requeued_at IS NULL), e.enqueued_at, e.conversation_id) > (-$3::int, NOT $4::bool, $5::timestamptz, $6::uuid)) \
                 ORDER BY {QUEUE_ORDER} LIMIT $7"
            ),
            [org.into(), queue.into(), p.into(), r.into(), at.into(), id.into(), (limit as i64).into()],
        ))
        .all(db)
        .await
    }

    /// Conversations of a queue by status (RTG-11).
    pub async fn of_queue<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        statuses: &[&str],
    ) -> Result<Vec<Uuid>, DbErr> {
        let statuses: Vec<String> = statuses.iter().map(|s| (*s).to_owned()).collect();
        let st = stmt(
            "SELECT conversation_id FROM queue_entries WHERE org_id = $1 AND queue_id = $2 AND status = ANY($3) ORDER BY conversation_id",
            [org.into(), queue.into(), text_array(&statuses)],
        );
        uuids(db, st, "conversation_id").await
    }
}

/// Where a listing of waiting conversations continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingCursor {
    pub priority: i32,
    pub requeued: bool,
    pub enqueued_at: DateTime<Utc>,
    pub id: Uuid,
}

impl WaitingCursor {
    /// The cursor after `row`.
    pub fn after(row: &WaitingRow) -> Self {
        Self {
            priority: row.priority,
            requeued: row.requeued,
            enqueued_at: row.enqueued_at,
            id: row.conversation_id,
        }
    }

    /// An opaque token: `priority.requeued.micros.uuid`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.priority,
            u8::from(self.requeued),
            self.enqueued_at.timestamp_micros(),
            self.id.simple()
        )
    }

    /// Parses a token made by [`Self::encode`].
    pub fn decode(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let priority = parts.next()?.parse().ok()?;
        let requeued = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let enqueued_at = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            priority,
            requeued,
            enqueued_at,
            id,
        })
    }
}
