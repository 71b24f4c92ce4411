//! Transfers (RTG-7), only by the owning agent after accepting: to a queue
//! (re-queued keeping its original age, at the head of its priority; the
//! agent's leg enters wrap-up) or to a named agent (an offer of kind
//! TRANSFER; accepted → new owner, declined or unanswered → the source
//! queue's policy). A retried call returns the first result (TEN-5).
use livedesk_auth::Principal;
use livedesk_platform::defaults::queue_or_default;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::routing::v1 as pb;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tonic::Request;
use uuid::Uuid;

use super::{RoutingGrpc, acting_agent};
use crate::domain::{Channel, OfferKind, TransferNote, can_take_direct_offer};
use crate::engine::wrap_up_legs;
use crate::error::{Entity, Error};
use crate::store::{
    Agents, Entries, EntryRow, Legs, NewOffer, OfferRow, Offers, Queues, Transfers,
};
use crate::views;

/// Checks, with the entry locked, that `who` owns the conversation alone
/// (no transfer or conference under way) and may hand it on.
async fn owned_alone(
    txn: &DatabaseTransaction,
    who: &Principal,
    conv: Uuid,
) -> Result<EntryRow, Error> {
    let org = who.org_id;
    let entry = Entries::lock(txn, org, conv)
        .await?
        .ok_or(Error::NotFound(Entity::Conversation))?;
    let owner = Legs::active(txn, org, conv, "owner").await?;
    if entry.status != "assigned" || owner.is_none_or(|o| o.agent_id != who.id) {
        return Err(Error::NotTheOwner);
    }
    if entry.interrupted {
        return Err(Error::Interrupted);
    }
    if Offers::pending_for(txn, org, conv).await?.is_some()
        || Legs::active(txn, org, conv, "participant").await?.is_some()
    {
        return Err(Error::HandoverUnderWay);
    }
    Ok(entry)
}

/// The caller of a transfer (agents, supervisors and admins), the
/// violations found so far and the conversation, if its id parses: the
/// other fields are checked next, and every violation reported at once.
fn transferring<T>(
    req: &Request<T>,
    conversation_id: &str,
) -> Result<(Principal, Vec<FieldViolation>, Option<Uuid>), Error> {
    let who = acting_agent(req, "transfer a conversation")?;
    let mut v = Vec::new();
    let conv = parse_uuid("conversation_id", conversation_id)
        .map_err(|e| v.push(e))
        .ok();
    Ok((who, v, conv))
}

/// A transfer or conference invitation to a named agent (RTG-7, RTG-8).
pub(super) struct DirectOffer<'a> {
    pub org: Uuid,
    pub agent: &'a str,
    pub kind: OfferKind,
    pub from_agent: &'a str,
    pub note: &'a str,
}

/// Offers `entry`'s conversation to the named agent, with the entry
/// locked by the caller: the agent is locked, then checked in a fresh
/// statement (AVAILABLE, room on the conversation's channel), and the
/// offer times out like the conversation's queue's. `None` when the
/// conversation already has a pending offer.
pub(super) async fn offer_directly(
    txn: &DatabaseTransaction,
    entry: &EntryRow,
    o: &DirectOffer<'_>,
) -> Result<Option<OfferRow>, Error> {
    if !Agents::lock(txn, o.org, o.agent).await? {
        return Err(Error::NotFound(Entity::Agent));
    }
    let fresh = Agents::candidate(txn, o.org, o.agent).await?;
    let channel = Channel::of_conversation(entry.channel);
    if !fresh
        .as_ref()
        .is_some_and(|c| can_take_direct_offer(c, channel))
    {
        return Err(Error::AgentCannotTakeOffer);
    }
    let timeout = Queues::get(txn, o.org, entry.queue_id)
        .await?
        .map_or(20, |q| q.offer_timeout_seconds);
    let new = NewOffer {
        org: o.org,
        conversation: entry.conversation_id,
        agent: o.agent,
        queue: entry.queue_id,
        timeout_seconds: timeout,
        kind: o.kind,
        from_agent: o.from_agent,
        note: o.note,
    };
    Ok(Offers::insert(txn, &new).await?)
}

