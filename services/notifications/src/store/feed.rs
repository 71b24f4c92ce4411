//! Queries on `feeds` and `notifications`: appending to a principal's
//! feed and reading it back in sequence order (NTF-1).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// One stored notification.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FeedRow {
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    /// The encoded `Notification`, without sequence and time (set on read).
    pub body: Vec<u8>,
}

/// Feed queries; every one is scoped by org and recipient.
pub struct Feed;

impl Feed {
    /// Appends a notification to `recipient`'s feed and returns its
    /// sequence, or `None` when `event` already told this recipient this
    /// kind of thing (a replayed event changes nothing, EVT-3). Must run inside the caller's transaction: the `feeds` row
    /// stays locked until commit, so a recipient's sequences commit in
    /// order and a reader that saw `n` never misses a later-committed `< n`.
    pub async fn append<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        recipient: &str,
        event: Uuid,
        conversation_id: &str,
        kind: &str,
        body: Vec<u8>,
    ) -> Result<Option<i64>, DbErr> {
        let seen = db
            .query_one_raw(stmt(
                "SELECT 1 AS one FROM notifications WHERE org_id = $1 AND recipient = $2 AND event_id = $3 AND kind = $4",
                [org.into(), recipient.to_owned().into(), event.into(), kind.to_owned().into()],
            ))
            .await?;
        if seen.is_some() {
            return Ok(None);
        }
        let row = db
            .query_one_raw(stmt(
                "INSERT INTO feeds (org_id, recipient, last_seq) VALUES ($1, $2, 1) \
                 ON CONFLICT (org_id, recipient) DO UPDATE SET last_seq = feeds.last_seq + 1 \
                 RETURNING last_seq",
                [org.into(), recipient.to_owned().into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("feed sequence not returned".into()))?;
        let seq: i64 = row.try_get("", "last_seq")?;
        db.execute_raw(stmt(
            "INSERT INTO notifications (org_id, recipient, seq, event_id, conversation_id, kind, body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [org.into(), recipient.to_owned().into(), seq.into(), event.into(), conversation_id.to_owned().into(), kind.to_owned().into(), body.into()],
        ))
        .await?;
        Ok(Some(seq))
    }

    /// Rows after `after_seq`, oldest first, at most `limit`.
    pub async fn after<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        recipient: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<FeedRow>, DbErr> {
        FeedRow::find_by_statement(stmt(
            "SELECT seq, created_at, body FROM notifications \
             WHERE org_id = $1 AND recipient = $2 AND seq > $3 ORDER BY seq LIMIT $4",
            [
                org.into(),
                recipient.to_owned().into(),
                after_seq.into(),
                limit.into(),
            ],
        ))
        .all(db)
        .await
    }

    /// The last sequence allocated to `recipient` (0 for a new feed).
    pub async fn last_seq<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        recipient: &str,
    ) -> Result<i64, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT last_seq FROM feeds WHERE org_id = $1 AND recipient = $2",
                [org.into(), recipient.to_owned().into()],
            ))
            .await?;
        row.map_or(Ok(0), |r| r.try_get("", "last_seq"))
    }

    /// Deletes up to `batch` rows older than `days` days; returns how many.
    /// Idempotent, so any number of replicas may run it at once. The
    /// `feeds` rows stay, so numbering never restarts.
    pub async fn sweep<C: ConnectionTrait>(db: &C, days: u32, batch: i64) -> Result<u64, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "DELETE FROM notifications WHERE ctid IN ( \
                   SELECT ctid FROM notifications WHERE created_at < now() - make_interval(days => $1) LIMIT $2)",
                [(days as i32).into(), batch.into()],
            ))
            .await?
            .rows_affected())
    }
}
