//! Queries on `blocks`, `block_identities` and `block_audit`.
//!
//! Correctness lives here: the partial unique index makes a concurrent
//! double block of one conversation impossible, and unblock is a
//! conditional update, so two admins unblocking together audit once.
//!
//! Enums are stored as text labels (`livedesk_platform::labels`); a label read
//! back that no value has fails the read with [`Error::Corrupt`].
use chrono::{DateTime, Utc};
use livedesk_platform::db::{stmt, text_array};
use livedesk_proto::common::v1::{Channel, IdentityKind};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use crate::error::Error;
use livedesk_platform::labels::{label, parse_label};

/// One row of `blocks` as stored (`channel` still a label).
#[derive(Debug, Clone, FromQueryResult)]
struct StoredBlock {
    id: Uuid,
    org_id: Uuid,
    conversation_id: Option<Uuid>,
    channel: String,
    customer_name: String,
    ip_cidr: Option<String>,
    reason: String,
    blocked_by: String,
    blocked_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    unblocked_by: Option<String>,
    unblocked_at: Option<DateTime<Utc>>,
    dropped_messages: i64,
}

/// One block with its identities, decoded.
#[derive(Debug, Clone)]
pub struct BlockRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub channel: Channel,
    pub customer_name: String,
    pub ip_cidr: Option<String>,
    pub reason: String,
    pub blocked_by: String,
    pub blocked_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub unblocked_by: Option<String>,
    pub unblocked_at: Option<DateTime<Utc>>,
    pub dropped_messages: i64,
    pub identities: Vec<(IdentityKind, String)>,
}

impl StoredBlock {
    /// Decodes the row (its identities are loaded next).
    fn decode(self) -> Result<BlockRow, Error> {
        Ok(BlockRow {
            id: self.id,
            org_id: self.org_id,
            conversation_id: self.conversation_id,
            channel: parse_label("blocks.channel", &self.channel)?,
            customer_name: self.customer_name,
            ip_cidr: self.ip_cidr,
            reason: self.reason,
            blocked_by: self.blocked_by,
            blocked_at: self.blocked_at,
            expires_at: self.expires_at,
            unblocked_by: self.unblocked_by,
            unblocked_at: self.unblocked_at,
            dropped_messages: self.dropped_messages,
            identities: Vec::new(),
        })
    }
}

impl BlockRow {
    /// Whether the block applies at `now` (BLK-8: expired blocks stop).
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.unblocked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// What a new block records.
#[derive(Debug, Clone)]
pub struct NewBlock<'a> {
    pub org_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub channel: Channel,
    pub customer_name: &'a str,
    pub ip_cidr: Option<String>,
    pub reason: &'a str,
    pub blocked_by: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub identities: &'a [(IdentityKind, String)],
    pub client_request_id: Option<&'a str>,
}

/// The first active block of org `$1` naming one of the identities
/// (`$2` kinds, `$3` values, pairwise) or whose range holds the address
/// `$4`: the oldest, ties by id (the in-memory answer orders alike).
const FIRST_ACTIVE: &str = "SELECT b.id FROM blocks b \
     WHERE b.org_id = $1 AND b.unblocked_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > now()) \
       AND (EXISTS (SELECT 1 FROM block_identities i \
                    JOIN unnest($2::text[], $3::text[]) AS q(kind, value) ON i.kind = q.kind AND i.value = q.value \
                    WHERE i.block_id = b.id AND i.org_id = $1) \
            OR ($4::inet IS NOT NULL AND b.ip_cidr >>= $4::inet)) \
     ORDER BY b.blocked_at, b.id LIMIT 1";

/// What [`Blocks::active_of`] reads: the org's erasure key and its active
/// blocks, one row per identity or range.
#[derive(Debug, Clone, Default)]
pub struct ActiveBlocks {
    pub key: Option<Vec<u8>>,
    pub rows: Vec<ActiveRow>,
}

/// One identity or range of an active block.
#[derive(Debug, Clone)]
pub struct ActiveRow {
    pub id: Uuid,
    pub blocked_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// PostgreSQL's text of the block's `cidr`, on every row of an IP block.
    pub ip_cidr: Option<String>,
    /// `None` on the row of a block without identities (an IP block).
    pub identity: Option<(IdentityKind, String)>,
}

const COLUMNS: &str = "id, org_id, conversation_id, channel, customer_name, ip_cidr::text AS ip_cidr, reason, \
     blocked_by, blocked_at, expires_at, unblocked_by, unblocked_at, dropped_messages";

/// Block queries; every one is scoped by org (TEN-2).
pub struct Blocks;

