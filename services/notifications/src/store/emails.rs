//! Queries on `email_deliveries` (NTF-2): one row per source event (a
//! unique index makes a redelivered event a no-op), read by id or request.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_platform::labels::{label, parse_label};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use crate::domain::{Status, Transition};
use crate::error::Corrupt;

/// The queryable part of a delivery (never the addresses or bodies).
#[derive(Debug, Clone, FromQueryResult)]
pub struct EmailRow {
    pub id: Uuid,
    pub kind: String,
    /// As stored; read by `crate::views::delivery`, which refuses a
    /// value this version does not know.
    pub status: String,
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

/// A delivery claimed by a worker: what it needs to send.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Claimed {
    pub id: Uuid,
    pub org_id: Uuid,
    /// Comma-separated (validated addresses hold no comma).
    pub recipients: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// As stored; read through `status()`, which refuses an unknown value.
    pub status: String,
    /// Counting this attempt.
    pub attempts: i32,
    pub claim_token: Uuid,
}

impl Claimed {
    /// The recipient addresses.
    pub fn to(&self) -> Vec<&str> {
        self.recipients
            .split(',')
            .filter(|a| !a.is_empty())
            .collect()
    }

    /// The stored status; an unknown one is a corrupt row.
    pub fn status(&self) -> Result<Status, Corrupt> {
        parse_label::<Status>("email_deliveries.status", &self.status).map_err(|_| {
            Corrupt::Delivery {
                id: self.id,
                what: "status",
                value: self.status.clone(),
            }
        })
    }
}

/// The statuses a worker may still attempt (`Status::Pending`,
/// `Status::Retrying`), as a SQL list.
const OPEN: &str = "('pending', 'retrying')";

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
                label(e.status).into(),
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

    /// Claims up to `limit` due deliveries for one worker: the rows are
    /// locked with SKIP LOCKED (two replicas never take the same row),
    /// stamped with `token`, their attempt counted, and their
    /// `next_attempt_at` pushed `lease` ahead, so a worker that dies
    /// mid-send gives its rows back when the lease passes. The statement
    /// commits on its own: no transaction stays open during SMTP.
    pub async fn claim<C: ConnectionTrait>(
        db: &C,
        token: Uuid,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<Claimed>, DbErr> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        Claimed::find_by_statement(stmt(
            &format!(
                "UPDATE email_deliveries d \
                   SET claim_token = $1, attempts = d.attempts + 1, \
                       next_attempt_at = now() + make_interval(secs => $2::float8 / 1000.0), updated_at = now() \
                 WHERE d.id IN ( \
                   SELECT id FROM email_deliveries \
                    WHERE status IN {OPEN} AND next_attempt_at <= now() \
                    ORDER BY next_attempt_at \
                    FOR UPDATE SKIP LOCKED LIMIT $3) \
                 RETURNING d.id, d.org_id, array_to_string(d.recipients, ',') AS recipients, d.subject, \
                   d.text_body, d.html_body, d.status, d.attempts, d.claim_token"
            ),
            [token.into(), lease_ms.into(), limit.into()],
        ))
        .all(db)
        .await
    }

    /// Records the outcome of a claimed attempt, only while the claim is
    /// still `token`'s and the delivery not terminal (a worker whose lease
    /// ran out must not overwrite its successor). A terminal delivery
    /// forgets its recipients and bodies: nothing left to send, and no
    /// customer text kept longer than needed. `None`: the claim was lost.
    pub async fn finish<C: ConnectionTrait>(
        db: &C,
        id: Uuid,
        token: Uuid,
        t: &Transition,
    ) -> Result<Option<EmailRow>, DbErr> {
        let terminal = t.status.is_terminal();
        EmailRow::find_by_statement(stmt(
            &format!(
                "UPDATE email_deliveries SET status = $3, attempts = $4, last_error = $5, \
                   next_attempt_at = $6, claim_token = NULL, updated_at = now(), \
                   recipients = CASE WHEN $7 THEN '{{}}'::text[] ELSE recipients END, \
                   text_body = CASE WHEN $7 THEN '' ELSE text_body END, \
                   html_body = CASE WHEN $7 THEN '' ELSE html_body END \
                 WHERE id = $1 AND claim_token = $2 AND status IN {OPEN} RETURNING {COLUMNS}"
            ),
            [
                id.into(),
                token.into(),
                label(t.status).into(),
                i32::try_from(t.attempts).unwrap_or(i32::MAX).into(),
                t.last_error.clone().into(),
                t.next_attempt_at.into(),
                terminal.into(),
            ],
        ))
        .one(db)
        .await
    }

    /// Gives a claimed but unattempted delivery back (shutdown): due now,
    /// its attempt not counted.
    pub async fn release<C: ConnectionTrait>(db: &C, id: Uuid, token: Uuid) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            &format!(
                "UPDATE email_deliveries SET claim_token = NULL, attempts = attempts - 1, \
                   next_attempt_at = now() WHERE id = $1 AND claim_token = $2 AND status IN {OPEN}"
            ),
            [id.into(), token.into()],
        ))
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_statuses_are_the_stored_texts_of_pending_and_retrying() {
        use livedesk_platform::labels::{StoredEnum, sql_list};
        assert_eq!(OPEN, sql_list(&[Status::Pending, Status::Retrying]));
        assert!(
            Status::ALL
                .iter()
                .all(|s| s.is_terminal() != OPEN.contains(label(*s)))
        );
    }

    /// The migration that turned the numbers into text maps each wire
    /// number to the label the code stores, and its CHECK allows exactly
    /// those labels.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        use livedesk_platform::labels::{StoredEnum, sql_list};
        let sql = include_str!("../../migrations/0003_text_statuses.sql");
        assert!(sql.contains(&format!("CHECK (status IN {})", sql_list(Status::ALL))));
        for s in Status::ALL {
            assert!(sql.contains(&format!("WHEN {} THEN '{}'", s.as_i32(), label(*s))));
        }
    }
}
