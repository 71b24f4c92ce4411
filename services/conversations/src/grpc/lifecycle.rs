//! Reading, listing and ending conversations (CNV-8, CNV-15, BLK-2, BLK-4).
use livedesk_auth::{Role, principal};
use livedesk_platform::EmailAddress;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::page::Page;
use livedesk_proto::common::v1::CustomerIdentity;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;

use super::access::{masks_pii, visible};
use super::service::ConversationsGrpc;
use crate::domain::{Author, EndedBy, Qualification, RequestStatus, Status, TranscriptLine};
use crate::error::Error;
use crate::store::{ConvRow, Conversations, EndChange, ListFilter, Messages, Policies};
use crate::views;

/// The system message added when the customer leaves (CNV-8).
pub const CUSTOMER_ENDED: &str = "The customer ended the conversation";

impl ConversationsGrpc {
    /// One conversation the caller may see.
    pub(super) async fn get(
        &self,
        req: Request<pb::GetConversationRequest>,
    ) -> Result<pb::Conversation, Error> {
        let who = principal(&req)?;
        let id = parse_uuid("id", &req.get_ref().id)?;
        let row = visible(&self.db, &who, id).await?;
        Ok(views::conversation(&row, masks_pii(&self.db, &who).await?))
    }

    /// Every identity of the conversation's customer, in clear: blocking
    /// records them all (BLK-2).
    pub(super) async fn customer_identities(
        &self,
        req: Request<pb::GetCustomerIdentitiesRequest>,
    ) -> Result<pb::GetCustomerIdentitiesResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("read a customer's identities")?;
        let id = parse_uuid("conversation_id", &req.get_ref().conversation_id)?;
        let row = visible(&self.db, &who, id).await?;
        Ok(pb::GetCustomerIdentitiesResponse {
            identities: row
                .identities
                .iter()
                .map(|(kind, value)| CustomerIdentity {
                    kind: *kind,
                    value: value.clone(),
                })
                .collect(),
            channel: row.channel,
            status: row.status,
            customer_name: row.customer_name.clone(),
            ip_address: row.ip_address.clone(),
        })
    }

    /// Lists with filters and a cursor; `closed_only` includes BLOCKED (CNV-15, BLK-4).
    pub(super) async fn list(
        &self,
        req: Request<pb::ListConversationsRequest>,
    ) -> Result<pb::ListConversationsResponse, Error> {
        let who = principal(&req)?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let page = Page::parse(body.page.as_ref()).map_err(|e| v.push(e)).ok();
        let queue_id = match body.queue_id.trim() {
            "" => None,
            raw => parse_uuid("queue_id", raw).map_err(|e| v.push(e)).ok(),
        };
        if body.statuses.iter().any(|s| Status::from_i32(*s).is_none()) {
            v.push(FieldViolation::new("statuses", "unknown status"));
        }
        let Some(page) = page else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let statuses = if body.closed_only {
            let closed = [Status::Ended as i32, Status::Blocked as i32];
            if body.statuses.is_empty() {
                closed.to_vec()
            } else {
                body.statuses
                    .iter()
                    .copied()
                    .filter(|s| closed.contains(s))
                    .collect()
            }
        } else {
            body.statuses.clone()
        };
        if body.closed_only && statuses.is_empty() {
            return Ok(pb::ListConversationsResponse {
                conversations: vec![],
                page: Some(page.response(0, None)),
            });
        }
        let filter = ListFilter {
            channel: (body.channel != 0).then_some(body.channel),
            statuses,
            queue_id,
            assigned_agent_id: Some(body.assigned_agent_id.trim().to_owned())
                .filter(|s| !s.is_empty()),
            tag: Some(body.tag.trim().to_owned()).filter(|s| !s.is_empty()),
            priority: (body.priority != 0).then_some(body.priority),
            customer: (who.role == Role::Visitor).then(|| who.id.clone()),
            visible_to_agent: super::access::scoped_agent(&who),
        };
        let rows =
            Conversations::list(&self.db, who.org_id, &filter, page.after, page.size).await?;
        let mask = masks_pii(&self.db, &who).await?;
        let last = rows.last().map(|r| (r.created_at, r.id));
        Ok(pb::ListConversationsResponse {
            page: Some(page.response(rows.len(), last)),
            conversations: rows.iter().map(|r| views::conversation(r, mask)).collect(),
        })
    }

    /// Ends a live conversation, by staff or by the customer (CNV-8).
    pub(super) async fn end(
        &self,
        req: Request<pb::EndConversationRequest>,
    ) -> Result<pb::Conversation, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Visitor, Role::Agent, Role::Supervisor, Role::Admin],
            "end a conversation",
        )?;
        let org = who.org_id;
        let body = req.get_ref();
        let mut v = Vec::new();
        let id = parse_uuid("id", &body.id).map_err(|e| v.push(e)).ok();
        let request_status = RequestStatus::at_end(body.request_status);
        if request_status.is_none() {
            v.push(FieldViolation::new(
                "request_status",
                "unknown request status",
            ));
        }
        let q = body.qualification.clone().unwrap_or_default();
        let qualification = Qualification::parse(&q.tags, &q.contact_reason, &q.note)
            .map_err(|e| v.extend(e))
            .ok();
        let transcript_to = match body.transcript_email.trim() {
            "" => None,
            raw => EmailAddress::parse_field("transcript_email", raw)
                .map_err(|e| v.push(e))
                .ok(),
        };
        let (Some(id), Some(request_status), Some(qualification)) =
            (id, request_status, qualification)
        else {
            return Err(Error::Invalid(v));
        };
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let note = qualification.note.clone();
        let (ended_by, request_status, qualification) = match who.role {
            // The customer leaves; the agent qualifies and wraps up afterwards.
            Role::Visitor => (
                EndedBy::Customer,
                RequestStatus::Open,
                Qualification::default(),
            ),
            Role::Admin => (EndedBy::Admin, request_status, qualification),
            _ => (EndedBy::Agent, request_status, qualification),
        };

        let txn = self.db.begin().await?;
        let row = super::access::visible_locked(&txn, &who, id).await?;
        if who.role == Role::Agent && !row.is_active_agent(&who.id) {
            return Err(Error::NotTakingPart("end it"));
        }
        if !row.status()?.is_live() {
            return Err(Error::AlreadyEnded);
        }
        if ended_by != EndedBy::Customer {
            // CNV-16: the queue may make tags and/or a reason mandatory.
            let policy = Policies::get(&txn, org, row.queue_id).await?;
            let missing = qualification.missing(policy.require_tags, policy.require_contact_reason);
            if !missing.is_empty() {
                return Err(Error::Invalid(missing));
            }
        }
        let mut staged = Vec::new();
        if ended_by == EndedBy::Customer {
            let msg =
                Messages::append(&txn, org, id, Author::System, "", CUSTOMER_ENDED, None, &[])
                    .await?;
            staged.push(
                self.outbox
                    // A fixed system text: masked for staff like any other.
                    .stage(&txn, org, id, &views::posted_event(&row, &msg, true))
                    .await?,
            );
        }
        let change = EndChange {
            status: Status::Ended,
            ended_by,
            by: who.id.clone(),
            request_status,
            qualification,
        };
        let ended = Conversations::end(&txn, org, id, &change)
            .await?
            .ok_or(Error::AlreadyEnded)?;
        staged.push(
            self.outbox
                .stage(&txn, org, id, &views::ended_event(&ended))
                .await?,
        );
        if let Some(to) = &transcript_to {
            // CNV-8: the transcript and the closing note; notifications delivers it.
            let email = self.transcript_email(&txn, &ended, to, &note).await?;
            staged.push(self.outbox.stage(&txn, org, id, &email).await?);
        }
        txn.commit().await?;
        self.outbox.publish(staged).await;
        tracing::info!(conversation_id = %id, ended_by = ?ended_by, "conversation ended");
        Ok(views::conversation(
            &ended,
            masks_pii(&self.db, &who).await?,
        ))
    }

    /// `EmailRequested` for the transcript of `row` (CNV-8).
    async fn transcript_email<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        row: &ConvRow,
        to: &EmailAddress,
        note: &str,
    ) -> Result<pb::EmailRequested, Error> {
        let messages = Messages::list(db, row.org_id, row.id, 0, 5000).await?;
        let name_of = |id: &str| {
            row.participants
                .iter()
                .find(|(p, ..)| p == id)
                .map(|(_, _, n, _)| n.clone())
                .filter(|n| !n.is_empty())
        };
        let lines: Vec<TranscriptLine> = messages
            .iter()
            .map(|m| TranscriptLine {
                at: m.created_at.format("%H:%M").to_string(),
                author: match m.author_kind {
                    1 => name_of(&m.author_id).unwrap_or_else(|| "You".into()),
                    2 => name_of(&m.author_id).unwrap_or_else(|| "Agent".into()),
                    4 => "Bot".into(),
                    _ => "System".into(),
                },
                text: m.text.clone(),
            })
            .collect();
        Ok(pb::EmailRequested {
            email_id: uuid::Uuid::now_v7().to_string(),
            request_id: row.request_id.to_string(),
            conversation_id: row.id.to_string(),
            to: vec![to.as_str().to_owned()],
            subject: format!(
                "Transcript of your conversation {}",
                crate::domain::subject_token(row.request_id)
            ),
            text_body: crate::domain::transcript(&lines, note),
            html_body: String::new(),
            kind: "transcript".into(),
            message_id: crate::domain::new_message_id(&self.email_domain),
        })
    }
}
