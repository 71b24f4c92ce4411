//! The local cache of blocked identities (BLK-3, BLK-6, BLK-8), fed by the
//! blocking service's events so a message needs no call to be checked.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_proto::common::v1::IdentityKind;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::{bind_label, filter_label, read_label};
use livedesk_platform::labels::label;

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
                [
                    org.into(),
                    block_id.into(),
                    bind_label::<IdentityKind>("blocked_identities.kind", *kind)?,
                    value.clone().into(),
                    expires_at.into(),
                ],
            ))
            .await?;
        }
        Ok(())
    }

    /// Records an IP block (idempotent, BLK-9); `cidr` comes from the
    /// blocking service, which validated it.
    pub async fn insert_ip<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: Uuid,
        cidr: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO blocked_ips (org_id, block_id, cidr, expires_at) VALUES ($1, $2, $3::cidr, $4) \
             ON CONFLICT DO NOTHING",
            [org.into(), block_id.into(), cidr.into(), expires_at.into()],
        ))
        .await?;
        Ok(())
    }

    /// Forgets a block (unblocked or expired, BLK-5, BLK-8).
    pub async fn remove<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: Uuid,
    ) -> Result<(), DbErr> {
        for table in ["blocked_identities", "blocked_ips"] {
            db.execute_raw(stmt(
                &format!("DELETE FROM {table} WHERE org_id = $1 AND block_id = $2"),
                [org.into(), block_id.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// The active block covering one identity (already normalized), if any.
    pub async fn covering<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        kind: i32,
        value: &str,
    ) -> Result<Option<Uuid>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT block_id FROM blocked_identities WHERE org_id = $1 AND kind = $2 AND value = $3 \
                   AND (expires_at IS NULL OR expires_at > now()) ORDER BY block_id LIMIT 1",
                [org.into(), filter_label::<IdentityKind>(kind).into(), value.into()],
            ))
            .await?;
        row.map(|r| r.try_get("", "block_id")).transpose()
    }

    /// Every live conversation (queued, active, paused) of the customer a
    /// block covers: any of the block's identities, or an IP in its range
    /// (BLK-2, BLK-9). A block ends all of them, not only the one the
    /// agent was in.
    pub async fn live_conversations<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        block_id: Uuid,
    ) -> Result<Vec<Uuid>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT i.conversation_id AS id FROM conversation_identities i \
                   JOIN blocked_identities b ON b.org_id = i.org_id AND b.kind = i.kind AND b.value = i.value \
                   WHERE b.org_id = $1 AND b.block_id = $2 AND i.live \
                 UNION \
                 SELECT c.id FROM conversations c JOIN blocked_ips p ON p.org_id = c.org_id \
                   WHERE p.org_id = $1 AND p.block_id = $2 AND c.status = ANY($3) \
                     AND (CASE WHEN c.ip_address = '' THEN NULL ELSE c.ip_address::inet END) <<= p.cidr \
                 ORDER BY id",
                [org.into(), block_id.into(), super::conversations::live_statuses()],
            ))
            .await?;
        rows.iter().map(|r| r.try_get("", "id")).collect()
    }

    /// The active block covering any identity of the conversation's
    /// customer, or the address they came from, with the identity it
    /// matched (kind 0 and the range for an IP block).
    pub async fn for_conversation<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
    ) -> Result<Option<(Uuid, i32, String)>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "(SELECT b.block_id, b.kind, b.value FROM conversation_identities i \
                   JOIN blocked_identities b ON b.org_id = i.org_id AND b.kind = i.kind AND b.value = i.value \
                   WHERE i.org_id = $1 AND i.conversation_id = $2 AND (b.expires_at IS NULL OR b.expires_at > now()) \
                   ORDER BY b.block_id LIMIT 1) \
                 UNION ALL \
                 (SELECT p.block_id, $3 AS kind, host(p.cidr) || '/' || masklen(p.cidr) AS value \
                   FROM conversations c JOIN blocked_ips p ON p.org_id = c.org_id \
                   WHERE c.org_id = $1 AND c.id = $2 AND (CASE WHEN c.ip_address = '' THEN NULL ELSE c.ip_address::inet END) <<= p.cidr \
                     AND (p.expires_at IS NULL OR p.expires_at > now()) \
                   ORDER BY p.block_id LIMIT 1) \
                 LIMIT 1",
                [
                    org.into(),
                    conversation_id.into(),
                    label(IdentityKind::Unspecified).into(),
                ],
            ))
            .await?;
        row.map(|r| {
            Ok((
                r.try_get("", "block_id")?,
                read_label::<IdentityKind>(&r, "", "kind", "blocked_identities.kind")?,
                r.try_get("", "value")?,
            ))
        })
        .transpose()
    }
}
