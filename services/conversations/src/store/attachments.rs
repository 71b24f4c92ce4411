//! Attachment metadata (CNV-6). A row is written only after its object
//! was fully stored, so every row names a complete object.
use livedesk_platform::db::{stmt, uuid_array};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// One attachment.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub object_path: String,
}

const COLUMNS: &str =
    "id, conversation_id, file_name, content_type, size_bytes, sha256, object_path";

/// Attachment queries.
pub struct Attachments;

impl Attachments {
    /// Records a stored object.
    #[allow(clippy::too_many_arguments)] // one column each
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        conversation_id: Uuid,
        file_name: &str,
        content_type: &str,
        size: i64,
        sha256: &str,
        object_path: &str,
        uploaded_by: &str,
    ) -> Result<Option<AttachmentRow>, DbErr> {
        AttachmentRow::find_by_statement(stmt(
            &format!(
                "INSERT INTO attachments (id, org_id, conversation_id, file_name, content_type, size_bytes, sha256, object_path, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
            ),
            [
                id.into(),
                org.into(),
                conversation_id.into(),
                file_name.to_owned().into(),
                content_type.to_owned().into(),
                size.into(),
                sha256.to_owned().into(),
                object_path.to_owned().into(),
                uploaded_by.to_owned().into(),
            ],
        ))
        .one(db)
        .await
    }

    /// One attachment of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<AttachmentRow>, DbErr> {
        AttachmentRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM attachments WHERE org_id = $1 AND id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// How many of `ids` belong to the conversation.
    pub async fn count_in<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        ids: &[Uuid],
    ) -> Result<usize, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT count(*) AS n FROM attachments WHERE org_id = $1 AND conversation_id = $2 AND id = ANY($3)",
                [org.into(), conversation_id.into(), uuid_array(ids)],
            ))
            .await?;
        let n = row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
