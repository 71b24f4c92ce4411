//! Data-subject queries (PRV-1 … PRV-3): finding a customer's
//! conversations by identity, exporting them as JSON, redacting them, and
//! the audited erasure records.
use chrono::{DateTime, Utc};
use livedesk_platform::db::{stmt, uuid_array};
use livedesk_platform::subject::export_json;
use livedesk_proto::common::v1::IdentityKind;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::text_array;
use crate::domain::labels::live_statuses_sql;
use livedesk_platform::labels::{UnknownLabel, label, parse_label};

/// Digest of one identity kept in the erasure audit instead of its value.
pub fn identity_digest(org: Uuid, kind: IdentityKind, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(org.as_bytes());
    h.update(b":");
    h.update((kind as i32).to_be_bytes());
    h.update(b":");
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

/// An audited erasure.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ErasureRow {
    pub id: Uuid,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub completed_services: Vec<String>,
}

/// What a retention sweep claimed in one org.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub org_id: Uuid,
    pub conversation_ids: Vec<Uuid>,
}

/// Privacy queries.
pub struct Privacy;

/// Conversation filter of a customer: any of its identities on the
/// conversation, or the email / phone it gave (the conversation's own
/// contact fields), always within the org.
const MATCH_CONVERSATIONS: &str = "SELECT c.id FROM conversations c WHERE c.org_id = $1 AND ( \
       EXISTS (SELECT 1 FROM conversation_identities i \
               JOIN unnest($2::text[], $3::text[]) AS q(kind, value) ON i.kind = q.kind AND i.value = q.value \
               WHERE i.conversation_id = c.id AND i.org_id = $1) \
    OR (c.customer_email <> '' AND lower(c.customer_email) = ANY($4::text[])) \
    OR (c.customer_phone <> '' AND c.customer_phone = ANY($5::text[])))";

/// Requests of the customer ($1 org, $2 conversation ids, $3 emails, $4
/// phones): those of the conversations, and those whose contact carries
/// one of the customer's emails or phones.
const REQUESTS: &str = "(SELECT request_id FROM conversations WHERE org_id = $1 AND id = ANY($2) \
     UNION SELECT r.id FROM requests r JOIN contacts k ON k.id = r.contact_id WHERE r.org_id = $1 AND \
       ((k.email <> '' AND lower(k.email) = ANY($3::text[])) OR (k.phone <> '' AND k.phone = ANY($4::text[]))))";

