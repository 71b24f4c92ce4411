//! Queries on `forms` and `form_submissions`.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_platform::labels::{UnknownLabel, from_wire, label, parse_label};
use livedesk_proto::scheduling::v1::FormKind;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, QueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::RawField;

#[derive(Debug, Serialize, Deserialize)]
struct FieldJson {
    key: String,
    label: String,
    kind: i32,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    max_length: u32,
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    min: f64,
    #[serde(default)]
    max: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ValueJson {
    key: String,
    value: String,
}

/// The stored label of a `FormKind` wire value (`forms.kind` and
/// `form_submissions.kind` are text with a CHECK, migration 0006).
/// UNSPECIFIED is never stored: it is refused like an unknown number.
pub(crate) fn kind_label(kind: i32) -> Result<&'static str, DbErr> {
    match from_wire::<FormKind>("forms.kind", kind)? {
        FormKind::Unspecified => Err(unknown_kind(kind.to_string())),
        k => Ok(label(k)),
    }
}

/// The `FormKind` wire value of a stored label; an unknown label is an
/// error (fail closed), never a default kind.
pub(crate) fn kind_of_label(stored: &str) -> Result<i32, DbErr> {
    match parse_label::<FormKind>("forms.kind", stored)? {
        FormKind::Unspecified => Err(unknown_kind(stored.to_owned())),
        k => Ok(k.into()),
    }
}

fn unknown_kind(value: String) -> DbErr {
    UnknownLabel {
        column: "forms.kind",
        value,
    }
    .into()
}

/// One stored form.
#[derive(Debug, Clone)]
pub struct FormRow {
    pub id: Uuid,
    pub queue_id: Option<Uuid>,
    /// `FormKind` wire value.
    pub kind: i32,
    pub enabled: bool,
    fields: serde_json::Value,
    pub notify_email: String,
}

impl FromQueryResult for FormRow {
    fn from_query_result(r: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            id: r.try_get(pre, "id")?,
            queue_id: r.try_get(pre, "queue_id")?,
            kind: kind_of_label(&r.try_get::<String>(pre, "kind")?)?,
            enabled: r.try_get(pre, "enabled")?,
            fields: r.try_get(pre, "fields")?,
            notify_email: r.try_get(pre, "notify_email")?,
        })
    }
}

impl FormRow {
    /// The custom field definitions (`None` when the stored JSON is corrupt).
    pub fn custom_fields(&self) -> Option<Vec<RawField>> {
        let fields: Vec<FieldJson> = serde_json::from_value(self.fields.clone()).ok()?;
        Some(
            fields
                .into_iter()
                .map(|f| RawField {
                    key: f.key,
                    label: f.label,
                    kind: f.kind,
                    required: f.required,
                    options: f.options,
                    max_length: f.max_length,
                    pattern: f.pattern,
                    min: f.min,
                    max: f.max,
                })
                .collect(),
        )
    }
}

/// One stored submission; a row whose kind or values do not decode is an
/// error, never a submission with a default kind or no values.
#[derive(Debug, Clone)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub form_id: Uuid,
    /// `FormKind` wire value.
    pub kind: i32,
    pub queue_id: Option<Uuid>,
    /// The submitted (validated, PCI-masked) values, in the form's order.
    pub values: Vec<(String, String)>,
    pub submitted_at: DateTime<Utc>,
    pub conversation_id: Option<Uuid>,
}

impl FromQueryResult for SubmissionRow {
    fn from_query_result(r: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let values: Vec<ValueJson> =
            serde_json::from_value(r.try_get::<serde_json::Value>(pre, "field_values")?)
                .map_err(|e| DbErr::Json(format!("form_submissions.field_values: {e}")))?;
        Ok(Self {
            id: r.try_get(pre, "id")?,
            form_id: r.try_get(pre, "form_id")?,
            kind: kind_of_label(&r.try_get::<String>(pre, "kind")?)?,
            queue_id: r.try_get(pre, "queue_id")?,
            values: values.into_iter().map(|v| (v.key, v.value)).collect(),
            submitted_at: r.try_get(pre, "submitted_at")?,
            conversation_id: r.try_get(pre, "conversation_id")?,
        })
    }
}

/// What a new submission records.
#[derive(Debug)]
pub struct NewSubmission<'a> {
    pub id: Uuid,
    pub org: Uuid,
    pub form_id: Uuid,
    pub kind: i32,
    pub queue_id: Option<Uuid>,
    pub values: &'a [(String, String)],
    pub visitor_id: &'a str,
    pub client_request_id: Option<&'a str>,
    pub conversation_id: Option<Uuid>,
}

/// A keyed submission that was dropped (BLK-3): no submitted value.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DroppedRow {
    pub id: Uuid,
    pub dropped_at: DateTime<Utc>,
}

const FORM_COLUMNS: &str = "id, queue_id, kind, enabled, fields, notify_email";
const SUB_COLUMNS: &str =
    "id, form_id, kind, queue_id, field_values, submitted_at, conversation_id";

/// Form queries.
pub struct Forms;

