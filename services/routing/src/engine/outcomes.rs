//! What follows an offer, a transfer or an end, staged in the caller's
//! transaction (the caller holds the conversation's entry lock): wrap-up
//! of legs (RTG-9), the failure policy of a direct transfer (RTG-7),
//! declined conference invitations (RTG-8), abandonment (RTG-13), RONA
//! (RTG-5). Returns the events to publish and the queues to route after
//! commit.
use livedesk_events::{Outbox, Staged};
use livedesk_platform::time::to_proto;
use livedesk_proto::routing::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::{OfferWithdrawn, stage_state_change};
use crate::domain::{AgentState, ConferenceState, OfferKind, TransferFailurePolicy};
use crate::store::{Agents, Entries, EntryRow, Legs, OfferRow, Orgs, Queues};
use crate::views;

/// Events to publish after commit and queues to route then.
#[derive(Debug, Default)]
pub struct Followup {
    pub staged: Vec<Staged>,
    pub route: Vec<(Uuid, Uuid)>,
}

impl Followup {
    /// Adds another followup.
    pub fn extend(&mut self, other: Followup) {
        self.staged.extend(other.staged);
        self.route.extend(other.route);
    }
}

/// How a pending offer ended without being accepted.
#[derive(Debug, Clone, Copy)]
pub enum Unanswered<'a> {
    Declined(&'a str),
    /// Not answered in time: the agent goes to RONA (RTG-5).
    Expired,
    /// Taken back; `consequences` applies a transfer's failure policy or
    /// declines a conference invitation (the target agent was deleted),
    /// `false` when the conversation itself is over or the owner cancelled.
    Withdrawn {
        reason: &'a str,
        consequences: bool,
    },
}

/// Stages the offer's own event, then what its kind implies.
pub async fn after_unanswered<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    offer: &OfferRow,
    how: Unanswered<'_>,
) -> Result<Followup, DbErr> {
    let (org, conv) = (offer.org_id, offer.conversation_id);
    let mut out = Followup::default();
    let view = Some(views::offer(offer));
    let consequences = match how {
        Unanswered::Declined(reason) => {
            let e = pb::OfferDeclined {
                offer: view,
                reason: reason.to_owned(),
            };
            out.staged.push(outbox.stage(txn, org, conv, &e).await?);
            true
        }
        Unanswered::Expired => {
            if Agents::to_rona(txn, org, &offer.agent_id).await? {
                let (from, to) = (AgentState::Available.as_i32(), AgentState::Rona.as_i32());
                out.staged.push(
                    stage_state_change(outbox, txn, org, &offer.agent_id, from, to, "", "system")
                        .await?,
                );
            }
            let e = pb::OfferExpired { offer: view };
            out.staged.push(outbox.stage(txn, org, conv, &e).await?);
            true
        }
        Unanswered::Withdrawn {
            reason,
            consequences,
        } => {
            let e = OfferWithdrawn {
                offer: view,
                reason: reason.to_owned(),
            };
            out.staged.push(outbox.stage(txn, org, conv, &e).await?);
            consequences
        }
    };
    match offer.kind() {
        OfferKind::Queue => out.route.push((org, offer.queue_id)),
        OfferKind::Transfer if consequences => {
            out.extend(transfer_failed(outbox, txn, offer).await?);
        }
        OfferKind::Conference if consequences => {
            let e = conference_changed(offer, ConferenceState::Declined, "");
            out.staged.push(outbox.stage(txn, org, conv, &e).await?);
        }
        _ => {}
    }
    Ok(out)
}

/// A `ConferenceChanged` about `offer`'s invitation.
pub fn conference_changed(
    offer: &OfferRow,
    state: ConferenceState,
    invited_name: &str,
) -> pb::ConferenceChanged {
    pb::ConferenceChanged {
        conference: Some(pb::Conference {
            conversation_id: offer.conversation_id.to_string(),
            owner_agent_id: offer.from_agent_id.clone(),
            invited_agent_id: offer.agent_id.clone(),
            state: state as i32,
        }),
        invited_agent_display_name: invited_name.to_owned(),
    }
}

/// A direct transfer was not accepted: the owner's leg enters wrap-up and
/// the source queue's policy applies (RTG-7).
async fn transfer_failed<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    offer: &OfferRow,
) -> Result<Followup, DbErr> {
    let (org, conv) = (offer.org_id, offer.conversation_id);
    let mut out = Followup::default();
    let Some(entry) = Entries::get(txn, org, conv).await? else {
        return Ok(out);
    };
    let owner = Legs::active(txn, org, conv, "owner").await?;
    if entry.status != "assigned" || owner.is_none_or(|o| o.agent_id != offer.from_agent_id) {
        return Ok(out); // ended or changed meanwhile: nothing to fail
    }
    let policy = Queues::get(txn, org, entry.queue_id)
        .await?
        .map_or(TransferFailurePolicy::Requeue, |q| {
            q.transfer_failure_policy
        });
    out.staged
        .extend(wrap_up_legs(outbox, txn, org, conv, Some(&offer.from_agent_id)).await?);
    let failed = pb::TransferFailed {
        conversation_id: conv.to_string(),
        to_agent_id: offer.agent_id.clone(),
        policy_applied: policy.as_i32(),
    };
    out.staged
        .push(outbox.stage(txn, org, conv, &failed).await?);
    match policy {
        TransferFailurePolicy::Requeue => {
            Entries::requeue(txn, org, conv, entry.queue_id).await?;
            out.route.push((org, entry.queue_id));
        }
        TransferFailurePolicy::Abandon => {
            Entries::transition(txn, org, conv, "assigned", "abandoned").await?;
            out.staged
                .push(stage_abandoned(outbox, txn, &entry, "transfer_failed").await?);
        }
    }
    tracing::info!(%org, conversation_id = %conv, policy = ?policy, "transfer failed");
    Ok(out)
}

/// Moves active legs (all, or `agent`'s) to wrap-up and stages
/// `WrapUpStarted` for each (RTG-9).
pub async fn wrap_up_legs<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    org: Uuid,
    conv: Uuid,
    agent: Option<&str>,
) -> Result<Vec<Staged>, DbErr> {
    let seconds = Orgs::auto_wrap_up_seconds(txn, org).await?;
    let legs = Legs::start_wrap_up(txn, org, conv, agent, seconds).await?;
    let mut staged = Vec::with_capacity(legs.len());
    for leg in legs {
        let e = pb::WrapUpStarted {
            conversation_id: conv.to_string(),
            agent_id: leg.agent_id.clone(),
            deadline: leg.wrap_up_deadline.map(to_proto),
        };
        staged.push(outbox.stage(txn, org, conv, &e).await?);
    }
    Ok(staged)
}

/// Stages `ConversationAbandoned` for `entry` (RTG-13, RTG-7, RTG-11).
pub async fn stage_abandoned<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    entry: &EntryRow,
    reason: &str,
) -> Result<Staged, DbErr> {
    let e = pb::ConversationAbandoned {
        conversation_id: entry.conversation_id.to_string(),
        queue_id: entry.queue_id.to_string(),
        waited_seconds: entry.waited_seconds(),
        reason: reason.to_owned(),
    };
    outbox
        .stage(txn, entry.org_id, entry.conversation_id, &e)
        .await
}
