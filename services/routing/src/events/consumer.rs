//! The conversations stream: `ConversationQueued` enqueues (RTG-4) or
//! re-enqueues a paused conversation (CNV-12), `ConversationPaused` ends
//! the agent's leg without wrap-up (CNV-12), `ConversationEnded` withdraws
//! offers, leaves the queue (RTG-13) or starts wrap-up (RTG-9).
//!
//! Several replicas consume one durable consumer, so events of one
//! conversation may be handled out of order: every handler locks the entry
//! and checks its state first, and a pause older than the current
//! assignment is ignored.
use chrono::{DateTime, Utc};
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_platform::defaults::default_queue_id;
use livedesk_platform::labels::from_wire;
use livedesk_platform::time::from_proto;
use livedesk_proto::common::v1::Channel as ChannelPb;
use livedesk_proto::conversations::v1::{
    ConversationEnded, ConversationPaused, ConversationQueued,
};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::engine::{Followup, Router, Unanswered, after_unanswered, wrap_up_legs};
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
        let preferred = Some(q.preferred_agent_id.trim().to_owned()).filter(|p| !p.is_empty());
        let mut staged = Vec::new();
        // A resume may overtake its own pause (another replica holds the
        // pause event): the conversation is still assigned to the agent it
        // was paused with. Apply the pause first.
        if let (Some(agent), Some(entry)) =
            (&preferred, Entries::lock(txn, org, conversation).await?)
            && entry.status == "assigned"
        {
            staged.extend(
                self.pause(txn, org, conversation, agent, event.occurred_at())
                    .await?,
            );
        }
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
                // A channel this version does not know is refused (dead-
                // lettered), not counted against some other channel.
                channel: from_wire::<ChannelPb>("ConversationQueued.channel", q.channel)
                    .map_err(HandlerError::permanent)?
                    .into(),
                first_messages: q
                    .first_messages
                    .iter()
                    .take(FIRST_MESSAGES)
                    .map(|m| m.chars().take(PREVIEW_CHARS).collect())
                    .collect(),
                proactive: q.proactive,
                preferred_agent_id: preferred,
                customer_principal_id: q.customer_principal_id.chars().take(200).collect(),
            },
        )
        .await?;
        tracing::info!(%org, %conversation, %queue_id, inserted, "conversation enqueued");
        Ok(staged)
    }

    /// CNV-12: the agent's leg ends without wrap-up, freeing capacity; the
    /// entry waits as 'paused' for the customer to come back. A pause
    /// older than the current assignment (reordered events) is ignored.
    async fn pause(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Staged>, HandlerError> {
        let Some(entry) = Entries::lock(txn, org, conversation).await? else {
            return Ok(vec![]);
        };
        let owner = Legs::active(txn, org, conversation, "owner").await?;
        let current = entry.status == "assigned"
            && owner.is_some_and(|o| o.agent_id == agent && o.assigned_at <= at);
        if !current {
            tracing::info!(%org, %conversation, "pause ignored: not assigned to this agent any more");
            return Ok(vec![]);
        }
        let mut followup = Followup::default();
        if let Some(offer) = Offers::withdraw(txn, org, conversation, "paused").await? {
            let how = Unanswered::Withdrawn {
                reason: "paused",
                consequences: false,
            };
            followup.extend(after_unanswered(&self.router.outbox, txn, &offer, how).await?);
        }
        Legs::close_active(txn, org, conversation).await?;
        Entries::transition(txn, org, conversation, "assigned", "paused").await?;
        tracing::info!(%org, %conversation, agent_id = agent, "conversation paused, capacity freed");
        Ok(followup.staged)
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
            let status = if e.abandoned { "abandoned" } else { "ended" };
            Entries::tombstone(txn, org, conversation, queue, status).await?;
            return Ok(vec![]);
        };
        let mut followup = Followup::default();
        let outbox = &self.router.outbox;
        let withdraw_reason = if e.abandoned {
            "abandoned"
        } else {
            "conversation_ended"
        };
        if matches!(entry.status.as_str(), "queued" | "assigned" | "paused")
            && let Some(offer) = Offers::withdraw(txn, org, conversation, withdraw_reason).await?
        {
            let how = Unanswered::Withdrawn {
                reason: withdraw_reason,
                consequences: false,
            };
            followup.extend(after_unanswered(outbox, txn, &offer, how).await?);
        }
        match entry.status.as_str() {
            // RTG-13: the visitor left while queued; reported as abandoned.
            "queued" => {
                let to = if e.abandoned { "abandoned" } else { "ended" };
                Entries::transition(txn, org, conversation, "queued", to).await?;
            }
            "assigned" => {
                Entries::transition(txn, org, conversation, "assigned", "ended").await?;
                followup
                    .staged
                    .extend(wrap_up_legs(outbox, txn, org, conversation, None).await?);
            }
            "paused" => {
                Entries::transition(txn, org, conversation, "paused", "ended").await?;
            }
            _ => {}
        }
        Ok(followup.staged)
    }
}

impl EventHandler for ConversationEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let org = event.org_id;
        if let Some(q) = event.payload::<ConversationQueued>() {
            return self.queued(txn, org, event, q?).await;
        }
        if let Some(p) = event.payload::<ConversationPaused>() {
            let p = p?;
            let conversation = conversation_id(&p.conversation_id)?;
            return self
                .pause(
                    txn,
                    org,
                    conversation,
                    p.agent_id.trim(),
                    event.occurred_at(),
                )
                .await;
        }
        if let Some(e) = event.payload::<ConversationEnded>() {
            return self.ended(txn, org, e?).await;
        }
        Ok(vec![])
    }

    /// A new waiting conversation, or capacity freed (an end, a pause, a
    /// withdrawn offer): route the org's waiting queues now rather than at
    /// the next sweep.
    async fn after_commit(&self, event: &ReceivedEvent) {
        if event.is::<ConversationQueued>()
            || event.is::<ConversationEnded>()
            || event.is::<ConversationPaused>()
        {
            self.router.kick_org(event.org_id);
        }
    }
}
