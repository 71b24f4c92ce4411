//! `SendMessage` and `ListMessages` (CNV-4, CNV-9, BLK-3, BLK-4).
use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::common::v1::CustomerIdentity;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;

use super::access::{can_see, masks_pii, visible};
use super::convert;
use super::service::ConversationsGrpc;
use crate::domain::{AgentText, Author, CustomerText};
use crate::error::Error;
use crate::store::{BlockedCache, ConvRow, Conversations, Messages};

/// Most messages one ListMessages call returns.
const MAX_LIST: u32 = 500;

/// Who writes, from the token's role (never from the body, except a
/// service choosing between BOT and SYSTEM).
fn author_of(who: &Principal, requested: i32) -> Author {
    match who.role {
        Role::Visitor => Author::Customer,
        Role::Agent | Role::Supervisor | Role::Admin => Author::Agent,
        Role::Service if requested == pb::AuthorKind::System as i32 => Author::System,
        Role::Service => Author::Bot,
    }
}

/// Whether `who` may write into `row` as `author`; NOT_FOUND when they may
/// not even see it.
fn may_write(who: &Principal, row: &ConvRow) -> Result<(), Error> {
    if !can_see(who, row) {
        return Err(Error::NotFound("conversation"));
    }
    if who.role == Role::Agent && !row.is_active_agent(&who.id) {
        return Err(Error::PermissionDenied(
            "only an agent taking part in the conversation can reply",
        ));
    }
    Ok(())
}

impl ConversationsGrpc {
    /// Stores a message (or drops it, BLK-3) and announces it.
    pub(super) async fn send_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<pb::SendMessageResponse, Error> {
        let who = principal(&req)?;
        let org = who.org_id;
        let body = req.get_ref();
        let author = author_of(&who, body.author_kind);
        let mut v = Vec::new();
        let id = parse_uuid("conversation_id", &body.conversation_id)
            .map_err(|e| v.push(e))
            .ok();
        let text = match author {
            Author::Customer | Author::System => {
                CustomerText::parse("text", &body.text).map(|t| t.as_str().to_owned())
            }
            Author::Agent | Author::Bot => {
                AgentText::parse("text", &body.text).map(|t| t.as_str().to_owned())
            }
        }
        .map_err(|e| v.push(e))
        .ok();
        let key = body.client_message_id.trim();
        if key.chars().count() > 200 {
            v.push(FieldViolation::new(
                "client_message_id",
                "at most 200 characters",
            ));
        }
        let (Some(id), Some(text)) = (id, text) else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let key = Some(key).filter(|k| !k.is_empty());

        let txn = self.db.begin().await?;
        let row = Conversations::lock(&txn, org, id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        may_write(&who, &row)?;
        if let Some(k) = key
            && let Some(first) = Messages::by_client_id(&txn, org, id, k).await?
        {
            txn.rollback().await?;
            let message = (!first.hidden).then(|| convert::message(&first, false));
            return Ok(pb::SendMessageResponse {
                message,
                conversation_id: id.to_string(),
            });
        }
        // PCI never reaches the database in clear (CNV-9).
        let masked = livedesk_pii::mask_pci(&text);
        if author == Author::Customer
            && let Some((block_id, kind, value)) =
                BlockedCache::for_conversation(&txn, org, id).await?
        {
            // BLK-3: kept for the record, never shown, routed or answered.
            Messages::insert_hidden(&txn, org, id, &who.id, masked.as_str(), block_id, key).await?;
            let dropped = pb::MessageDropped {
                conversation_id: id.to_string(),
                block_id: block_id.to_string(),
                identity: Some(CustomerIdentity { kind, value }),
            };
            let staged = self.outbox.stage(&txn, org, id, &dropped).await?;
            txn.commit().await?;
            self.outbox.publish(vec![staged]).await;
            tracing::info!(conversation_id = %id, %block_id, "message from a blocked customer dropped");
            return Ok(pb::SendMessageResponse {
                message: None,
                conversation_id: id.to_string(),
            });
        }
        if !row.status().is_live() {
            return Err(Error::FailedPrecondition(if author == Author::Customer {
                "this conversation has ended"
            } else {
                "this conversation is closed: replies are refused"
            }));
        }
        let author_id = if author == Author::System {
            String::new()
        } else {
            who.id.clone()
        };
        let msg = Messages::append(&txn, org, id, author, &author_id, masked.as_str(), key).await?;
        let staged = self
            .outbox
            .stage(&txn, org, id, &convert::posted_event(&row, &msg))
            .await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        Ok(pb::SendMessageResponse {
            message: Some(convert::message(&msg, false)),
            conversation_id: id.to_string(),
        })
    }

    /// Visible messages in order; PII masked for staff when the org says so.
    pub(super) async fn list_messages(
        &self,
        req: Request<pb::ListMessagesRequest>,
    ) -> Result<pb::ListMessagesResponse, Error> {
        let who = principal(&req)?;
        let body = req.get_ref();
        let id = parse_uuid("conversation_id", &body.conversation_id)?;
        if body.limit > MAX_LIST {
            return Err(FieldViolation::new("limit", format!("at most {MAX_LIST}")).into());
        }
        let after = i64::try_from(body.after_sequence)
            .map_err(|_| FieldViolation::new("after_sequence", "too large"))?;
        visible(&self.db, &who, id).await?;
        let mask = masks_pii(&self.db, &who).await?;
        let limit = if body.limit == 0 {
            100
        } else {
            u64::from(body.limit)
        };
        let rows = Messages::list(&self.db, who.org_id, id, after, limit).await?;
        Ok(pb::ListMessagesResponse {
            messages: rows.iter().map(|m| convert::message(m, mask)).collect(),
        })
    }
}
