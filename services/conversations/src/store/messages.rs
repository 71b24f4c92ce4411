//! Queries on `messages`. A message takes the next sequence of its
//! conversation while the caller holds the conversation's row lock, so
//! sequences are dense and ordered whatever the replicas do (CNV-4).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_proto::conversations::v1::AuthorKind;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, QueryResult};
use uuid::Uuid;

use super::read_label;
use crate::domain::Author;
use crate::domain::labels::author_label;
use livedesk_platform::db::uuid_array;

/// One stored message; `author_kind` is stored as a label
/// (`domain::labels`) and held here as its wire number.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub sequence: Option<i64>,
    pub author_kind: i32,
    pub author_id: String,
    pub text: String,
    pub hidden: bool,
    pub client_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Attachments of the same conversation (CNV-6).
    pub attachment_ids: Vec<Uuid>,
}

impl FromQueryResult for MessageRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            id: res.try_get(pre, "id")?,
            conversation_id: res.try_get(pre, "conversation_id")?,
            sequence: res.try_get(pre, "sequence")?,
            author_kind: read_label::<AuthorKind>(res, pre, "author_kind", "messages.author_kind")?,
            author_id: res.try_get(pre, "author_id")?,
            text: res.try_get(pre, "text")?,
            hidden: res.try_get(pre, "hidden")?,
            client_message_id: res.try_get(pre, "client_message_id")?,
            created_at: res.try_get(pre, "created_at")?,
            attachment_ids: res.try_get(pre, "attachment_ids")?,
        })
    }
}

const COLUMNS: &str = "id, conversation_id, sequence, author_kind, author_id, text, hidden, client_message_id, created_at, attachment_ids";

/// Message queries.
pub struct Messages;

impl Messages {
    /// The message a retried SendMessage stored (TEN-5).
    pub async fn by_client_id<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        key: &str,
    ) -> Result<Option<MessageRow>, DbErr> {
        MessageRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM messages WHERE org_id = $1 AND conversation_id = $2 AND client_message_id = $3"),
            [org.into(), conversation_id.into(), key.to_owned().into()],
        ))
        .one(db)
        .await
    }

    /// Appends a visible message.
    #[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them The caller holds the conversation's row
    /// lock (`Conversations::lock`) in the same transaction; `text` is
    /// already PCI-masked.
    pub async fn append<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        author: Author,
        author_id: &str,
        text: &str,
        client_message_id: Option<&str>,
        attachment_ids: &[Uuid],
    ) -> Result<MessageRow, DbErr> {
        let seq = db
            .query_one_raw(stmt(
                "UPDATE conversations SET last_sequence = last_sequence + 1, message_count = message_count + 1, \
                   last_activity_at = now(), \
                   first_response_at = CASE WHEN $3 AND first_response_at IS NULL THEN now() ELSE first_response_at END \
                 WHERE org_id = $1 AND id = $2 RETURNING last_sequence",
                [org.into(), conversation_id.into(), (author == Author::Agent).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("conversation".into()))?
            .try_get::<i64>("", "last_sequence")?;
        MessageRow::find_by_statement(stmt(
            &format!(
                "INSERT INTO messages (id, org_id, conversation_id, sequence, author_kind, author_id, text, client_message_id, attachment_ids) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
            ),
            [
                Uuid::now_v7().into(),
                org.into(),
                conversation_id.into(),
                seq.into(),
                author_label(author).into(),
                author_id.to_owned().into(),
                text.to_owned().into(),
                client_message_id.map(str::to_owned).into(),
                uuid_array(attachment_ids),
            ],
        ))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)
    }

    /// Stores a message from a blocked identity, hidden forever (BLK-3, BLK-5).
    pub async fn insert_hidden<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        author_id: &str,
        text: &str,
        block_id: Uuid,
        client_message_id: Option<&str>,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO messages (id, org_id, conversation_id, author_kind, author_id, text, hidden, block_id, client_message_id) \
             VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8) ON CONFLICT DO NOTHING",
            [
                Uuid::now_v7().into(),
                org.into(),
                conversation_id.into(),
                author_label(Author::Customer).into(),
                author_id.to_owned().into(),
                text.to_owned().into(),
                block_id.into(),
                client_message_id.map(str::to_owned).into(),
            ],
        ))
        .await?;
        Ok(())
    }

    /// Visible messages after `after_sequence`, in order.
    pub async fn list<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        after: i64,
        limit: u64,
    ) -> Result<Vec<MessageRow>, DbErr> {
        MessageRow::find_by_statement(stmt(
            &format!(
                "SELECT {COLUMNS} FROM messages WHERE org_id = $1 AND conversation_id = $2 AND NOT hidden AND sequence > $3 \
                 ORDER BY sequence LIMIT $4"
            ),
            [org.into(), conversation_id.into(), after.into(), i64::try_from(limit).unwrap_or(100).into()],
        ))
        .all(db)
        .await
    }

    /// The first `n` visible texts (for `ConversationQueued.first_messages`).
    pub async fn first_texts<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        n: i64,
    ) -> Result<Vec<String>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT text FROM messages WHERE org_id = $1 AND conversation_id = $2 AND NOT hidden ORDER BY sequence LIMIT $3",
                [org.into(), conversation_id.into(), n.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String>("", "text"))
            .collect()
    }
}