impl Blocks {
    /// Inserts a block, its identities and its audit row. Returns `None`
    /// when the conversation's customer is already blocked.
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        b: &NewBlock<'_>,
    ) -> Result<Option<Uuid>, DbErr> {
        let id = Uuid::now_v7();
        let inserted = db
            .execute_raw(stmt(
                "INSERT INTO blocks (id, org_id, conversation_id, channel, customer_name, ip_cidr, reason, blocked_by, expires_at, client_request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6::cidr, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                [
                    id.into(),
                    b.org_id.into(),
                    b.conversation_id.into(),
                    label(b.channel).into(),
                    b.customer_name.to_owned().into(),
                    b.ip_cidr.clone().into(),
                    b.reason.to_owned().into(),
                    b.blocked_by.to_owned().into(),
                    b.expires_at.into(),
                    b.client_request_id.map(str::to_owned).into(),
                ],
            ))
            .await?
            .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        for (kind, value) in b.identities {
            db.execute_raw(stmt(
                "INSERT INTO block_identities (block_id, org_id, kind, value) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                [id.into(), b.org_id.into(), label(*kind).into(), value.clone().into()],
            ))
            .await?;
        }
        Self::audit(db, id, b.org_id, "block", b.blocked_by, b.reason).await?;
        Ok(Some(id))
    }

    /// Appends an audit entry.
    pub async fn audit<C: ConnectionTrait>(
        db: &C,
        block_id: Uuid,
        org: Uuid,
        action: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO block_audit (id, block_id, org_id, action, actor, reason) VALUES ($1, $2, $3, $4, $5, $6)",
            [Uuid::now_v7().into(), block_id.into(), org.into(), action.to_owned().into(), actor.to_owned().into(), reason.to_owned().into()],
        ))
        .await?;
        Ok(())
    }

    /// The block created by a retried request, if any (TEN-5).
    pub async fn by_client_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        key: &str,
    ) -> Result<Option<BlockRow>, Error> {
        Self::load_one(
            db,
            stmt(
                &format!(
                    "SELECT {COLUMNS} FROM blocks WHERE org_id = $1 AND client_request_id = $2"
                ),
                [org.into(), key.to_owned().into()],
            ),
        )
        .await
    }

    /// One block of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<BlockRow>, Error> {
        Self::load_one(
            db,
            stmt(
                &format!("SELECT {COLUMNS} FROM blocks WHERE org_id = $1 AND id = $2"),
                [org.into(), id.into()],
            ),
        )
        .await
    }

    /// Runs `statement` (selecting `COLUMNS`) for one block with its identities.
    async fn load_one<C: ConnectionTrait>(
        db: &C,
        statement: sea_orm::Statement,
    ) -> Result<Option<BlockRow>, Error> {
        let Some(stored) = StoredBlock::find_by_statement(statement).one(db).await? else {
            return Ok(None);
        };
        let mut row = stored.decode()?;
        Self::load_identities(db, &mut row).await?;
        Ok(Some(row))
    }

    /// Runs `statement` (selecting `COLUMNS`) for blocks with their identities.
    async fn load_all<C: ConnectionTrait>(
        db: &C,
        statement: sea_orm::Statement,
    ) -> Result<Vec<BlockRow>, Error> {
        let stored = StoredBlock::find_by_statement(statement).all(db).await?;
        let mut rows = Vec::with_capacity(stored.len());
        for s in stored {
            let mut row = s.decode()?;
            Self::load_identities(db, &mut row).await?;
            rows.push(row);
        }
        Ok(rows)
    }

    async fn load_identities<C: ConnectionTrait>(db: &C, row: &mut BlockRow) -> Result<(), Error> {
        let ids = db
            .query_all_raw(stmt(
                "SELECT kind, value FROM block_identities WHERE block_id = $1 ORDER BY kind, value",
                [row.id.into()],
            ))
            .await?;
        // An identity row that does not decode fails the read: a block
        // shown without one of its identities would misstate what it blocks.
        row.identities = ids
            .iter()
            .map(|r| {
                let kind = r.try_get::<String>("", "kind")?;
                Ok((
                    parse_label("block_identities.kind", &kind)?,
                    r.try_get::<String>("", "value")?,
                ))
            })
            .collect::<Result<_, Error>>()?;
        Ok(())
    }

    /// Lists blocks newest first, after the keyset cursor `(blocked_at, id)`.
    pub async fn list<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        active_only: bool,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<BlockRow>, Error> {
        let (at, id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        Self::load_all(db, stmt(
            &format!(
                "SELECT {COLUMNS} FROM blocks WHERE org_id = $1 \
                 AND ($2::boolean = false OR (unblocked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))) \
                 AND ($3::timestamptz IS NULL OR (blocked_at, id) < ($3, $4)) \
                 ORDER BY blocked_at DESC, id DESC LIMIT $5"
            ),
            [org.into(), active_only.into(), at.into(), id.into(), (limit as i64).into()],
        )).await
    }

    /// The first active block matching any identity or the IP (BLK-3, BLK-9).
    pub async fn find_active<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        identities: &[(IdentityKind, String)],
        ip: Option<&str>,
    ) -> Result<Option<Uuid>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                &format!("SELECT ({FIRST_ACTIVE}) AS id"),
                Self::check_values(org, identities, ip),
            ))
            .await?;
        row.map(|r| r.try_get::<Option<Uuid>>("", "id"))
            .transpose()
            .map(Option::flatten)
    }

    /// [`Self::find_active`] on the clear `identities`, and the org's
    /// erasure key, in one round trip: a caller without the key learns
    /// whether hashed identities must be checked too (PRV-2).
    pub async fn find_active_and_key<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        identities: &[(IdentityKind, String)],
        ip: Option<&str>,
    ) -> Result<(Option<Uuid>, Option<Vec<u8>>), DbErr> {
        let row = db
            .query_one_raw(stmt(
                &format!(
                    "SELECT ({FIRST_ACTIVE}) AS id, \
                     (SELECT key FROM erasure_keys WHERE org_id = $1) AS key"
                ),
                Self::check_values(org, identities, ip),
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("check row".into()))?;
        Ok((row.try_get("", "id")?, row.try_get("", "key")?))
    }

    fn check_values(
        org: Uuid,
        identities: &[(IdentityKind, String)],
        ip: Option<&str>,
    ) -> [sea_orm::Value; 4] {
        let kinds: Vec<String> = identities
            .iter()
            .map(|(k, _)| label(*k).to_owned())
            .collect();
        let values: Vec<String> = identities.iter().map(|(_, v)| v.clone()).collect();
        [
            org.into(),
            text_array(&kinds),
            text_array(&values),
            ip.map(str::to_owned).into(),
        ]
    }

    /// Everything a check of `org` reads, in one statement: the erasure
    /// key and each active block (unblocked, not expired at the database's
    /// clock) with its identities and range, one row per identity or
    /// range. At most `limit` rows: an org with more is not held in
    /// memory (the caller asks for one more row than its bound).
    pub async fn active_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        limit: u64,
    ) -> Result<ActiveBlocks, Error> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT k.key, b.id, b.blocked_at, b.expires_at, b.ip_cidr::text AS ip_cidr, i.kind, i.value \
                 FROM (SELECT (SELECT key FROM erasure_keys WHERE org_id = $1) AS key) k \
                 LEFT JOIN blocks b ON b.org_id = $1 AND b.unblocked_at IS NULL \
                   AND (b.expires_at IS NULL OR b.expires_at > now()) \
                 LEFT JOIN block_identities i ON i.block_id = b.id AND i.org_id = $1 \
                 LIMIT $2",
                [org.into(), (limit as i64).into()],
            ))
            .await?;
        let mut out = ActiveBlocks {
            key: None,
            rows: Vec::with_capacity(rows.len()),
        };
        for r in &rows {
            out.key = r.try_get("", "key")?;
            let Some(id) = r.try_get::<Option<Uuid>>("", "id")? else {
                continue;
            };
            let identity = match r.try_get::<Option<String>>("", "kind")? {
                Some(kind) => Some((
                    parse_label("block_identities.kind", &kind)?,
                    r.try_get::<String>("", "value")?,
                )),
                None => None,
            };
            out.rows.push(ActiveRow {
                id,
                blocked_at: r.try_get("", "blocked_at")?,
                expires_at: r.try_get("", "expires_at")?,
                ip_cidr: r.try_get("", "ip_cidr")?,
                identity,
            });
        }
        Ok(out)
    }

    /// Marks a block unblocked if it is not already. Returns whether this
    /// call did it.
    pub async fn unblock<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        by: &str,
    ) -> Result<bool, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "UPDATE blocks SET unblocked_by = $3, unblocked_at = now() WHERE org_id = $1 AND id = $2 AND unblocked_at IS NULL",
                [org.into(), id.into(), by.to_owned().into()],
            ))
            .await?
            .rows_affected()
            == 1)
    }

    /// Counts a dropped message against a block (BLK-3).
    pub async fn count_dropped<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE blocks SET dropped_messages = dropped_messages + 1 WHERE org_id = $1 AND id = $2",
            [org.into(), id.into()],
        ))
        .await?;
        Ok(())
    }

    /// Claims blocks that expired and were not yet announced (any replica
    /// may run this: rows are claimed with SKIP LOCKED).
    pub async fn claim_expired<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<BlockRow>, Error> {
        Self::load_all(
            db,
            stmt(
                &format!(
                    "UPDATE blocks SET expiry_published = true WHERE id IN ( \
                   SELECT id FROM blocks WHERE expiry_published = false AND expires_at IS NOT NULL \
                   AND expires_at <= now() AND unblocked_at IS NULL \
                   ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 RETURNING {COLUMNS}"
                ),
                [(limit as i64).into()],
            ),
        )
        .await
    }

    /// Audit entries of one block, oldest first.
    pub async fn audit_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Vec<(String, String, String, DateTime<Utc>)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT action, actor, reason, at FROM block_audit WHERE org_id = $1 AND block_id = $2 ORDER BY at, id",
                [org.into(), id.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "action")?,
                    r.try_get("", "actor")?,
                    r.try_get("", "reason")?,
                    r.try_get("", "at")?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use livedesk_platform::labels::check_text_migration;
    use livedesk_proto::common::v1::{Channel, IdentityKind};

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECKs allow exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0003_enums_as_text.sql");
        assert_eq!(check_text_migration::<Channel>(sql, "channel"), Ok(()));
        assert_eq!(check_text_migration::<IdentityKind>(sql, "kind"), Ok(()));
    }
}
