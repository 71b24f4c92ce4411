//! Answering offers (RTG-5): accept makes the agent the owner, decline
//! re-offers to another agent. Both are conditional updates on a pending,
//! unexpired offer, so a late answer or a double click changes nothing.
use livedesk_auth::{AuthError, Role, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::time::to_proto;
use livedesk_proto::routing::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;

use super::{RoutingGrpc, convert};
use crate::error::Error;
use crate::store::{Agents, Entries, Legs, Offers};

impl RoutingGrpc {
    pub(super) async fn accept_offer(
        &self,
        req: Request<pb::AcceptOfferRequest>,
    ) -> Result<pb::Assignment, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "accept an offer",
        )?;
        let id = parse_uuid("offer_id", &req.get_ref().offer_id)?;
        let txn = self.db.begin().await?;
        let offer = Offers::get(&txn, who.org_id, id)
            .await?
            .ok_or(Error::NotFound("offer"))?;
        if offer.agent_id != who.id {
            return Err(AuthError::Forbidden {
                role: who.role,
                action: "accept another agent's offer",
            }
            .into());
        }
        // Lock order everywhere: entry, then offer, then agent.
        Entries::lock(&txn, who.org_id, offer.conversation_id).await?;
        if !Offers::answer(&txn, who.org_id, id, &who.id, "accepted", "").await? {
            txn.rollback().await?;
            return Err(Error::FailedPrecondition(
                "the offer is no longer pending (expired, declined or withdrawn)",
            ));
        }
        if !Entries::transition(
            &txn,
            who.org_id,
            offer.conversation_id,
            "queued",
            "assigned",
        )
        .await?
        {
            txn.rollback().await?;
            return Err(Error::FailedPrecondition(
                "the conversation is no longer waiting",
            ));
        }
        let Some(leg) = Legs::insert_owner(
            &txn,
            who.org_id,
            offer.conversation_id,
            &who.id,
            offer.queue_id,
        )
        .await?
        else {
            txn.rollback().await?;
            return Err(Error::FailedPrecondition(
                "the conversation already has an owner",
            ));
        };
        Agents::touch_idle(&txn, who.org_id, &who.id).await?;
        let agent = Agents::get(&txn, who.org_id, &who.id)
            .await?
            .ok_or(Error::NotFound("agent"))?;
        let mut view = convert::offer(&offer);
        view.expires_at = Some(to_proto(offer.expires_at));
        let assigned = pb::ConversationAssigned {
            conversation_id: offer.conversation_id.to_string(),
            agent_id: who.id.clone(),
            agent_display_name: agent.display_name.clone(),
            agent_initials: agent.initials.clone(),
            queue_id: offer.queue_id.to_string(),
            previous_agent_id: String::new(),
            assigned_at: Some(to_proto(leg.assigned_at)),
        };
        let staged = vec![
            self.outbox
                .stage(
                    &txn,
                    who.org_id,
                    offer.conversation_id,
                    &pb::OfferAccepted { offer: Some(view) },
                )
                .await?,
            self.outbox
                .stage(&txn, who.org_id, offer.conversation_id, &assigned)
                .await?,
        ];
        txn.commit().await?;
        self.outbox.publish(staged).await;
        tracing::info!(org = %who.org_id, conversation_id = %offer.conversation_id, agent_id = %who.id, "offer accepted");
        Ok(pb::Assignment {
            conversation_id: offer.conversation_id.to_string(),
            agent_id: who.id,
            queue_id: offer.queue_id.to_string(),
            assigned_at: Some(to_proto(leg.assigned_at)),
        })
    }

    pub(super) async fn decline_offer(
        &self,
        req: Request<pb::DeclineOfferRequest>,
    ) -> Result<pb::DeclineOfferResponse, Error> {
        let who = principal(&req)?;
        who.require(
            &[Role::Agent, Role::Supervisor, Role::Admin],
            "decline an offer",
        )?;
        let body = req.get_ref();
        let id = parse_uuid("offer_id", &body.offer_id)?;
        let reason = body.reason.trim();
        if reason.chars().count() > 200 {
            return Err(FieldViolation::new("reason", "at most 200 characters").into());
        }
        let txn = self.db.begin().await?;
        let offer = Offers::get(&txn, who.org_id, id)
            .await?
            .ok_or(Error::NotFound("offer"))?;
        if offer.agent_id != who.id {
            return Err(AuthError::Forbidden {
                role: who.role,
                action: "decline another agent's offer",
            }
            .into());
        }
        if !Offers::answer(&txn, who.org_id, id, &who.id, "declined", reason).await? {
            txn.rollback().await?;
            return Err(Error::FailedPrecondition(
                "the offer is no longer pending (expired, accepted or withdrawn)",
            ));
        }
        let staged = self
            .outbox
            .stage(
                &txn,
                who.org_id,
                offer.conversation_id,
                &pb::OfferDeclined {
                    offer: Some(convert::offer(&offer)),
                    reason: reason.to_owned(),
                },
            )
            .await?;
        txn.commit().await?;
        self.outbox.publish(vec![staged]).await;
        // Re-offer to someone else now (RTG-5); the decliner is excluded.
        self.router
            .route_queues(who.org_id, &[offer.queue_id])
            .await;
        Ok(pb::DeclineOfferResponse {})
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
            offers: rows.iter().map(convert::offer).collect(),
        })
    }
}
