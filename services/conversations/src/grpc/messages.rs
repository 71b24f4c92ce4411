//! `SendMessage` and `ListMessages` (CNV-4, CNV-9, BLK-3, BLK-4), with the
//! follow-up of an ended conversation (CNV-8), the resume of a paused one
//! (CNV-12) and the refusal on an interrupted one (RTG-11).
use livedesk_auth::{Principal, Role, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::common::v1::CustomerIdentity;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::access::{masks_pii, visible};
use super::service::ConversationsGrpc;
use super::start::{Admission, Start};
use crate::domain::{AgentText, Author, CustomerText, Status};
use crate::error::Error;
use crate::store::{Attachments, BlockedCache, ConvRow, Conversations, Messages, Settings};
use crate::views;

/// Most messages one ListMessages call returns.
const MAX_LIST: u32 = 500;
/// Most attachments on one message.
const MAX_ATTACHMENTS: usize = 10;

/// Who writes, from the token's role (never from the body, except a
/// service choosing between BOT, SYSTEM and relaying the CUSTOMER).
fn author_of(who: &Principal, requested: i32) -> Author {
    match who.role {
        Role::Visitor => Author::Customer,
        Role::Agent | Role::Supervisor | Role::Admin => Author::Agent,
        Role::Service if requested == pb::AuthorKind::System as i32 => Author::System,
        // A messaging connector relays the customer's social messages.
        Role::Service if requested == pb::AuthorKind::Customer as i32 => Author::Customer,
        Role::Service => Author::Bot,
    }
}

/// Whether `who` may write into `row` (loaded through
/// `access::visible_locked`, so seen by `who`) as `author`. A BLOCKED conversation refuses every reply, the
/// blocking agent's included (BLK-4); the customer's own messages go on to
/// be dropped (still blocked) or to start a new conversation (unblocked).
fn may_write(who: &Principal, row: &ConvRow, author: Author) -> Result<(), Error> {
    if row.status()? == Status::Blocked && author != Author::Customer {
        return Err(Error::RepliesBlocked);
    }
    if who.role == Role::Agent && !row.is_active_agent(&who.id) {
        return Err(Error::NotTakingPart("reply"));
    }
    Ok(())
}

/// A valid SendMessage request.
struct Outgoing {
    author: Author,
    text: String,
    key: Option<String>,
    attachments: Vec<Uuid>,
}

/// What happened to a message sent into a conversation.
enum Delivery {
    Done(pb::SendMessageResponse),
    /// The customer wrote to an ended conversation: a new one follows (CNV-8).
    FollowUp(Box<ConvRow>),
}

fn parse(who: &Principal, body: &pb::SendMessageRequest) -> Result<(Uuid, Outgoing), Error> {
    let author = author_of(who, body.author_kind);
    let mut v = Vec::new();
    let id = parse_uuid("conversation_id", &body.conversation_id)
        .map_err(|e| v.push(e))
        .ok();
    let mut attachments = Vec::new();
    for raw in &body.attachment_ids {
        match parse_uuid("attachment_ids", raw) {
            Ok(a) if !attachments.contains(&a) => attachments.push(a),
            Ok(_) => {}
            Err(e) => v.push(e),
        }
    }
    if attachments.len() > MAX_ATTACHMENTS {
        v.push(FieldViolation::new(
            "attachment_ids",
            format!("at most {MAX_ATTACHMENTS}"),
        ));
    }
    // A message may be an attachment alone; any text follows its author's rules.
    let text = if body.text.is_empty() && !attachments.is_empty() {
        Some(String::new())
    } else {
        match author {
            Author::Customer | Author::System => {
                CustomerText::parse("text", &body.text).map(|t| t.as_str().to_owned())
            }
            Author::Agent | Author::Bot => {
                AgentText::parse("text", &body.text).map(|t| t.as_str().to_owned())
            }
        }
        .map_err(|e| v.push(e))
        .ok()
    };
    let key = body.client_message_id.trim();
    if key.chars().count() > 200 {
        v.push(FieldViolation::new(
            "client_message_id",
            "at most 200 characters",
        ));
    }
    match (id, text) {
        (Some(id), Some(text)) if v.is_empty() => Ok((
            id,
            Outgoing {
                author,
                text,
                key: Some(key.to_owned()).filter(|k| !k.is_empty()),
                attachments,
            },
        )),
        _ => Err(Error::Invalid(v)),
    }
}

impl ConversationsGrpc {
    /// Stores a message (or drops it, BLK-3) and announces it; a customer
    /// writing to an ended conversation starts a new one (CNV-8).
    pub(super) async fn send_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<pb::SendMessageResponse, Error> {
        let who = principal(&req)?;
        let (id, out) = parse(&who, req.get_ref())?;
        match self.deliver(&who, id, &out).await? {
            Delivery::Done(resp) => Ok(resp),
            Delivery::FollowUp(ended) => self.follow_up(&who, &ended, &out).await,
        }
    }

    async fn deliver(&self, who: &Principal, id: Uuid, out: &Outgoing) -> Result<Delivery, Error> {
        let org = who.org_id;
        let author = out.author;
        let key = out.key.as_deref();
        let txn = self.db.begin().await?;
        let row = super::access::visible_locked(&txn, who, id).await?;
        may_write(who, &row, author)?;
        if let Some(k) = key
            && let Some(first) = Messages::by_client_id(&txn, org, id, k).await?
        {
            txn.rollback().await?;
            let message = (!first.hidden).then(|| views::message(&first, false));
            return Ok(Delivery::Done(pb::SendMessageResponse {
                message,
                conversation_id: id.to_string(),
            }));
        }
        let author_id = match author {
            Author::System => String::new(),
            Author::Customer => row.customer_principal_id.clone(),
            Author::Agent | Author::Bot => who.id.clone(),
        };
        // PCI never reaches the database in clear (CNV-9).
        let masked = livedesk_pii::mask_pci(&out.text);
        if author == Author::Customer
            && let Some((block_id, kind, value)) =
                BlockedCache::for_conversation(&txn, org, id).await?
        {
            // BLK-3: kept for the record, never shown, routed or answered.
            Messages::insert_hidden(&txn, org, id, &author_id, masked.as_str(), block_id, key)
                .await?;
            let dropped = pb::MessageDropped {
                conversation_id: id.to_string(),
                block_id: block_id.to_string(),
                identity: Some(CustomerIdentity { kind, value }),
            };
            let staged = self.outbox.stage(&txn, org, id, &dropped).await?;
            txn.commit().await?;
            self.outbox.publish(vec![staged]).await;
            tracing::info!(conversation_id = %id, %block_id, "message from a blocked customer dropped");
            return Ok(Delivery::Done(pb::SendMessageResponse {
                message: None,
                conversation_id: id.to_string(),
            }));
        }
        if !row.status()?.is_live() {
            // After an end, or a block since lifted (the block check above
            // found none), the customer's next message starts a new
            // conversation (CNV-8, BLK-5).
            if author == Author::Customer
                && matches!(row.status()?, Status::Ended | Status::Blocked)
            {
                txn.rollback().await?;
                return Ok(Delivery::FollowUp(Box::new(row)));
            }
            return Err(if author == Author::Customer {
                Error::EndedForCustomer
            } else {
                Error::ClosedForReplies
            });
        }
        if row.interrupted {
            return Err(Error::Interrupted);
        }
        if !out.attachments.is_empty()
            && Attachments::count_in(&txn, org, id, &out.attachments).await?
                != out.attachments.len()
        {
            return Err(FieldViolation::new(
                "attachment_ids",
                "every attachment must be uploaded to this conversation first",
            )
            .into());
        }
        let msg = Messages::append(
            &txn,
            org,
            id,
            author,
            &author_id,
            masked.as_str(),
            key,
            &out.attachments,
        )
        .await?;
        let mask_pii = Settings::get(&txn, org).await?.mask_pii;
        let mut staged = vec![
            self.outbox
                .stage(&txn, org, id, &views::posted_event(&row, &msg, mask_pii))
                .await?,
        ];
        if author == Author::Customer
            && row.status()? == Status::Paused
            && let Some(resumed) = Conversations::resume(&txn, org, id).await?
        {
            // CNV-12: routed again, preferring the agent who paused it.
            let queued = self
                .queued_event(&txn, &resumed, row.paused_by_agent_id.as_deref())
                .await?;
            staged.push(self.outbox.stage(&txn, org, id, &queued).await?);
            tracing::info!(conversation_id = %id, "paused conversation resumed");
        }
        txn.commit().await?;
        self.outbox.publish(staged).await;
        Ok(Delivery::Done(pb::SendMessageResponse {
            message: Some(views::message(&msg, false)),
            conversation_id: id.to_string(),
        }))
    }

    /// A new conversation after an ended one, through the same checks as
    /// StartConversation, attached to the customer's latest request that
    /// is not CLOSED (CNV-8).
    async fn follow_up(
        &self,
        who: &Principal,
        ended: &ConvRow,
        out: &Outgoing,
    ) -> Result<pb::SendMessageResponse, Error> {
        let org = who.org_id;
        if !out.attachments.is_empty() {
            return Err(Error::AttachmentsAfterEnd);
        }
        let text = CustomerText::parse("text", &out.text)?;
        let s = Start::follow_up(ended, text, out.key.as_deref());
        let into_live = |id: Uuid| async move {
            match self.deliver(who, id, out).await? {
                Delivery::Done(r) => Ok(r),
                Delivery::FollowUp(_) => Err(Error::JustEnded),
            }
        };
        if let Some(k) = &s.client_request_id
            && let Some(row) = Conversations::by_client_request(&self.db, org, k).await?
        {
            // A retry: the follow-up exists, its first message is this one.
            let first = Messages::list(&self.db, org, row.id, 0, 1).await?;
            return Ok(pb::SendMessageResponse {
                message: first.first().map(|m| views::message(m, false)),
                conversation_id: row.id.to_string(),
            });
        }
        if let Some(live) = Conversations::live_for(&self.db, org, s.channel, &s.identities).await?
        {
            return into_live(live).await;
        }
        match self.admit(org, &s).await? {
            Admission::Offline(_) => Err(Error::TeamOffline),
            Admission::Open(out_of_hours) => {
                let c = self.create(org, &s, out_of_hours).await?;
                match c.first {
                    Some(first) => {
                        tracing::info!(conversation_id = %c.row.id, previous = %ended.id, "follow-up conversation started");
                        Ok(pb::SendMessageResponse {
                            message: Some(views::message(&first, false)),
                            conversation_id: c.row.id.to_string(),
                        })
                    }
                    // A concurrent message created it first: join it.
                    None => into_live(c.row.id).await,
                }
            }
        }
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
            messages: rows.iter().map(|m| views::message(m, mask)).collect(),
        })
    }
}
