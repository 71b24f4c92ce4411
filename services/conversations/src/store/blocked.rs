//! The local cache of blocked identities (BLK-3, BLK-6, BLK-8), fed by the
//! blocking service's events so a message needs no call to be checked.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Queries on `blocked_identities`.
pub struct BlockedCache;

impl BlockedCache {
    /// Records a block's identities (idempotent).
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: Uuid,
        identities: &[(i32, String)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), DbErr> {
        for (kind, value) in identities {
            db.execute_raw(stmt(
                "INSERT INTO blocked_identities (org_id, block_id, kind, value, expires_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
                [org.into(), block_id.into(), (*kind).into(), value.clone().into(), expires_at.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Forgets a block (unblocked or expired, BLK-5, BLK-8).
    pub async fn remove<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: Uuid,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "DELETE FROM blocked_identities WHERE org_id = $1 AND block_id = $2",
            [org.into(), block_id.into()],
        ))
        .await?;
        Ok(())
    }

    /// The active block covering any identity of the conversation's
    /// customer, with the identity it matched.
    pub async fn for_conversation<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
    ) -> Result<Option<(Uuid, i32, String)>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT b.block_id, b.kind, b.value FROM conversation_identities i \
                 JOIN blocked_identities b ON b.org_id = i.org_id AND b.kind = i.kind AND b.value = i.value \
                 WHERE i.org_id = $1 AND i.conversation_id = $2 AND (b.expires_at IS NULL OR b.expires_at > now()) \
                 ORDER BY b.block_id LIMIT 1",
                [org.into(), conversation_id.into()],
            ))
            .await?;
        row.map(|r| {
            Ok((
                r.try_get("", "block_id")?,
                r.try_get("", "kind")?,
                r.try_get("", "value")?,
            ))
        })
        .transpose()
    }
}
