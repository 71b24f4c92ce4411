//! A customer's share in scheduling (PRV-1, PRV-2): form submissions
//! whose values carry one of the customer's emails or phone numbers, or
//! that were filled in by the customer's web visitor id.
use livedesk_platform::db::{stmt, text_array};
use livedesk_platform::subject::{SubjectScope, SubjectShare, export_json};
use livedesk_proto::common::v1::IdentityKind;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Submissions of the customer: a field value equal to one of the emails
/// (case-insensitive) or phones (digits and `+` only, as identities are
/// normalized), or the visitor id.
const MATCH: &str = "org_id = $1 AND ( \
       visitor_id <> '' AND visitor_id = ANY($4::text[]) \
    OR EXISTS (SELECT 1 FROM jsonb_array_elements(field_values) f \
               WHERE lower(trim(f->>'value')) = ANY($2::text[]) \
                  OR (regexp_replace(f->>'value', '[^0-9+]', '', 'g') <> '' \
                      AND regexp_replace(f->>'value', '[^0-9+]', '', 'g') = ANY($3::text[]))))";

fn params(org: Uuid, identities: &[(IdentityKind, String)]) -> [sea_orm::Value; 4] {
    let of = |kind: IdentityKind| -> Vec<String> {
        identities
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, v)| v.to_lowercase())
            .collect()
    };
    [
        org.into(),
        text_array(&of(IdentityKind::Email)),
        text_array(&of(IdentityKind::Phone)),
        text_array(&of(IdentityKind::WebVisitor)),
    ]
}

/// Data-subject queries.
#[derive(Debug, Clone, Copy)]
pub struct SubjectData;

/// This service's share for the shared export and erasure
/// (`livedesk_platform::subject`, `livedesk_events::ErasureEvents`).
impl SubjectShare for SubjectData {
    const SERVICE: &'static str = "scheduling";

    /// The customer's form submissions, as JSON.
    async fn export(
        &self,
        db: &sea_orm::DatabaseConnection,
        org: Uuid,
        scope: &SubjectScope,
    ) -> Result<String, DbErr> {
        let identities = &scope.identities;
        export_json(
            db,
            &format!(
                "SELECT json_build_object('form_submissions', (SELECT coalesce(json_agg(s ORDER BY s.submitted_at), '[]') \
                 FROM form_submissions s WHERE {MATCH}))::text AS doc"
            ),
            params(org, identities),
        )
        .await
    }

    /// Blanks every value of the customer's submissions (the keys stay, so
    /// the row still counts as one submission of that form) and the
    /// visitor id. Idempotent: blanked rows no longer match.
    async fn erase(
        &self,
        db: &sea_orm::DatabaseTransaction,
        org: Uuid,
        scope: &SubjectScope,
    ) -> Result<(), DbErr> {
        let identities = &scope.identities;
        if identities.is_empty() {
            return Ok(());
        }
        db.execute_raw(stmt(
            &format!(
                "UPDATE form_submissions SET visitor_id = '', field_values = \
                   (SELECT coalesce(jsonb_agg(jsonb_set(f, '{{value}}', '\"\"'::jsonb)), '[]'::jsonb) \
                    FROM jsonb_array_elements(field_values) f) \
                 WHERE {MATCH}"
            ),
            params(org, identities),
        ))
        .await?;
        Ok(())
    }
}
