//! A customer's share in notifications (PRV-1, PRV-2): feed rows about
//! the customer's conversations or addressed to the customer, what is
//! tracked of those conversations, memberships, live-block rows, and email
//! deliveries of those conversations or addressed to (or, for deliveries
//! outside any conversation such as form copies, naming) the customer's
//! email addresses.
use livedesk_platform::db::{stmt, text_array};
use livedesk_platform::subject::{SubjectScope, SubjectShare, export_json};
use livedesk_proto::common::v1::IdentityKind;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use uuid::Uuid;

/// The customer principals: the customer members of the conversations and
/// the web visitor ids asked about.
const PRINCIPALS: &str = "(SELECT principal_id FROM conversation_members \
     WHERE org_id = $1 AND conversation_id = ANY($2::text[]) AND role = 'customer' \
     UNION SELECT unnest($4::text[]))";

/// Deliveries of the conversations or requests, to one of the emails, or (outside any
/// conversation) mentioning one in their body.
const DELIVERIES: &str = "org_id = $1 AND ( \
       (conversation_id <> '' AND conversation_id = ANY($2::text[])) \
    OR (request_id <> '' AND request_id = ANY($5::text[])) \
    OR EXISTS (SELECT 1 FROM unnest(recipients) r WHERE lower(trim(r)) = ANY($3::text[])) \
    OR (conversation_id = '' AND EXISTS (SELECT 1 FROM unnest($3::text[]) e \
                                         WHERE position(e IN lower(text_body || ' ' || subject)) > 0)))";

/// `$1` the org, `$2` the conversations, `$3` the lowercased emails, `$4`
/// the web visitor ids, `$5` the requests.
fn params(org: Uuid, scope: &SubjectScope) -> [sea_orm::Value; 5] {
    let of = |kind: IdentityKind| -> Vec<String> {
        scope
            .identities
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let ids: Vec<String> = scope.conversations.iter().map(Uuid::to_string).collect();
    let emails: Vec<String> = of(IdentityKind::Email)
        .iter()
        .map(|e| e.to_lowercase())
        .collect();
    [
        org.into(),
        text_array(&ids),
        text_array(&emails),
        text_array(&of(IdentityKind::WebVisitor)),
        text_array(
            &scope
                .requests
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>(),
        ),
    ]
}

/// This service's share of a customer's data, for the shared export and
/// erasure (`livedesk_platform::subject`, `livedesk_events::ErasureEvents`).
#[derive(Debug, Clone, Copy)]
pub struct SubjectData;

impl SubjectShare for SubjectData {
    const SERVICE: &'static str = "notifications";

    /// The customer's share, as JSON (feed bodies are the encoded
    /// `Notification` messages, base64).
    async fn export(
        &self,
        db: &DatabaseConnection,
        org: Uuid,
        scope: &SubjectScope,
    ) -> Result<String, DbErr> {
        export_json(
            db,
            &format!(
                "SELECT json_build_object( \
                   'feed', (SELECT coalesce(json_agg(json_build_object('recipient', n.recipient, 'seq', n.seq, \
                             'conversation_id', n.conversation_id, 'kind', n.kind, 'created_at', n.created_at, \
                             'body_protobuf_base64', encode(n.body, 'base64')) ORDER BY n.created_at), '[]') \
                            FROM notifications n WHERE n.org_id = $1 AND (n.conversation_id = ANY($2::text[]) \
                                                                    OR n.recipient IN {PRINCIPALS})), \
                   'tracked_conversations', (SELECT coalesce(json_agg(t), '[]') FROM tracked_conversations t \
                                             WHERE t.org_id = $1 AND t.conversation_id = ANY($2::text[])), \
                   'members', (SELECT coalesce(json_agg(m), '[]') FROM conversation_members m \
                               WHERE m.org_id = $1 AND m.conversation_id = ANY($2::text[]) AND m.role = 'customer'), \
                   'blocked', (SELECT coalesce(json_agg(b), '[]') FROM blocked_customers b \
                               WHERE b.org_id = $1 AND b.principal_id IN {PRINCIPALS}), \
                   'email_deliveries', (SELECT coalesce(json_agg(d ORDER BY d.created_at), '[]') FROM email_deliveries d WHERE {DELIVERIES}) \
                 )::text AS doc"
            ),
            params(org, scope),
        )
        .await
    }

    /// Deletes the feed rows, memberships and live-block rows of the
    /// customer, clears the tracked customer, and empties the matching
    /// email deliveries (a pending one is failed: it has no recipient any
    /// more), and the customer's own feed counter.
    async fn erase(
        &self,
        db: &DatabaseTransaction,
        org: Uuid,
        scope: &SubjectScope,
    ) -> Result<(), DbErr> {
        let p = params(org, scope);
        for sql in [
            format!(
                "DELETE FROM notifications WHERE org_id = $1 AND (conversation_id = ANY($2::text[]) OR recipient IN {PRINCIPALS})"
            ),
            format!("DELETE FROM blocked_customers WHERE org_id = $1 AND principal_id IN {PRINCIPALS}"),
            // The erased customer's own sequence counter goes too: its rows
            // are gone, and the row names the visitor.
            format!("DELETE FROM feeds WHERE org_id = $1 AND recipient IN {PRINCIPALS}"),
            "DELETE FROM conversation_members WHERE org_id = $1 AND conversation_id = ANY($2::text[]) AND role = 'customer'"
                .to_owned(),
            "UPDATE tracked_conversations SET customer = '' WHERE org_id = $1 AND conversation_id = ANY($2::text[]) AND customer <> ''"
                .to_owned(),
            format!(
                "UPDATE email_deliveries SET recipients = '{{}}', subject = '', text_body = '', html_body = '', \
                        last_error = CASE WHEN status IN ('pending', 'retrying') THEN 'erased before delivery (PRV-2)' ELSE '' END, \
                        status = CASE WHEN status IN ('pending', 'retrying') THEN 'failed' ELSE status END, \
                        next_attempt_at = NULL, updated_at = now() \
                 WHERE {DELIVERIES} AND (cardinality(recipients) > 0 OR subject <> '' OR text_body <> '' OR html_body <> '')"
            ),
        ] {
            db.execute_raw(stmt(&sql, p.clone())).await?;
        }
        Ok(())
    }
}
