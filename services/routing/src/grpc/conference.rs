//! Conferences (RTG-8): the owner invites another agent (an offer of kind
//! CONFERENCE, counted against the invited agent's capacity), the invited
//! agent accepts (a participant leg; `ConferenceChanged{ACTIVE}` carries
//! their display name for the "<agent> joined the chat" message) or
//! declines; the owner or the participant ends it, and the participant's
//! leg enters wrap-up. Who may do what is the pure [`plan_conference`].
use livedesk_auth::{AuthError, Principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::routing::v1 as pb;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tonic::Request;
use uuid::Uuid;

use super::transfer::{DirectOffer, offer_directly};
use super::{RoutingGrpc, acting_agent};
use crate::domain::ConferenceConflict;
use crate::domain::{
    ConferenceActor, ConferenceCommand, ConferenceRefusal, ConferenceState, OfferKind,
    plan_conference,
};
use crate::engine::{Unanswered, after_unanswered, conference_changed, wrap_up_legs};
use crate::error::{Entity, Error};
use crate::store::{Agents, Entries, Legs, OfferRow, Offers};
use crate::views;

/// The stored conference of a conversation: (state, owner, invited agent).
struct Current {
    state: ConferenceState,
    owner: Option<String>,
    invited: Option<String>,
    pending: Option<OfferRow>,
}

async fn current(txn: &DatabaseTransaction, org: Uuid, conv: Uuid) -> Result<Current, Error> {
    let owner = Legs::active(txn, org, conv, "owner")
        .await?
        .map(|l| l.agent_id);
    let pending = Offers::pending_for(txn, org, conv)
        .await?
        .filter(|o| o.kind() == OfferKind::Conference);
    let participant = Legs::active(txn, org, conv, "participant").await?;
    let (state, invited) = match (&pending, participant) {
        (Some(o), _) => (ConferenceState::Requested, Some(o.agent_id.clone())),
        (None, Some(p)) => (ConferenceState::Active, Some(p.agent_id)),
        (None, None) => (ConferenceState::None, None),
    };
    Ok(Current {
        state,
        owner,
        invited,
        pending,
    })
}

fn actor(who: &Principal, c: &Current) -> ConferenceActor {
    if c.owner.as_deref() == Some(who.id.as_str()) {
        ConferenceActor::Owner
    } else if c.invited.as_deref() == Some(who.id.as_str()) {
        ConferenceActor::Invited
    } else {
        ConferenceActor::Other
    }
}

fn plan(
    who: &Principal,
    c: &Current,
    cmd: ConferenceCommand,
    action: &'static str,
) -> Result<ConferenceState, Error> {
    plan_conference(c.state, actor(who, c), cmd).map_err(|r| match r {
        ConferenceRefusal::NotAllowed => AuthError::Forbidden {
            role: who.role,
            action,
        }
        .into(),
        ConferenceRefusal::WrongState(c) => c.into(),
    })
}

fn view(conv: Uuid, owner: &str, invited: &str, state: ConferenceState) -> pb::Conference {
    pb::Conference {
        conversation_id: conv.to_string(),
        owner_agent_id: owner.to_owned(),
        invited_agent_id: invited.to_owned(),
        state: state as i32,
    }
}

/// The calling agent (agents, supervisors and admins take part in
/// conferences) and the conversation a request names.
fn agent_on<T>(
    req: &Request<T>,
    conversation_id: &str,
    action: &'static str,
) -> Result<(Principal, Uuid), Error> {
    let who = acting_agent(req, action)?;
    Ok((who, parse_uuid("conversation_id", conversation_id)?))
}

impl RoutingGrpc {
    pub(super) async fn invite_to_conference(
        &self,
        req: Request<pb::InviteToConferenceRequest>,
    ) -> Result<pb::Conference, Error> {
        let body = req.get_ref();
        let (who, conv) = agent_on(&req, &body.conversation_id, "invite to a conference")?;
        let invited = body.agent_id.trim().to_owned();
        if invited.is_empty() || invited == who.id || invited.chars().count() > 200 {
            return Err(FieldViolation::new("agent_id", "another agent's id").into());
        }
        let org = who.org_id;
        let txn = self.db.begin().await?;
        let entry = Entries::lock(&txn, org, conv)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        let c = current(&txn, org, conv).await?;
        if c.state == ConferenceState::Requested && c.invited.as_deref() == Some(&invited) {
            txn.rollback().await?; // a retried invitation (TEN-5)
            return Ok(view(conv, &who.id, &invited, ConferenceState::Requested));
        }
        plan(
            &who,
            &c,
            ConferenceCommand::Invite,
            "invite to another agent's conversation",
        )?;
        if entry.interrupted || Offers::pending_for(&txn, org, conv).await?.is_some() {
            return Err(Error::BusyOrInterrupted);
        }
        let offer = offer_directly(
            &txn,
            &entry,
            &DirectOffer {
                org,
                agent: &invited,
                kind: OfferKind::Conference,
                from_agent: &who.id,
                note: "",
            },
        )
        .await?
        .ok_or(Error::OfferAlreadyPending)?;
        let staged = vec![
            self.outbox
                .stage(
                    &txn,
                    org,
                    conv,
                    &pb::OfferCreated {
                        offer: Some(views::offer(&offer)),
                    },
                )
                .await?,
            self.outbox
                .stage(
                    &txn,
                    org,
                    conv,
                    &conference_changed(&offer, ConferenceState::Requested, ""),
                )
                .await?,
        ];
        self.commit(txn, staged).await?;
        Ok(view(conv, &who.id, &invited, ConferenceState::Requested))
    }

    pub(super) async fn accept_conference(
        &self,
        req: Request<pb::AcceptConferenceRequest>,
    ) -> Result<pb::Conference, Error> {
        let (who, conv) = agent_on(&req, &req.get_ref().conversation_id, "join a conference")?;
        let offer = self.invitation(&who, conv, "accepted").await?;
        let accepted = self.accept(&who, offer.id).await?;
        let owner = accepted.offer.from_agent_id;
        Ok(view(conv, &owner, &who.id, ConferenceState::Active))
    }

    pub(super) async fn decline_conference(
        &self,
        req: Request<pb::DeclineConferenceRequest>,
    ) -> Result<pb::Conference, Error> {
        let (who, conv) = agent_on(&req, &req.get_ref().conversation_id, "decline a conference")?;
        let offer = self.invitation(&who, conv, "declined").await?;
        let offer = self.decline(&who, offer.id, "").await?;
        Ok(view(
            conv,
            &offer.from_agent_id,
            &who.id,
            ConferenceState::Declined,
        ))
    }

    /// The caller's latest invitation to `conv`, pending or already
    /// `answered` so (a retried answer gets the first result, TEN-5).
    async fn invitation(
        &self,
        who: &Principal,
        conv: Uuid,
        answered: &str,
    ) -> Result<OfferRow, Error> {
        let org = who.org_id;
        if Entries::get(&self.db, org, conv).await?.is_none() {
            return Err(Error::NotFound(Entity::Conversation));
        }
        Offers::latest_for(&self.db, org, conv, &who.id, OfferKind::Conference)
            .await?
            .filter(|o| o.status == "pending" || o.status == answered)
            .ok_or(Error::Conference(ConferenceConflict::NothingPending))
    }

    pub(super) async fn end_conference(
        &self,
        req: Request<pb::EndConferenceRequest>,
    ) -> Result<pb::Conference, Error> {
        let (who, conv) = agent_on(&req, &req.get_ref().conversation_id, "end a conference")?;
        let org = who.org_id;
        let txn = self.db.begin().await?;
        Entries::lock(&txn, org, conv)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))?;
        let c = current(&txn, org, conv).await?;
        plan(
            &who,
            &c,
            ConferenceCommand::End,
            "end another agent's conference",
        )?;
        let owner = c.owner.clone().unwrap_or_default();
        let invited = c.invited.clone().unwrap_or_default();
        let mut staged = Vec::new();
        let mut freed = None;
        if let Some(pending) = &c.pending {
            // The owner cancels an unanswered invitation.
            if let Some(o) = Offers::withdraw(&txn, org, conv, "conference_ended").await? {
                let how = Unanswered::Withdrawn {
                    reason: "conference_ended",
                    consequences: false,
                };
                staged.extend(after_unanswered(&self.outbox, &txn, &o, how).await?.staged);
                freed = Some(pending.agent_id.clone());
            }
        } else {
            // RTG-8: back to the owner alone; the participant wraps up.
            staged.extend(wrap_up_legs(&self.outbox, &txn, org, conv, Some(&invited)).await?);
        }
        let ended = pb::ConferenceChanged {
            conference: Some(view(conv, &owner, &invited, ConferenceState::Ended)),
            invited_agent_display_name: String::new(),
        };
        staged.push(self.outbox.stage(&txn, org, conv, &ended).await?);
        self.commit(txn, staged).await?;
        if let Some(agent) = freed
            && let Some(a) = Agents::get(&self.db, org, &agent).await?
        {
            self.router.kick_queues(org, &a.queue_ids);
        }
        Ok(view(conv, &owner, &invited, ConferenceState::Ended))
    }
}
