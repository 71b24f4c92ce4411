//! A customer's share in blocking (PRV-1, PRV-2).
//!
//! Erasing a blocked customer keeps the block: stopping abuse is a
//! legitimate interest that outlives the customer's other data, and an
//! erasure must not be a way to lift a block. What identifies the person
//! goes: the customer name is cleared and every identity value of the
//! block is replaced by a keyed one-way hash (HMAC-SHA256 with a random
//! per-org key kept in `erasure_keys`). `CheckIdentities` hashes the
//! identities it is asked about with the same key, so the block still
//! matches the returning customer, while the stored value reveals nothing
//! and cannot be tested against a guessed email without the key.
use livedesk_platform::db::{stmt, text_array, uuid_array};
use livedesk_platform::subject::{SubjectScope, SubjectShare, export_json};
use livedesk_proto::common::v1::IdentityKind;
use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use livedesk_platform::labels::{label, parse_label};

/// Prefix of a hashed identity value (never a valid clear value: clear
/// values are normalized emails, phones and ids without this prefix).
const HASHED: &str = "hmac:";

/// HMAC-SHA256 (RFC 2104) of `msg` under `key` (keys up to 64 bytes).
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    let n = key.len().min(64);
    block[..n].copy_from_slice(&key[..n]);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// The stored form of an erased identity: `hmac:` and the hex HMAC of
/// `kind:value`, where `kind` is the protobuf NUMBER of the kind (`2` for
/// an email), not its stored label: hashes stored before kinds became
/// text (migration 0003) must keep matching, so this input never changes.
fn hashed(key: &[u8], kind: IdentityKind, value: &str) -> String {
    let number = kind as i32;
    let mac = hmac_sha256(key, format!("{number}:{value}").as_bytes());
    format!("{HASHED}{}", hex::encode(mac))
}

/// `identities` followed by their hashed forms under the org's erasure
/// `key`: what a check looks for once the org has erased a blocked
/// customer (the block then names only the hashed forms).
pub fn with_key(
    key: &[u8],
    mut identities: Vec<(IdentityKind, String)>,
) -> Vec<(IdentityKind, String)> {
    let extra: Vec<_> = identities
        .iter()
        .map(|(k, v)| (*k, hashed(key, *k, v)))
        .collect();
    identities.extend(extra);
    identities
}

/// Data-subject queries.
#[derive(Debug, Clone, Copy)]
pub struct SubjectData;

impl SubjectData {
    async fn key<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Option<Vec<u8>>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT key FROM erasure_keys WHERE org_id = $1",
                [org.into()],
            ))
            .await?;
        row.map(|r| r.try_get::<Vec<u8>>("", "key")).transpose()
    }

    /// The org's key, created on first use (two random UUIDs: 244 random
    /// bits; a concurrent creation keeps the first).
    async fn key_or_create<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Vec<u8>, DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO erasure_keys (org_id, key) VALUES ($1, \
               decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')) \
             ON CONFLICT (org_id) DO NOTHING",
            [org.into()],
        ))
        .await?;
        Self::key(db, org)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("erasure key".into()))
    }

    /// `identities` plus their hashed forms, when the org has erased a
    /// blocked customer ([`with_key`]).
    async fn with_hashed<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        identities: Vec<(IdentityKind, String)>,
    ) -> Result<Vec<(IdentityKind, String)>, DbErr> {
        Ok(match Self::key(db, org).await? {
            Some(key) => with_key(&key, identities),
            None => identities,
        })
    }

    /// Ids of the org's blocks on the conversations `ids` or naming any of
    /// `identities` (in clear or hashed).
    async fn blocks_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
        identities: &[(IdentityKind, String)],
    ) -> Result<Vec<Uuid>, DbErr> {
        let all = Self::with_hashed(db, org, identities.to_vec()).await?;
        let kinds: Vec<String> = all.iter().map(|(k, _)| label(*k).to_owned()).collect();
        let values: Vec<String> = all.iter().map(|(_, v)| v.clone()).collect();
        let rows = db
            .query_all_raw(stmt(
                "SELECT b.id FROM blocks b WHERE b.org_id = $1 AND ( \
                   b.conversation_id = ANY($2) \
                   OR EXISTS (SELECT 1 FROM block_identities i \
                              JOIN unnest($3::text[], $4::text[]) AS q(kind, value) ON i.kind = q.kind AND i.value = q.value \
                              WHERE i.block_id = b.id AND i.org_id = $1)) \
                 ORDER BY b.id",
                [
                    org.into(),
                    uuid_array(ids),
                    text_array(&kinds),
                    text_array(&values),
                ],
            ))
            .await?;
        rows.iter().map(|r| r.try_get::<Uuid>("", "id")).collect()
    }
}