impl Forms {
    /// Creates or replaces the form of `kind` for `queue` (None = org-wide);
    /// `new_id` is used only when none exists yet. Returns the form's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        new_id: Uuid,
        queue: Option<Uuid>,
        kind: i32,
        enabled: bool,
        custom: &[RawField],
        notify_email: &str,
    ) -> Result<Uuid, DbErr> {
        let fields: Vec<FieldJson> = custom
            .iter()
            .map(|f| FieldJson {
                key: f.key.clone(),
                label: f.label.clone(),
                kind: f.kind,
                required: f.required,
                options: f.options.clone(),
                max_length: f.max_length,
                pattern: f.pattern.clone(),
                min: f.min,
                max: f.max,
            })
            .collect();
        let row = db
            .query_one_raw(stmt(
                "INSERT INTO forms (id, org_id, queue_id, kind, enabled, fields, notify_email) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (org_id, kind, COALESCE(queue_id, '00000000-0000-0000-0000-000000000000'::uuid)) \
                 DO UPDATE SET enabled = $5, fields = $6, notify_email = $7, updated_at = now() RETURNING id",
                [
                    new_id.into(),
                    org.into(),
                    queue.into(),
                    kind_label(kind)?.into(),
                    enabled.into(),
                    serde_json::json!(fields).into(),
                    notify_email.to_owned().into(),
                ],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("upsert returned no row".into()))?;
        row.try_get("", "id")
    }

    /// The form of exactly this scope.
    pub async fn by_scope<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Option<Uuid>,
        kind: i32,
    ) -> Result<Option<FormRow>, DbErr> {
        FormRow::find_by_statement(stmt(
            &format!("SELECT {FORM_COLUMNS} FROM forms WHERE org_id = $1 AND kind = $2 AND queue_id IS NOT DISTINCT FROM $3"),
            [org.into(), kind_label(kind)?.into(), queue.into()],
        ))
        .one(db)
        .await
    }

    /// A form of the org by id.
    pub async fn by_id<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<FormRow>, DbErr> {
        FormRow::find_by_statement(stmt(
            &format!("SELECT {FORM_COLUMNS} FROM forms WHERE org_id = $1 AND id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// Stores a submission; `false` when its idempotency key was used.
    pub async fn insert_submission<C: ConnectionTrait>(
        db: &C,
        s: &NewSubmission<'_>,
    ) -> Result<bool, DbErr> {
        let values: Vec<ValueJson> = s
            .values
            .iter()
            .map(|(k, v)| ValueJson {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        let res = db
            .execute_raw(stmt(
                "INSERT INTO form_submissions (id, org_id, form_id, kind, queue_id, field_values, visitor_id, client_request_id, \
                   conversation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                [
                    s.id.into(),
                    s.org.into(),
                    s.form_id.into(),
                    kind_label(s.kind)?.into(),
                    s.queue_id.into(),
                    serde_json::json!(values).into(),
                    s.visitor_id.to_owned().into(),
                    s.client_request_id.map(str::to_owned).into(),
                    s.conversation_id.into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Records a keyed dropped submission (BLK-3); `false` when the key
    /// was dropped before (a retry: answered the same, counted once).
    pub async fn insert_dropped<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        key: &str,
        form_id: Uuid,
        block_id: Uuid,
    ) -> Result<bool, DbErr> {
        let res = db
            .execute_raw(stmt(
                "INSERT INTO dropped_submissions (id, org_id, client_request_id, form_id, block_id) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                [
                    id.into(),
                    org.into(),
                    key.to_owned().into(),
                    form_id.into(),
                    block_id.into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// The dropped submission recorded under this key.
    pub async fn dropped_by_client_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        key: &str,
    ) -> Result<Option<DroppedRow>, DbErr> {
        DroppedRow::find_by_statement(stmt(
            "SELECT id, dropped_at FROM dropped_submissions WHERE org_id = $1 AND client_request_id = $2",
            [org.into(), key.to_owned().into()],
        ))
        .one(db)
        .await
    }

    /// One submission of the org.
    pub async fn submission<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<SubmissionRow>, DbErr> {
        SubmissionRow::find_by_statement(stmt(
            &format!("SELECT {SUB_COLUMNS} FROM form_submissions WHERE org_id = $1 AND id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// The submission stored by an earlier call with the same key.
    pub async fn submission_by_client_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        key: &str,
    ) -> Result<Option<SubmissionRow>, DbErr> {
        SubmissionRow::find_by_statement(stmt(
            &format!("SELECT {SUB_COLUMNS} FROM form_submissions WHERE org_id = $1 AND client_request_id = $2"),
            [org.into(), key.to_owned().into()],
        ))
        .one(db)
        .await
    }

    /// Newest first, keyset-paginated on (submitted_at, id).
    pub async fn list_submissions<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<SubmissionRow>, DbErr> {
        let (sql, values): (String, Vec<sea_orm::Value>) = match after {
            Some((at, id)) => (
                format!(
                    "SELECT {SUB_COLUMNS} FROM form_submissions WHERE org_id = $1 AND (submitted_at, id) < ($2, $3) \
                     ORDER BY submitted_at DESC, id DESC LIMIT $4"
                ),
                vec![org.into(), at.into(), id.into(), (limit as i64).into()],
            ),
            None => (
                format!(
                    "SELECT {SUB_COLUMNS} FROM form_submissions WHERE org_id = $1 ORDER BY submitted_at DESC, id DESC LIMIT $2"
                ),
                vec![org.into(), (limit as i64).into()],
            ),
        };
        SubmissionRow::find_by_statement(stmt(&sql, values))
            .all(db)
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn form_kinds_are_stored_as_labels_and_an_unknown_label_is_an_error() {
        for kind in [1, 2] {
            assert_eq!(kind_of_label(kind_label(kind).unwrap()).unwrap(), kind);
        }
        assert!(kind_label(0).is_err(), "UNSPECIFIED is never stored");
        assert!(kind_of_label("survey").is_err());
        assert!(kind_of_label("").is_err());
        assert!(kind_of_label("unspecified").is_err(), "nor read back");
    }
}
