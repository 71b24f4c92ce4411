//! The conversations stream: `ConversationQueued` enqueues (RTG-4),
//! `ConversationEnded` withdraws offers or starts wrap-up (RTG-9, RTG-13).
//! Handlers check the current state before changing it, so redelivered or
//! reordered events change nothing twice.
use chrono::Duration;
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_platform::defaults::default_queue_id;
use livedesk_platform::time::{from_proto, to_proto};
use livedesk_proto::conversations::v1::{ConversationEnded, ConversationQueued};
use livedesk_proto::routing::v1::WrapUpStarted;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::Router;
use crate::store::{Entries, Legs, NewEntry, Offers, Orgs, Queues};

/// Kept per queued conversation for the offer: the first few messages,
/// each cut to a preview length.
const FIRST_MESSAGES: usize = 3;
const PREVIEW_CHARS: usize = 500;

/// Consumes the conversations stream.
pub struct ConversationEvents {
    pub router: Router,
}

fn conversation_id(raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw)
        .map_err(|_| HandlerError::permanent("event without a valid conversation_id"))
}

impl ConversationEvents {
    async fn queued(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        event: &ReceivedEvent,
        q: ConversationQueued,
    ) -> Result<Vec<Staged>, HandlerError> {
        let conversation = conversation_id(&q.conversation_id)?;
        Orgs::ensure(txn, org).await?;
        let default = Queues::ensure_default(txn, org).await?;
        let queue_id = match Uuid::parse_str(q.queue_id.trim()) {
            Ok(id) if Queues::get(txn, org, id).await?.is_some() => id,
            Ok(id) => {
                tracing::warn!(%org, %conversation, queue_id = %id, "unknown queue, using the default queue");
                default
            }
            Err(_) => default,
        };
        let enqueued_at = q
            .enqueued_at
            .as_ref()
            .and_then(from_proto)
            .unwrap_or_else(|| event.occurred_at());
        let created_at = q
            .created_at
            .as_ref()
            .and_then(from_proto)
            .unwrap_or(enqueued_at);
        let first_messages = q
            .first_messages
            .iter()
            .take(FIRST_MESSAGES)
            .map(|m| m.chars().take(PREVIEW_CHARS).collect())
            .collect();
        let preferred = Some(q.preferred_agent_id.trim().to_owned()).filter(|p| !p.is_empty());
        let inserted = Entries::enqueue(
            txn,
            &NewEntry {
                conversation_id: conversation,
                org_id: org,
                queue_id,
                priority: q.priority,
                enqueued_at,
                created_at,
                customer_name: q.customer_name.chars().take(200).collect(),
                channel: q.channel,
                first_messages,
                proactive: q.proactive,
                preferred_agent_id: preferred,
            },
        )
        .await?;
        tracing::info!(%org, %conversation, %queue_id, inserted, "conversation enqueued");
        Ok(vec![])
    }

    async fn ended(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        e: ConversationEnded,
    ) -> Result<Vec<Staged>, HandlerError> {
        let conversation = conversation_id(&e.conversation_id)?;
        let Some(entry) = Entries::lock(txn, org, conversation).await? else {
            // The end overtook the enqueue: remember it so a late
            // ConversationQueued does not put it in a queue.
            let queue = Uuid::parse_str(&e.queue_id).unwrap_or_else(|_| default_queue_id(org));
            Entries::tombstone(txn, org, conversation, queue).await?;
            return Ok(vec![]);
        };
        match entry.status.as_str() {
            "queued" => {
                Entries::transition(txn, org, conversation, "queued", "ended").await?;
                if let Some(agent) = Offers::withdraw(txn, org, conversation).await? {
                    tracing::info!(%org, %conversation, agent_id = %agent, "offer withdrawn, the conversation ended");
                }
                Ok(vec![])
            }
            "assigned" => {
                Entries::transition(txn, org, conversation, "assigned", "ended").await?;
                let seconds = Orgs::auto_wrap_up_seconds(txn, org).await?;
                let legs = Legs::start_wrap_up(txn, org, conversation, seconds).await?;
                let mut staged = Vec::with_capacity(legs.len());
                for leg in legs {
                    let deadline = leg.wrap_up_deadline.unwrap_or_else(|| {
                        chrono::Utc::now() + Duration::seconds(i64::from(seconds))
                    });
                    staged.push(
                        self.router
                            .outbox
                            .stage(
                                txn,
                                org,
                                conversation,
                                &WrapUpStarted {
                                    conversation_id: conversation.to_string(),
                                    agent_id: leg.agent_id.clone(),
                                    deadline: Some(to_proto(deadline)),
                                },
                            )
                            .await?,
                    );
                }
                Ok(staged)
            }
            _ => Ok(vec![]),
        }
    }
}

impl EventHandler for ConversationEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(q) = event.payload::<ConversationQueued>() {
            return self.queued(txn, event.org_id, event, q?).await;
        }
        if let Some(e) = event.payload::<ConversationEnded>() {
            return self.ended(txn, event.org_id, e?).await;
        }
        Ok(vec![])
    }

    /// A new waiting conversation, or capacity freed by a withdrawn offer:
    /// route the org's waiting queues now rather than at the next sweep.
    async fn after_commit(&self, event: &ReceivedEvent) {
        if event.is::<ConversationQueued>() || event.is::<ConversationEnded>() {
            self.router.route_org(event.org_id).await;
        }
    }
}