/// This service's share for the shared export and erasure
/// (`livedesk_platform::subject`, `livedesk_events::ErasureEvents`).
impl SubjectShare for SubjectData {
    const SERVICE: &'static str = "blocking";

    /// The customer's blocks with their identities and audit, as JSON.
    async fn export(
        &self,
        db: &sea_orm::DatabaseConnection,
        org: Uuid,
        scope: &SubjectScope,
    ) -> Result<String, DbErr> {
        let (ids, identities) = (&scope.conversations, &scope.identities);
        let blocks = Self::blocks_of(db, org, ids, identities).await?;
        export_json(
            db,
            "SELECT json_build_object('blocks', (SELECT coalesce(json_agg(json_build_object( \
               'block', b, \
               'identities', (SELECT coalesce(json_agg(json_build_object('kind', i.kind, 'value', i.value)), '[]') \
                              FROM block_identities i WHERE i.block_id = b.id), \
               'audit', (SELECT coalesce(json_agg(a ORDER BY a.at), '[]') FROM block_audit a WHERE a.block_id = b.id))), '[]') \
             FROM blocks b WHERE b.org_id = $1 AND b.id = ANY($2)))::text AS doc",
            [org.into(), uuid_array(&blocks)],
        )
        .await
    }

    /// Keeps the customer's blocks but clears the name and hashes every
    /// clear identity value (see the module doc). Idempotent: hashed values
    /// are left alone.
    async fn erase(
        &self,
        db: &sea_orm::DatabaseTransaction,
        org: Uuid,
        scope: &SubjectScope,
    ) -> Result<(), DbErr> {
        let (ids, identities) = (&scope.conversations, &scope.identities);
        let blocks = Self::blocks_of(db, org, ids, identities).await?;
        if blocks.is_empty() {
            return Ok(());
        }
        let key = Self::key_or_create(db, org).await?;
        let rows = db
            .query_all_raw(stmt(
                "SELECT block_id, kind, value FROM block_identities \
                 WHERE org_id = $1 AND block_id = ANY($2) AND value NOT LIKE 'hmac:%'",
                [org.into(), uuid_array(&blocks)],
            ))
            .await?;
        for r in rows {
            let block: Uuid = r.try_get("", "block_id")?;
            let stored_kind: String = r.try_get("", "kind")?;
            // A kind no value has is a corrupt row: the erasure fails (and
            // is retried) rather than hash the value under a guessed kind.
            let kind = parse_label::<IdentityKind>("block_identities.kind", &stored_kind)
                .map_err(|e| DbErr::Type(e.to_string()))?;
            let value: String = r.try_get("", "value")?;
            db.execute_raw(stmt(
                "WITH gone AS (DELETE FROM block_identities WHERE block_id = $1 AND kind = $2 AND value = $3) \
                 INSERT INTO block_identities (block_id, org_id, kind, value) VALUES ($1, $4, $2, $5) ON CONFLICT DO NOTHING",
                [
                    block.into(),
                    stored_kind.into(),
                    value.clone().into(),
                    org.into(),
                    hashed(&key, kind, &value).into(),
                ],
            ))
            .await?;
        }
        db.execute_raw(stmt(
            "UPDATE blocks SET customer_name = '' WHERE org_id = $1 AND id = ANY($2) AND customer_name <> ''",
            [org.into(), uuid_array(&blocks)],
        ))
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{IdentityKind, hashed, hmac_sha256};

    #[test]
    fn hmac_is_rfc_4231_and_keyed() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let a = hashed(b"key-one", IdentityKind::Email, "a@example.com");
        assert_eq!(a, hashed(b"key-one", IdentityKind::Email, "a@example.com"));
        assert_ne!(a, hashed(b"key-two", IdentityKind::Email, "a@example.com"));
        assert_ne!(a, hashed(b"key-one", IdentityKind::Phone, "a@example.com"));
        assert!(a.starts_with("hmac:") && a.len() == 5 + 64);
    }

    /// Hashes stored before kinds became text were made of the kind's
    /// number: the input stays `2:value` for an email, never `email:value`.
    #[test]
    fn the_hash_input_is_the_numeric_kind() {
        let key = b"key-one";
        assert_eq!(
            hashed(key, IdentityKind::Email, "a@example.com"),
            format!("hmac:{}", hex::encode(hmac_sha256(key, b"2:a@example.com")))
        );
        assert_eq!(
            hashed(key, IdentityKind::WebVisitor, "v-1"),
            format!("hmac:{}", hex::encode(hmac_sha256(key, b"1:v-1")))
        );
    }
}
