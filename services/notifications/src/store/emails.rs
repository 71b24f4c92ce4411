//! Queries on `email_deliveries` (NTF-2): one row per source event (a
//! unique index makes a redelivered event a no-op), read by id or request.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use crate::domain::Status;

/// The queryable part of a delivery (never the addresses or bodies).
#[derive(Debug, Clone, FromQueryResult)]
pub struct EmailRow {
    pub id: Uuid,
    pub kind: String,
    pub status: i32,
    pub attempts: i32,
    pub last_error: String,
    pub updated_at: DateTime<Utc>,
    pub request_id: String,
}

/// A delivery to record.
#[derive(Debug, Clone)]
pub struct NewEmail<'a> {
    pub org_id: Uuid,
    pub source_event_id: Uuid,
    pub kind: &'a str,
    pub request_id: &'a str,
    pub conversation_id: &'a str,
    pub recipients: Vec<String>,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub status: Status,
    pub last_error: &'a str,
}

const COLUMNS: &str = "id, kind, status, attempts, last_error, updated_at, request_id";

/// Email delivery queries; every one is scoped by org.
pub struct Emails;

impl Emails {
    /// Records a delivery; `None` when this source event was already
    /// recorded (idempotent per event).
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        e: &NewEmail<'_>,
    ) -> Result<Option<EmailRow>, DbErr> {
        let recipients: Vec<Value> = e
            .recipients
            .iter()
            .map(|r| Value::String(Some(r.clone())))
            .collect();
        let due = matches!(e.status, Status::Pending).then(Utc::now);
        EmailRow::find_by_statement(stmt(
            &format!(
                "INSERT INTO email_deliveries (id, org_id, source_event_id, kind, request_id, conversation_id, recipients, \
                   subject, text_body, html_body, status, last_error, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (org_id, source_event_id) DO NOTHING RETURNING {COLUMNS}"
            ),
            [
                Uuid::now_v7().into(),
                e.org_id.into(),
                e.source_event_id.into(),
                e.kind.to_owned().into(),
                e.request_id.to_owned().into(),
                e.conversation_id.to_owned().into(),
                Value::Array(sea_orm::sea_query::ArrayType::String, Some(Box::new(recipients))),
                e.subject.to_owned().into(),
                e.text_body.to_owned().into(),
                e.html_body.to_owned().into(),
                e.status.as_i32().into(),
                e.last_error.to_owned().into(),
                due.into(),
            ],
        ))
        .one(db)
        .await
    }

    /// One delivery of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<EmailRow>, DbErr> {
        EmailRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM email_deliveries WHERE org_id = $1 AND id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// Deliveries of one request, oldest first (at most 500).
    pub async fn by_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        request_id: &str,
    ) -> Result<Vec<EmailRow>, DbErr> {
        EmailRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM email_deliveries WHERE org_id = $1 AND request_id = $2 ORDER BY created_at, id LIMIT 500"),
            [org.into(), request_id.to_owned().into()],
        ))
        .all(db)
        .await
    }
}