impl Privacy {
    /// The customer's conversations (ids), oldest first.
    pub async fn conversations_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        identities: &[(IdentityKind, String)],
    ) -> Result<Vec<Uuid>, DbErr> {
        let kinds: Vec<String> = identities
            .iter()
            .map(|(k, _)| label(*k).to_owned())
            .collect();
        let values: Vec<String> = identities.iter().map(|(_, v)| v.clone()).collect();
        let emails = of_kind(identities, IdentityKind::Email);
        let phones = of_kind(identities, IdentityKind::Phone);
        let rows = db
            .query_all_raw(stmt(
                &format!("SELECT id FROM ({MATCH_CONVERSATIONS}) m ORDER BY id"),
                [
                    org.into(),
                    text_array(&kinds),
                    text_array(&values),
                    text_array(&emails),
                    text_array(&phones),
                ],
            ))
            .await?;
        rows.iter().map(|r| r.try_get::<Uuid>("", "id")).collect()
    }

    /// Every identity known for the conversations `ids` (their identity
    /// rows and contact fields), merged with `typed`: an erasure asked by
    /// email also reaches the visitor id and phone of the same customer.
    pub async fn all_identities<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
        typed: &[(IdentityKind, String)],
    ) -> Result<Vec<(IdentityKind, String)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT kind, value FROM conversation_identities WHERE org_id = $1 AND conversation_id = ANY($2) \
                 UNION SELECT $3::text, lower(customer_email) FROM conversations WHERE org_id = $1 AND id = ANY($2) AND customer_email <> '' \
                 UNION SELECT $4::text, customer_phone FROM conversations WHERE org_id = $1 AND id = ANY($2) AND customer_phone <> ''",
                [
                    org.into(),
                    uuid_array(ids),
                    label(IdentityKind::Email).into(),
                    label(IdentityKind::Phone).into(),
                ],
            ))
            .await?;
        let mut found = Vec::with_capacity(rows.len());
        for r in rows {
            // An identity of an unknown kind would escape the erasure:
            // refuse the whole export or erasure instead (fail closed).
            let stored: String = r.try_get("", "kind")?;
            let kind = parse_label::<IdentityKind>("conversation_identities.kind", &stored)
                .ok()
                .filter(|k| *k != IdentityKind::Unspecified)
                .ok_or_else(|| {
                    DbErr::from(UnknownLabel {
                        column: "conversation_identities.kind",
                        value: stored.clone(),
                    })
                })?;
            let value: String = r.try_get("", "value")?;
            found.push((kind, value));
        }
        // In the order of the kinds' wire numbers, as before they were labels.
        found.sort_by(|(ka, va), (kb, vb)| (*ka as i32, va).cmp(&(*kb as i32, vb)));
        let mut all = typed.to_vec();
        for (kind, value) in found {
            if !all.iter().any(|(k, v)| *k == kind && *v == value) {
                all.push((kind, value));
            }
        }
        Ok(all)
    }

    /// The customer's requests: those of the conversations `ids` and those
    /// whose contact carries one of the customer's emails or phones.
    pub async fn requests_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
        identities: &[(IdentityKind, String)],
    ) -> Result<Vec<Uuid>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                &format!("SELECT DISTINCT request_id FROM {REQUESTS} r(request_id) ORDER BY 1"),
                [
                    org.into(),
                    uuid_array(ids),
                    text_array(&of_kind(identities, IdentityKind::Email)),
                    text_array(&of_kind(identities, IdentityKind::Phone)),
                ],
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "request_id"))
            .collect()
    }

    /// Whether another engineer's `form_copies` table (SCH-6) exists in
    /// this database yet.
    async fn has_form_copies<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT to_regclass('form_copies') IS NOT NULL AS present",
                [],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<bool>("", "present"))
            .transpose()?
            .unwrap_or(false))
    }

    /// Whether any of `ids` is still live (queued, active or paused).
    pub async fn any_live<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
    ) -> Result<bool, DbErr> {
        let row = db
            .query_one_raw(stmt(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM conversations WHERE org_id = $1 AND id = ANY($2) AND status IN {}) AS live",
                    live_statuses_sql()
                ),
                [org.into(), uuid_array(ids)],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<bool>("", "live"))
            .transpose()?
            .unwrap_or(false))
    }

    /// This service's share as one JSON object (PRV-1): the conversations
    /// with their identities, participants, messages (hidden ones too: the
    /// customer wrote them), attachment metadata, qualification history,
    /// their requests, contacts and emails, and contacts found by the
    /// customer's email or phone.
    pub async fn export<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
        identities: &[(IdentityKind, String)],
    ) -> Result<String, DbErr> {
        let emails = of_kind(identities, IdentityKind::Email);
        let phones = of_kind(identities, IdentityKind::Phone);
        let sql = "WITH convs AS (SELECT * FROM conversations WHERE org_id = $1 AND id = ANY($2)), \
             reqs AS (SELECT * FROM requests WHERE org_id = $1 AND id IN (SELECT request_id FROM convs)) \
             SELECT json_build_object( \
               'conversations', (SELECT coalesce(json_agg(c ORDER BY c.created_at), '[]') FROM convs c), \
               'identities', (SELECT coalesce(json_agg(json_build_object('conversation_id', i.conversation_id, 'kind', i.kind, 'value', i.value)), '[]') \
                              FROM conversation_identities i WHERE i.conversation_id IN (SELECT id FROM convs)), \
               'participants', (SELECT coalesce(json_agg(p), '[]') FROM participants p WHERE p.conversation_id IN (SELECT id FROM convs)), \
               'messages', (SELECT coalesce(json_agg(m ORDER BY m.created_at), '[]') FROM messages m WHERE m.conversation_id IN (SELECT id FROM convs)), \
               'attachments', (SELECT coalesce(json_agg(a), '[]') FROM attachments a WHERE a.conversation_id IN (SELECT id FROM convs)), \
               'qualification_history', (SELECT coalesce(json_agg(q), '[]') FROM qualification_audit q WHERE q.conversation_id IN (SELECT id FROM convs)), \
               'requests', (SELECT coalesce(json_agg(r), '[]') FROM reqs r), \
               'emails', (SELECT coalesce(json_agg(e ORDER BY e.created_at), '[]') FROM email_messages e WHERE e.org_id = $1 AND e.request_id IN (SELECT id FROM reqs)), \
               'contacts', (SELECT coalesce(json_agg(k), '[]') FROM contacts k WHERE k.org_id = $1 AND ( \
                              k.id IN (SELECT contact_id FROM reqs) \
                              OR (k.email <> '' AND lower(k.email) = ANY($3::text[])) \
                              OR (k.phone <> '' AND k.phone = ANY($4::text[])))) \
             )::text AS doc";
        let doc: String = export_json(
            db,
            sql,
            [
                org.into(),
                uuid_array(ids),
                text_array(&emails),
                text_array(&phones),
            ],
        )
        .await?;
        if !Self::has_form_copies(db).await? {
            return Ok(doc);
        }
        let copies: String = export_json(
            db,
            "SELECT coalesce(json_agg(f ORDER BY f.submitted_at), '[]')::text AS doc FROM form_copies f \
             WHERE f.org_id = $1 AND (f.request_id IN (SELECT request_id FROM conversations WHERE org_id = $1 AND id = ANY($2)) \
               OR EXISTS (SELECT 1 FROM unnest(f.field_values) v WHERE lower(trim(v)) = ANY($3::text[])))",
            [org.into(), uuid_array(ids), text_array(&emails)],
        )
        .await?;
        // Both are JSON texts from PostgreSQL: splice the copies in as one
        // more key of the object.
        Ok(format!(
            "{},\"form_copies\":{copies}}}",
            doc.trim_end().strip_suffix('}').unwrap_or(&doc)
        ))
    }

    /// Records an erasure and claims its conversations for it.
    pub async fn record<C: ConnectionTrait>(
        db: &C,
        id: Uuid,
        org: Uuid,
        cause: &str,
        by: &str,
        digests: &[String],
        ids: &[Uuid],
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO erasures (id, org_id, cause, requested_by, identity_digests, conversation_ids) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            [
                id.into(),
                org.into(),
                cause.to_owned().into(),
                by.to_owned().into(),
                text_array(digests),
                uuid_array(ids),
            ],
        ))
        .await?;
        db.execute_raw(stmt(
            "UPDATE conversations SET erasure_id = $3 WHERE org_id = $1 AND id = ANY($2) AND erasure_id IS NULL",
            [org.into(), uuid_array(ids), id.into()],
        ))
        .await?;
        Ok(())
    }

    /// An erasure with the services that completed it.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<ErasureRow>, DbErr> {
        ErasureRow::find_by_statement(stmt(
            "SELECT e.id, e.requested_by, e.requested_at, \
                    coalesce(array_agg(c.service ORDER BY c.service) FILTER (WHERE c.service IS NOT NULL), '{}') AS completed_services \
             FROM erasures e LEFT JOIN erasure_completions c ON c.erasure_id = e.id \
             WHERE e.org_id = $1 AND e.id = $2 GROUP BY e.id",
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// Records that `service` finished its share; ignored for an erasure
    /// unknown in the org.
    pub async fn complete<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        service: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO erasure_completions (erasure_id, service) \
             SELECT id, $3 FROM erasures WHERE org_id = $1 AND id = $2 ON CONFLICT DO NOTHING",
            [org.into(), id.into(), service.to_owned().into()],
        ))
        .await?;
        Ok(())
    }

    /// Object paths of the attachments of `ids`.
    pub async fn attachment_paths<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<String>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT object_path FROM attachments WHERE org_id = $1 AND conversation_id = ANY($2)",
                [org.into(), uuid_array(ids)],
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String>("", "object_path"))
            .collect()
    }

    /// Irreversibly redacts the conversations `ids` of one org (PRV-2):
    /// message text, customer fields, identities, customer participant,
    /// qualification notes, attachment rows, and the requests, contacts and
    /// emails of those conversations; plus contacts and cached block rows
    /// naming `identities`. Ids, timestamps, statuses and counts stay, so
    /// the skeleton is anonymous. Idempotent: a second run finds nothing
    /// personal left.
    pub async fn redact<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
        identities: &[(IdentityKind, String)],
    ) -> Result<(), DbErr> {
        let kinds: Vec<String> = identities
            .iter()
            .map(|(k, _)| label(*k).to_owned())
            .collect();
        let values: Vec<String> = identities.iter().map(|(_, v)| v.clone()).collect();
        let emails = of_kind(identities, IdentityKind::Email);
        let phones = of_kind(identities, IdentityKind::Phone);
        let by_conv = [org.into(), uuid_array(ids)];
        let by_all = [
            org.into(),
            uuid_array(ids),
            text_array(&emails),
            text_array(&phones),
        ];
        let requests = REQUESTS;
        if Self::has_form_copies(db).await? {
            db.execute_raw(stmt(
                &format!(
                    "UPDATE form_copies SET field_values = array_fill(''::text, ARRAY[cardinality(field_values)]) \
                     WHERE org_id = $1 AND (request_id IN {requests} OR EXISTS (SELECT 1 FROM unnest(field_values) v \
                       WHERE lower(trim(v)) = ANY($3::text[]) \
                          OR (regexp_replace(v, '[^0-9+]', '', 'g') <> '' AND regexp_replace(v, '[^0-9+]', '', 'g') = ANY($4::text[]))))"
                ),
                by_all.clone(),
            ))
            .await?;
            db.execute_raw(stmt(
                &format!(
                    "UPDATE requests SET custom_field_values = array_fill(''::text, ARRAY[cardinality(custom_field_values)]) \
                     WHERE org_id = $1 AND id IN {requests} AND cardinality(custom_field_values) > 0"
                ),
                by_all.clone(),
            ))
            .await?;
        }
        db.execute_raw(stmt(
            &format!(
                "UPDATE email_messages SET from_addr = '', to_addrs = '{{}}', subject = '', text_body = '' \
                 WHERE org_id = $1 AND request_id IN {requests}"
            ),
            by_all.clone(),
        ))
        .await?;
        db.execute_raw(stmt(
            &format!(
                "UPDATE requests SET customer_principal_id = 'erased:' || id::text \
                 WHERE org_id = $1 AND id IN {requests} AND customer_principal_id NOT LIKE 'erased:%'"
            ),
            by_all.clone(),
        ))
        .await?;
        for sql in [
            "UPDATE messages m SET text = '', attachment_ids = '{}', \
                    author_id = CASE WHEN m.author_id = c.customer_principal_id THEN 'erased:' || c.id::text ELSE m.author_id END \
             FROM conversations c WHERE c.id = m.conversation_id AND c.org_id = $1 AND c.id = ANY($2)",
            "DELETE FROM attachments WHERE org_id = $1 AND conversation_id = ANY($2)",
            "DELETE FROM conversation_identities WHERE org_id = $1 AND conversation_id = ANY($2)",
            "UPDATE participants SET principal_id = 'erased:' || conversation_id::text, display_name = '' \
             WHERE org_id = $1 AND conversation_id = ANY($2) AND role = 'customer' AND principal_id NOT LIKE 'erased:%'",
            "UPDATE qualification_audit SET before_note = '', after_note = '' WHERE org_id = $1 AND conversation_id = ANY($2)",
            "UPDATE contacts SET name = '', email = '', phone = '' \
             WHERE org_id = $1 AND id IN (SELECT r.contact_id FROM requests r JOIN conversations c ON c.request_id = r.id \
                                          WHERE c.org_id = $1 AND c.id = ANY($2))",
            "UPDATE conversations SET customer_principal_id = 'erased:' || id::text, customer_name = '', customer_email = '', \
                    customer_phone = '', ip_address = '', qual_note = '', erased_at = coalesce(erased_at, now()) \
             WHERE org_id = $1 AND id = ANY($2)",
        ] {
            db.execute_raw(stmt(sql, by_conv.clone())).await?;
        }
        if !identities.is_empty() {
            db.execute_raw(stmt(
                "UPDATE contacts SET name = '', email = '', phone = '' WHERE org_id = $1 AND \
                 ((email <> '' AND lower(email) = ANY($2::text[])) OR (phone <> '' AND phone = ANY($3::text[])))",
                [org.into(), text_array(&emails), text_array(&phones)],
            ))
            .await?;
            // The local block cache holds clear identities; blocking keeps
            // the block itself (matched by a keyed hash there), and new
            // conversations are checked against blocking, not this cache.
            db.execute_raw(stmt(
                "DELETE FROM blocked_identities WHERE org_id = $1 AND block_id IN ( \
                   SELECT b.block_id FROM blocked_identities b JOIN unnest($2::text[], $3::text[]) AS q(kind, value) \
                     ON b.kind = q.kind AND b.value = q.value WHERE b.org_id = $1)",
                [org.into(), text_array(&kinds), text_array(&values)],
            ))
            .await?;
        }
        Ok(())
    }

    /// Orgs with a retention period.
    pub async fn orgs_with_retention<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT org_id FROM settings WHERE retention_days > 0 ORDER BY org_id",
                [],
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "org_id"))
            .collect()
    }

    /// Claims up to `limit` conversations of `org` ended more than its
    /// retention period ago and not yet claimed by an erasure, for erasure
    /// `erasure` (PRV-3). `FOR UPDATE SKIP LOCKED` plus the conditional
    /// `erasure_id IS NULL` make concurrent sweeps of several replicas
    /// claim disjoint sets.
    pub async fn claim_expired<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        erasure: Uuid,
        limit: u64,
    ) -> Result<Option<Claimed>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "UPDATE conversations SET erasure_id = $2 WHERE id IN ( \
                   SELECT c.id FROM conversations c JOIN settings s ON s.org_id = c.org_id \
                   WHERE c.org_id = $1 AND s.retention_days > 0 AND c.erasure_id IS NULL AND c.ended_at IS NOT NULL \
                     AND c.ended_at < now() - make_interval(days => s.retention_days) \
                   ORDER BY c.ended_at LIMIT $3 FOR UPDATE OF c SKIP LOCKED) \
                 AND erasure_id IS NULL RETURNING id",
                [org.into(), erasure.into(), (limit as i64).into()],
            ))
            .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<Uuid>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!ids.is_empty()).then_some(Claimed {
            org_id: org,
            conversation_ids: ids,
        }))
    }
}

fn of_kind(identities: &[(IdentityKind, String)], kind: IdentityKind) -> Vec<String> {
    identities
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, v)| v.to_lowercase())
        .collect()
}
