//! A customer's share in reporting (PRV-1, PRV-2): facts and block rows
//! of the customer's conversations, and form submissions carrying the
//! customer's email or phone (by the ids scheduling found). Erasure clears the personal fields only:
//! the rows stay, so statistics keep their anonymous counts.
use livedesk_platform::db::{stmt, text_array};
use livedesk_platform::subject::{SubjectScope, SubjectShare, export_json};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use uuid::Uuid;

/// The customer's submissions, by the ids scheduling found: reporting
/// keeps the values masked, so it cannot match them by email itself.
const FORMS: &str = "org_id = $1 AND submission_id::text = ANY($3::text[])";

fn params(org: Uuid, ids: &[Uuid], forms: &[Uuid]) -> [sea_orm::Value; 3] {
    // Reporting keeps conversation ids as text in some tables.
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let forms: Vec<String> = forms.iter().map(Uuid::to_string).collect();
    [org.into(), text_array(&ids), text_array(&forms)]
}

/// This service's share for the shared export and erasure
/// (`livedesk_platform::subject`, `livedesk_events::ErasureEvents`).
#[derive(Debug, Clone, Copy)]
pub struct SubjectData;

impl SubjectShare for SubjectData {
    const SERVICE: &'static str = "reporting";

    /// The customer's facts, blocks and form submissions, as JSON.
    async fn export(
        &self,
        db: &DatabaseConnection,
        org: Uuid,
        s: &SubjectScope,
    ) -> Result<String, DbErr> {
        export_json(
            db,
            &format!(
                "SELECT json_build_object( \
                   'conversation_facts', (SELECT coalesce(json_agg(f), '[]') FROM conversation_facts f \
                                          WHERE f.org_id = $1 AND f.conversation_id::text = ANY($2::text[])), \
                   'wrap_ups', (SELECT coalesce(json_agg(w), '[]') FROM agent_wrap_ups w \
                                WHERE w.org_id = $1 AND w.conversation_id::text = ANY($2::text[])), \
                   'blocks', (SELECT coalesce(json_agg(b), '[]') FROM blocks b \
                              WHERE b.org_id = $1 AND b.conversation_id = ANY($2::text[])), \
                   'form_submissions', (SELECT coalesce(json_agg(s), '[]') FROM form_submissions s WHERE {FORMS}) \
                 )::text AS doc"
            ),
            params(org, &s.conversations, &s.form_submissions),
        )
        .await
    }

    /// Clears customer names (facts, blocks), the blocks' identity labels
    /// and the values of the customer's form submissions (keys stay).
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        s: &SubjectScope,
    ) -> Result<(), DbErr> {
        let p = params(org, &s.conversations, &s.form_submissions);
        for sql in [
            "UPDATE conversation_facts SET customer_name = '' \
             WHERE org_id = $1 AND conversation_id::text = ANY($2::text[]) AND customer_name <> ''"
                .to_owned(),
            "UPDATE blocks SET customer_name = '', identities = '' \
             WHERE org_id = $1 AND conversation_id = ANY($2::text[]) AND (customer_name <> '' OR identities <> '')"
                .to_owned(),
            format!(
                "UPDATE form_submissions SET field_values = array_fill(''::text, ARRAY[cardinality(field_values)]) WHERE {FORMS}"
            ),
        ] {
            txn.execute_raw(stmt(&sql, p.clone())).await?;
        }
        Ok(())
    }
}
