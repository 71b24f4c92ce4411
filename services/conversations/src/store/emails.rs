//! The email history of requests (CNV-14): outgoing replies and ingested
//! emails, threaded by Message-ID.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::text_array;
use crate::store::MessageRow;

/// One stored email.
#[derive(Debug, Clone, FromQueryResult)]
pub struct EmailRow {
    pub id: Uuid,
    pub request_id: Uuid,
    pub inbound: bool,
    pub from_addr: String,
    pub to_addrs: Vec<String>,
    pub subject: String,
    pub text_body: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub created_at: DateTime<Utc>,
}

/// An email to store.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub request_id: Uuid,
    pub inbound: bool,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text_body: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub references: Vec<String>,
    pub client_request_id: Option<String>,
}

const COLUMNS: &str = "id, request_id, inbound, from_addr, to_addrs, subject, text_body, message_id, in_reply_to, created_at";

/// Email queries.
pub struct Emails;

impl Emails {
    /// Stores an email; `None` when its Message-ID or idempotency key is
    /// already stored (a retry).
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        e: &NewEmail,
    ) -> Result<Option<EmailRow>, DbErr> {
        EmailRow::find_by_statement(stmt(
            &format!(
                "INSERT INTO email_messages (id, org_id, request_id, inbound, from_addr, to_addrs, subject, text_body, \
                   message_id, in_reply_to, refs, client_request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
            ),
            [
                Uuid::now_v7().into(),
                org.into(),
                e.request_id.into(),
                e.inbound.into(),
                e.from.clone().into(),
                text_array(&e.to),
                e.subject.clone().into(),
                e.text_body.clone().into(),
                e.message_id.clone().into(),
                e.in_reply_to.clone().into(),
                text_array(&e.references),
                e.client_request_id.clone().into(),
            ],
        ))
        .one(db)
        .await
    }

    /// The email stored under an idempotency key or a Message-ID.
    pub async fn existing<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        client_request_id: Option<&str>,
        message_id: Option<&str>,
    ) -> Result<Option<EmailRow>, DbErr> {
        EmailRow::find_by_statement(stmt(
            &format!(
                "SELECT {COLUMNS} FROM email_messages WHERE org_id = $1 \
                 AND (client_request_id = $2 OR message_id = $3) LIMIT 1"
            ),
            [
                org.into(),
                client_request_id.map(str::to_owned).into(),
                message_id.map(str::to_owned).into(),
            ],
        ))
        .one(db)
        .await
    }

    /// The request of the most recent stored email among `message_ids`.
    pub async fn thread_of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        message_ids: &[String],
    ) -> Result<Option<Uuid>, DbErr> {
        if message_ids.is_empty() {
            return Ok(None);
        }
        let row = db
            .query_one_raw(stmt(
                "SELECT request_id FROM email_messages WHERE org_id = $1 AND message_id = ANY($2) \
                 ORDER BY created_at DESC LIMIT 1",
                [org.into(), text_array(message_ids)],
            ))
            .await?;
        row.map(|r| r.try_get::<Uuid>("", "request_id")).transpose()
    }

    /// A request's emails, oldest first.
    pub async fn for_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        request_id: Uuid,
    ) -> Result<Vec<EmailRow>, DbErr> {
        EmailRow::find_by_statement(stmt(
            &format!(
                "SELECT {COLUMNS} FROM email_messages WHERE org_id = $1 AND request_id = $2 ORDER BY created_at, id"
            ),
            [org.into(), request_id.into()],
        ))
        .all(db)
        .await
    }

    /// The visible chat messages of a request's conversations, oldest first.
    pub async fn chat_of_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        request_id: Uuid,
    ) -> Result<Vec<MessageRow>, DbErr> {
        MessageRow::find_by_statement(stmt(
            "SELECT m.id, m.conversation_id, m.sequence, m.author_kind, m.author_id, m.text, m.hidden, \
               m.client_message_id, m.created_at, m.attachment_ids \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.org_id = $1 AND c.request_id = $2 AND NOT m.hidden \
             ORDER BY m.created_at, c.created_at, m.sequence LIMIT 10000",
            [org.into(), request_id.into()],
        ))
        .all(db)
        .await
    }
}
