//! Attachments (CNV-6): client-streaming upload (metadata first, then
//! chunks) hashed while it streams and written through the object store;
//! the metadata row is committed only once the object is complete.
//! Server-streaming download. Conversation participants only.
use futures::StreamExt;
use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::download_attachment_response as down;
use livedesk_proto::conversations::v1::upload_attachment_request::Part;
use object_store::path::Path;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tonic::codegen::BoxStream;
use tonic::{Request, Streaming};
use uuid::Uuid;

use super::access::visible;
use super::service::ConversationsGrpc;
use crate::domain::AttachmentMeta;
use crate::error::{Entity, Error};
use crate::store::{AttachmentRow, Attachments, ConvRow};

/// Whether `who` takes (or took) part in the conversation.
fn participant(who: &Principal, row: &ConvRow) -> bool {
    match who.role {
        Role::Visitor => row.customer_principal_id == who.id,
        _ => row.all_agents().contains(&who.id),
    }
}

/// Loads a conversation `who` takes part in: NOT_FOUND when they may not
/// see it, PERMISSION_DENIED when they see it without taking part.
async fn as_participant(
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
    id: Uuid,
) -> Result<ConvRow, Error> {
    let row = visible(db, who, id).await?;
    if !participant(who, &row) {
        return Err(Error::NotParticipant);
    }
    Ok(row)
}

fn view(row: &AttachmentRow) -> pb::Attachment {
    pb::Attachment {
        id: row.id.to_string(),
        conversation_id: row.conversation_id.to_string(),
        file_name: row.file_name.clone(),
        content_type: row.content_type.clone(),
        size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
        sha256: row.sha256.clone(),
    }
}

fn invalid(field: &str, description: impl Into<String>) -> Error {
    Error::Invalid(vec![FieldViolation::new(field, description)])
}

impl ConversationsGrpc {
    /// Stores an uploaded attachment.
    pub(super) async fn upload(
        &self,
        req: Request<Streaming<pb::UploadAttachmentRequest>>,
    ) -> Result<pb::Attachment, Error> {
        let who = principal(&req)?;
        let org = who.org_id;
        let mut stream = req.into_inner();
        let first = stream.message().await.map_err(Error::ClientStream)?;
        let Some(Part::Metadata(m)) = first.and_then(|f| f.part) else {
            return Err(invalid("metadata", "the first part must be the metadata"));
        };
        let max = self.attachment_max_bytes;
        let mut v = Vec::new();
        let conversation_id = parse_uuid("metadata.conversation_id", &m.conversation_id)
            .map_err(|e| v.push(e))
            .ok();
        let meta =
            AttachmentMeta::parse(&m.file_name, &m.content_type, m.size_bytes, &m.sha256, max)
                .map_err(|e| v.extend(e))
                .ok();
        let (Some(conversation_id), Some(meta)) = (conversation_id, meta) else {
            return Err(Error::Invalid(v));
        };
        let conv = as_participant(&self.db, &who, conversation_id).await?;
        if !conv.status()?.is_live() {
            return Err(Error::ConversationEnded);
        }

        let id = Uuid::now_v7();
        let path = Path::from(format!("{org}/{conversation_id}/{id}"));
        let mut writer = WriteMultipart::new(self.attachments.put_multipart(&path).await?);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let failure = loop {
            match stream.message().await {
                Ok(None) => break None,
                Err(status) => break Some(Error::ClientStream(status)),
                Ok(Some(pb::UploadAttachmentRequest {
                    part: Some(Part::Chunk(bytes)),
                })) => {
                    size += bytes.len() as u64;
                    if size > max {
                        break Some(invalid(
                            "metadata.size_bytes",
                            format!("at most {max} bytes"),
                        ));
                    }
                    hasher.update(&bytes);
                    writer.write(&bytes);
                }
                Ok(Some(_)) => break Some(invalid("chunk", "only chunks follow the metadata")),
            }
        };
        let sha256 = hex::encode(hasher.finalize());
        let failure = failure
            .or_else(|| (size == 0).then(|| invalid("chunk", "the attachment is empty")))
            .or_else(|| {
                (meta.size_bytes != 0 && meta.size_bytes != size)
                    .then(|| invalid("metadata.size_bytes", "does not match the content"))
            })
            .or_else(|| {
                (!meta.sha256.is_empty() && meta.sha256 != sha256)
                    .then(|| invalid("metadata.sha256", "does not match the content"))
            });
        if let Some(e) = failure {
            // Nothing half-written stays behind.
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, "attachment upload abort failed");
            }
            return Err(e);
        }
        writer.finish().await?;
        let row = Attachments::insert(
            &self.db,
            org,
            id,
            conversation_id,
            &meta.file_name,
            &meta.content_type,
            i64::try_from(size).unwrap_or(i64::MAX),
            &sha256,
            path.as_ref(),
            &who.id,
        )
        .await;
        match row {
            Ok(Some(row)) => {
                tracing::info!(attachment_id = %id, %conversation_id, size, "attachment stored");
                Ok(view(&row))
            }
            other => {
                if let Err(e) = self.attachments.delete(&path).await {
                    tracing::warn!(error = %e, "orphan attachment object left");
                }
                other?;
                Err(Error::NotFound(Entity::Attachment))
            }
        }
    }

    /// Streams an attachment: its metadata, then its content.
    pub(super) async fn download(
        &self,
        req: Request<pb::DownloadAttachmentRequest>,
    ) -> Result<BoxStream<pb::DownloadAttachmentResponse>, Error> {
        let who = principal(&req)?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let row = Attachments::get(&self.db, who.org_id, id)
            .await?
            .ok_or(Error::NotFound(Entity::Attachment))?;
        as_participant(&self.db, &who, row.conversation_id).await?;
        let object = self
            .attachments
            .get(&Path::from(row.object_path.as_str()))
            .await?;
        let head = pb::DownloadAttachmentResponse {
            part: Some(down::Part::Metadata(view(&row))),
        };
        let body = object.into_stream().map(|chunk| match chunk {
            Ok(bytes) => Ok(pb::DownloadAttachmentResponse {
                part: Some(down::Part::Chunk(bytes.to_vec())),
            }),
            Err(e) => Err(tonic::Status::from(Error::Storage(e))),
        });
        Ok(Box::pin(
            futures::stream::once(async { Ok(head) }).chain(body),
        ))
    }
}