impl RoutingGrpc {
    pub(super) async fn transfer_to_queue(
        &self,
        req: Request<pb::TransferToQueueRequest>,
    ) -> Result<pb::TransferResponse, Error> {
        let body = req.get_ref();
        let (who, mut v, conv) = transferring(&req, &body.conversation_id)?;
        let queue = queue_or_default(who.org_id, &body.queue_id)
            .map_err(|_| v.push(FieldViolation::new("queue_id", "must be a UUID")))
            .ok();
        let note = TransferNote::parse(&body.note).map_err(|e| v.push(e)).ok();
        let (Some(conv), Some(queue), Some(note)) = (conv, queue, note) else {
            return Err(Error::Invalid(v));
        };
        let org = who.org_id;
        let response = pb::TransferResponse {
            conversation_id: conv.to_string(),
            offer_id: String::new(),
        };
        let txn = self.db.begin().await?;
        let entry = match owned_alone(&txn, &who, conv).await {
            Ok(e) => e,
            Err(err) => {
                let retry = Transfers::latest(&txn, org, conv, &who.id).await?;
                txn.rollback().await?;
                // A retry after the transfer happened: the first result.
                return match retry {
                    Some(t) if t.to_queue_id == Some(queue) => Ok(response),
                    _ => Err(err),
                };
            }
        };
        if Queues::get(&txn, org, queue).await?.is_none() {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Queue));
        }
        let mut staged = wrap_up_legs(&self.outbox, &txn, org, conv, Some(&who.id)).await?;
        Entries::requeue(&txn, org, conv, queue).await?;
        Transfers::insert(
            &txn,
            org,
            conv,
            &who.id,
            Some(queue),
            None,
            None,
            note.as_str(),
        )
        .await?;
        let e = pb::ConversationTransferred {
            conversation_id: conv.to_string(),
            from_agent_id: who.id.clone(),
            to_queue_id: queue.to_string(),
            to_agent_id: String::new(),
            note: note.as_str().to_owned(),
        };
        staged.push(self.outbox.stage(&txn, org, conv, &e).await?);
        self.commit(txn, staged).await?;
        tracing::info!(%org, conversation_id = %conv, from = %who.id, to_queue = %queue, from_queue = %entry.queue_id, "transferred to a queue");
        self.router.kick_queues(org, &[queue]);
        Ok(response)
    }

    pub(super) async fn transfer_to_agent(
        &self,
        req: Request<pb::TransferToAgentRequest>,
    ) -> Result<pb::TransferResponse, Error> {
        let body = req.get_ref();
        let (who, mut v, conv) = transferring(&req, &body.conversation_id)?;
        let target = body.agent_id.trim().to_owned();
        if target.is_empty() || target.chars().count() > 200 {
            v.push(FieldViolation::new("agent_id", "1 to 200 characters"));
        } else if target == who.id {
            v.push(FieldViolation::new(
                "agent_id",
                "cannot transfer to yourself",
            ));
        }
        let note = TransferNote::parse(&body.note).map_err(|e| v.push(e)).ok();
        let (Some(conv), Some(note), true) = (conv, note, v.is_empty()) else {
            return Err(Error::Invalid(v));
        };
        let org = who.org_id;
        let txn = self.db.begin().await?;
        // A retry while the offer is pending, or after it was accepted.
        if let Some(t) = Transfers::latest(&txn, org, conv, &who.id).await?
            && t.to_agent_id.as_deref() == Some(target.as_str())
            && let Some(offer_id) = t.offer_id
            && let Some(o) = Offers::get(&txn, org, offer_id).await?
            && (o.status == "pending" || o.status == "accepted")
        {
            txn.rollback().await?;
            return Ok(pb::TransferResponse {
                conversation_id: conv.to_string(),
                offer_id: offer_id.to_string(),
            });
        }
        let entry = match owned_alone(&txn, &who, conv).await {
            Ok(e) => e,
            Err(e) => {
                txn.rollback().await?;
                return Err(e);
            }
        };
        let offer = offer_directly(
            &txn,
            &entry,
            &DirectOffer {
                org,
                agent: &target,
                kind: OfferKind::Transfer,
                from_agent: &who.id,
                note: note.as_str(),
            },
        )
        .await?
        .ok_or(Error::HandoverUnderWay)?;
        Transfers::insert(
            &txn,
            org,
            conv,
            &who.id,
            None,
            Some(&target),
            Some(offer.id),
            note.as_str(),
        )
        .await?;
        let created = pb::OfferCreated {
            offer: Some(views::offer(&offer)),
        };
        let transferred = pb::ConversationTransferred {
            conversation_id: conv.to_string(),
            from_agent_id: who.id.clone(),
            to_queue_id: String::new(),
            to_agent_id: target.clone(),
            note: note.as_str().to_owned(),
        };
        let staged = vec![
            self.outbox.stage(&txn, org, conv, &created).await?,
            self.outbox.stage(&txn, org, conv, &transferred).await?,
        ];
        self.commit(txn, staged).await?;
        tracing::info!(%org, conversation_id = %conv, from = %who.id, to = %target, "transfer offered");
        Ok(pb::TransferResponse {
            conversation_id: conv.to_string(),
            offer_id: offer.id.to_string(),
        })
    }
}
