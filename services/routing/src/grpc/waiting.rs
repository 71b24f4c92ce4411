//! Waiting conversations (RTG-15): a queued customer's position and
//! estimated wait, and the staff's listing of a queue in queue order.
use livedesk_auth::{AuthError, Role, principal};
use livedesk_platform::defaults::queue_or_default;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::page::Page;
use livedesk_platform::time::to_proto;
use livedesk_proto::common::v1::{PageRequest, PageResponse};
use livedesk_proto::routing::v1 as pb;
use tonic::Request;

use super::RoutingGrpc;
use crate::domain::{THROUGHPUT_WINDOW_SECONDS, estimate_wait};
use crate::error::{Entity, Error};
use crate::store::{Agents, Entries, Legs, Queues, WaitingCursor};

impl RoutingGrpc {
    pub(super) async fn get_queue_position(
        &self,
        req: Request<pb::GetQueuePositionRequest>,
    ) -> Result<pb::QueuePosition, Error> {
        let who = principal(&req)?;
        let conv = parse_uuid("conversation_id", &req.get_ref().conversation_id)?;
        let org = who.org_id;
        let entry = Entries::get(&self.db, org, conv)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        // A visitor sees only their own conversation (TEN-3): another's
        // answers NOT_FOUND, revealing nothing.
        if who.role == Role::Visitor
            && (entry.customer_principal_id.is_empty() || entry.customer_principal_id != who.id)
        {
            return Err(Error::NotFound(Entity::Conversation));
        }
        if entry.status != "queued" {
            return Err(Error::NotWaiting);
        }
        let position = Entries::position(&self.db, org, entry.queue_id, conv)
            .await?
            .ok_or(Error::NotWaiting)?;
        let position = u32::try_from(position).unwrap_or(u32::MAX);
        let recent =
            Legs::recent_assignments(&self.db, org, entry.queue_id, THROUGHPUT_WINDOW_SECONDS)
                .await?;
        Ok(pb::QueuePosition {
            conversation_id: conv.to_string(),
            position,
            estimated_wait_seconds: estimate_wait(
                position,
                u32::try_from(recent).unwrap_or(u32::MAX),
                THROUGHPUT_WINDOW_SECONDS,
            ),
        })
    }

    pub(super) async fn list_queued_conversations(
        &self,
        req: Request<pb::ListQueuedConversationsRequest>,
    ) -> Result<pb::ListQueuedConversationsResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list queued conversations")?;
        let body = req.get_ref();
        let mut v = Vec::new();
        let queue = queue_or_default(who.org_id, &body.queue_id)
            .map_err(|_| v.push(FieldViolation::new("queue_id", "must be a UUID")))
            .ok();
        // The order is the queue's, so the cursor is its own keyset.
        let size = Page::parse(
            body.page
                .as_ref()
                .map(|p| PageRequest {
                    page_size: p.page_size,
                    page_token: String::new(),
                })
                .as_ref(),
        )
        .map_err(|e| v.push(e))
        .ok()
        .map(|p| p.size);
        let token = body.page.as_ref().map_or("", |p| p.page_token.as_str());
        let after = match token {
            "" => None,
            t => WaitingCursor::decode(t).or_else(|| {
                v.push(FieldViolation::new("page.page_token", "invalid page token"));
                None
            }),
        };
        let (Some(queue), Some(size), true) = (queue, size, v.is_empty()) else {
            return Err(Error::Invalid(v));
        };
        let org = who.org_id;
        Queues::ensure_default(&self.db, org).await?;
        if Queues::get(&self.db, org, queue).await?.is_none() {
            return Err(Error::NotFound(Entity::Queue));
        }
        if who.role == Role::Agent {
            let member = Agents::get(&self.db, org, &who.id)
                .await?
                .is_some_and(|a| a.queue_ids.contains(&queue));
            if !member {
                return Err(AuthError::Forbidden {
                    role: who.role,
                    action: "list the conversations of a queue they are not a member of",
                }
                .into());
            }
        }
        let rows = Entries::list_waiting(&self.db, org, queue, after.as_ref(), size).await?;
        let next_page_token = match rows.last() {
            Some(last) if rows.len() as u64 == size => WaitingCursor::after(last).encode(),
            _ => String::new(),
        };
        Ok(pb::ListQueuedConversationsResponse {
            conversations: rows
                .iter()
                .map(|r| pb::QueuedConversation {
                    conversation_id: r.conversation_id.to_string(),
                    queue_id: r.queue_id.to_string(),
                    priority: r.priority,
                    enqueued_at: Some(to_proto(r.enqueued_at)),
                    customer_name: r.customer_name.clone(),
                    channel: r.channel,
                    offered_to_agent_id: r.offered_to.clone().unwrap_or_default(),
                })
                .collect(),
            page: Some(PageResponse { next_page_token }),
        })
    }
}
