//! Queries on `form_copies` and requests' custom fields (SCH-6): the copy
//! of every offline- and contact-form submission in a request's history.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::text_array;

/// One stored copy.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FormCopyRow {
    pub id: Uuid,
    pub form_id: Uuid,
    pub contact_form: bool,
    pub queue_id: String,
    pub field_keys: Vec<String>,
    pub field_values: Vec<String>,
    pub submitted_at: DateTime<Utc>,
}

/// What a new copy records.
#[derive(Debug)]
pub struct NewFormCopy<'a> {
    pub submission_id: Uuid,
    pub org: Uuid,
    pub request_id: Uuid,
    pub source_event_id: Uuid,
    pub form_id: Uuid,
    pub contact_form: bool,
    pub queue_id: &'a str,
    pub keys: &'a [String],
    pub values: &'a [String],
    pub submitted_at: DateTime<Utc>,
}

/// Form copy queries.
pub struct FormCopies;

impl FormCopies {
    /// Stores a copy; `false` when this event (or submission) was copied before.
    pub async fn insert<C: ConnectionTrait>(db: &C, c: &NewFormCopy<'_>) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "INSERT INTO form_copies (id, org_id, request_id, source_event_id, form_id, contact_form, queue_id, \
                   field_keys, field_values, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT DO NOTHING",
                [
                    c.submission_id.into(),
                    c.org.into(),
                    c.request_id.into(),
                    c.source_event_id.into(),
                    c.form_id.into(),
                    c.contact_form.into(),
                    c.queue_id.to_owned().into(),
                    text_array(c.keys),
                    text_array(c.values),
                    c.submitted_at.into(),
                ],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Whether this submission is already filed.
    pub async fn exists<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        submission: Uuid,
    ) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                "SELECT 1 AS one FROM form_copies WHERE org_id = $1 AND id = $2",
                [org.into(), submission.into()],
            ))
            .await?
            .is_some())
    }

    /// The copies of a request, oldest first.
    pub async fn for_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        request: Uuid,
    ) -> Result<Vec<FormCopyRow>, DbErr> {
        FormCopyRow::find_by_statement(stmt(
            "SELECT id, form_id, contact_form, queue_id, field_keys, field_values, submitted_at \
             FROM form_copies WHERE org_id = $1 AND request_id = $2 ORDER BY submitted_at, id",
            [org.into(), request.into()],
        ))
        .all(db)
        .await
    }

    /// Appends a contact form's custom fields to a request (SCH-6).
    pub async fn add_custom_fields<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        request: Uuid,
        keys: &[String],
        values: &[String],
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE requests SET custom_field_keys = custom_field_keys || $3, \
               custom_field_values = custom_field_values || $4, updated_at = now() \
             WHERE org_id = $1 AND id = $2",
            [
                org.into(),
                request.into(),
                text_array(keys),
                text_array(values),
            ],
        ))
        .await?;
        Ok(())
    }

    /// The request of a conversation of the org, if it exists.
    pub async fn request_of_conversation<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
    ) -> Result<Option<Uuid>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT request_id FROM conversations WHERE org_id = $1 AND id = $2",
                [org.into(), conversation.into()],
            ))
            .await?;
        row.map(|r| r.try_get::<Uuid>("", "request_id")).transpose()
    }
}
