//! Answering offers (RTG-5, RTG-7, RTG-8): accepting makes the agent the
//! owner (a queue or transfer offer) or a participant (a conference
//! invitation); declining re-offers, fails the transfer per policy, or
//! declines the invitation. Both lock the entry first and update the offer
//! only while it is pending and unexpired, so a late answer or a double
//! click changes nothing; a retried accept returns the first result (TEN-5).
use livedesk_auth::{AuthError, Principal, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::time::to_proto;
use livedesk_proto::routing::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::{RoutingGrpc, acting_agent};
use crate::domain::{ConferenceState, OfferKind};
use crate::engine::{Unanswered, after_unanswered, conference_changed, wrap_up_legs};
use crate::error::{Entity, Error};
use crate::store::{Agents, Entries, LegRow, Legs, OfferRow, Offers};
use crate::views;
use livedesk_platform::labels::label;

/// An accepted offer: the offer and the leg it gave the agent.
pub(super) struct Accepted {
    pub offer: OfferRow,
    pub leg: LegRow,
}

fn forbidden(who: &Principal, action: &'static str) -> Error {
    AuthError::Forbidden {
        role: who.role,
        action,
    }
    .into()
}

impl RoutingGrpc {
    pub(super) async fn accept_offer(
        &self,
        req: Request<pb::AcceptOfferRequest>,
    ) -> Result<pb::Assignment, Error> {
        let who = acting_agent(&req, "accept an offer")?;
        let id = parse_uuid("offer_id", &req.get_ref().offer_id)?;
        let accepted = self.accept(&who, id).await?;
        Ok(views::assignment(&accepted.leg))
    }

    /// Accepts offer `id` of the caller, whatever its kind.
    pub(super) async fn accept(&self, who: &Principal, id: Uuid) -> Result<Accepted, Error> {
        let org = who.org_id;
        let offer = Offers::get(&self.db, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Offer))?;
        if offer.agent_id != who.id {
            return Err(forbidden(who, "accept another agent's offer"));
        }
        let conv = offer.conversation_id;
        let txn = self.db.begin().await?;
        // Lock order everywhere: entry, then offer, then agent.
        let entry = Entries::lock(&txn, org, conv)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        let offer = Offers::get(&txn, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Offer))?;
        if offer.status == "accepted" {
            // A retry (TEN-5): the leg this offer gave is the first result.
            let legs = Legs::of_conversation(&txn, org, conv).await?;
            txn.rollback().await?;
            let leg = legs
                .into_iter()
                .rev()
                .find(|l| l.agent_id == who.id)
                .ok_or(Error::OfferGone)?;
            return Ok(Accepted { offer, leg });
        }
        if !Offers::answer(&txn, org, id, &who.id, "accepted", "").await? {
            txn.rollback().await?;
            return Err(Error::OfferNotAcceptable);
        }
        let owner = Legs::active(&txn, org, conv, "owner").await?;
        let from_still_owns = entry.status == "assigned"
            && owner
                .as_ref()
                .is_some_and(|o| o.agent_id == offer.from_agent_id);
        let mut staged = Vec::new();
        let leg = match offer.kind() {
            OfferKind::Queue => {
                if !Entries::transition(&txn, org, conv, "queued", "assigned").await? {
                    txn.rollback().await?;
                    return Err(Error::NoLongerWaiting);
                }
                Legs::insert_owner(&txn, org, conv, &who.id, offer.queue_id).await?
            }
            OfferKind::Transfer => {
                if !from_still_owns {
                    txn.rollback().await?;
                    return Err(Error::TransferObsolete);
                }
                // RTG-7: the transferring agent's leg enters wrap-up.
                staged.extend(
                    wrap_up_legs(&self.outbox, &txn, org, conv, Some(&offer.from_agent_id)).await?,
                );
                Legs::insert_owner(&txn, org, conv, &who.id, entry.queue_id).await?
            }
            OfferKind::Conference => {
                if !from_still_owns {
                    txn.rollback().await?;
                    return Err(Error::InvitationObsolete);
                }
                Legs::insert_participant(&txn, org, conv, &who.id, entry.queue_id).await?
            }
        };
        let Some(leg) = leg else {
            txn.rollback().await?;
            return Err(Error::AlreadyStaffed);
        };
        let agent = Agents::get(&txn, org, &who.id)
            .await?
            .ok_or(Error::NotFound(Entity::Agent))?;
        let mut view = views::offer(&offer);
        view.expires_at = Some(to_proto(offer.expires_at));
        staged.push(
            self.outbox
                .stage(&txn, org, conv, &pb::OfferAccepted { offer: Some(view) })
                .await?,
        );
        if offer.kind() == OfferKind::Conference {
            // RTG-8: conversations adds "<agent> joined the chat" from this.
            let e = conference_changed(&offer, ConferenceState::Active, &agent.display_name);
            staged.push(self.outbox.stage(&txn, org, conv, &e).await?);
        } else {
            Agents::touch_idle(&txn, org, &who.id).await?;
            let previous = if offer.kind() == OfferKind::Transfer {
                offer.from_agent_id.clone()
            } else {
                String::new()
            };
            let assigned = pb::ConversationAssigned {
                conversation_id: conv.to_string(),
                agent_id: who.id.clone(),
                agent_display_name: agent.display_name.clone(),
                agent_initials: agent.initials.clone(),
                queue_id: leg.queue_id.to_string(),
                previous_agent_id: previous,
                assigned_at: Some(to_proto(leg.assigned_at)),
                customer_principal_id: entry.customer_principal_id.clone(),
            };
            staged.push(self.outbox.stage(&txn, org, conv, &assigned).await?);
        }
        self.commit(txn, staged).await?;
        tracing::info!(%org, conversation_id = %conv, agent_id = %who.id, kind = label(offer.kind), "offer accepted");
        Ok(Accepted { offer, leg })
    }

    pub(super) async fn decline_offer(
        &self,
        req: Request<pb::DeclineOfferRequest>,
    ) -> Result<pb::DeclineOfferResponse, Error> {
        let who = acting_agent(&req, "decline an offer")?;
        let body = req.get_ref();
        let id = parse_uuid("offer_id", &body.offer_id)?;
        let reason = body.reason.trim();
        if reason.chars().count() > 200 {
            return Err(FieldViolation::new("reason", "at most 200 characters").into());
        }
        self.decline(&who, id, reason).await?;
        Ok(pb::DeclineOfferResponse {})
    }

    /// Declines offer `id` of the caller, whatever its kind.
    pub(super) async fn decline(
        &self,
        who: &Principal,
        id: Uuid,
        reason: &str,
    ) -> Result<OfferRow, Error> {
        let org = who.org_id;
        let offer = Offers::get(&self.db, org, id)
            .await?
            .ok_or(Error::NotFound(Entity::Offer))?;
        if offer.agent_id != who.id {
            return Err(forbidden(who, "decline another agent's offer"));
        }
        let txn = self.db.begin().await?;
        Entries::lock(&txn, org, offer.conversation_id).await?;
        if !Offers::answer(&txn, org, id, &who.id, "declined", reason).await? {
            let now = Offers::get(&txn, org, id).await?;
            txn.rollback().await?;
            // A retried decline is answered like the first (TEN-5).
            return match now {
                Some(o) if o.status == "declined" => Ok(o),
                _ => Err(Error::OfferNotDeclinable),
            };
        }
        let followup =
            after_unanswered(&self.outbox, &txn, &offer, Unanswered::Declined(reason)).await?;
        txn.commit().await?;
        // Re-offer to someone else now (RTG-5); the decliner is excluded.
        self.router.finish(followup).await;
        Ok(offer)
    }

    pub(super) async fn list_offers(
        &self,
        req: Request<pb::ListOffersRequest>,
    ) -> Result<pb::ListOffersResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list offers")?;
        let raw = req.get_ref().agent_id.trim();
        let agent = if raw.is_empty() || raw == who.id {
            who.id.clone()
        } else {
            who.require_supervisor("list another agent's offers")?;
            raw.to_owned()
        };
        let rows = Offers::pending_of(&self.db, who.org_id, &agent).await?;
        Ok(pb::ListOffersResponse {
            offers: rows.iter().map(views::offer).collect(),
        })
    }
}
