//! Routing events: offers to the offered agent (RTG-4), withdrawals,
//! assignment and conference joins to the customer, interruptions, queue
//! positions and the offline-form offer to a long-waiting customer (SCH-8).
use livedesk_events::{HandlerError, ReceivedEvent};
use livedesk_proto::notifications::v1 as pb;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::routing::v1 as rt;
use sea_orm::DatabaseTransaction;

use super::batch::Batch;
use crate::domain::Recipients;
use crate::store::{Conversations, Tracked};

/// The customer of `t` when they may be told anything (NTF-3).
pub(super) fn reachable_customer(t: &Tracked) -> Option<&str> {
    crate::domain::reachable_customer(&t.customer, t.customer_blocked)
}

fn withdrawn(batch: &mut Batch, offer: Option<rt::Offer>, reason: &str) {
    let Some(offer) = offer else { return };
    let kind = Kind::OfferWithdrawn(pb::OfferWithdrawn {
        offer_id: offer.id.clone(),
        reason: reason.to_owned(),
    });
    batch.tell_one(&offer.agent_id, &offer.conversation_id, kind);
}

/// Applies one routing event.
pub async fn handle(
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
    batch: &mut Batch,
) -> Result<(), HandlerError> {
    let org = event.org_id;
    if let Some(e) = event.payload::<rt::OfferCreated>() {
        if let Some(offer) = e?.offer {
            let (agent, conversation) = (offer.agent_id.clone(), offer.conversation_id.clone());
            batch.tell_one(&agent, &conversation, Kind::Offer(offer));
        }
    } else if let Some(e) = event.payload::<rt::OfferDeclined>() {
        withdrawn(batch, e?.offer, "declined");
    } else if let Some(e) = event.payload::<rt::OfferExpired>() {
        withdrawn(batch, e?.offer, "expired");
    } else if let Some(e) = event.payload::<rt::OfferWithdrawn>() {
        // Taken back by routing: ended, picked by someone else, paused …
        let e = e?;
        withdrawn(batch, e.offer, &e.reason);
    } else if let Some(e) = event.payload::<rt::ConversationAssigned>() {
        let e = e?;
        let conv = e.conversation_id.as_str();
        if !e.customer_principal_id.is_empty() {
            // Learn the customer here too: ConversationQueued comes from
            // another stream and may not have been consumed yet.
            Conversations::queued(txn, org, conv, "", &e.customer_principal_id).await?;
        }
        Conversations::add_member(txn, org, conv, &e.agent_id, "agent").await?;
        let tracked = Conversations::get(txn, org, conv).await?;
        let assigned = Kind::Assigned(pb::ConversationAssigned {
            agent_id: e.agent_id.clone(),
        });
        if let Some(customer) = reachable_customer(&tracked) {
            let joined = pb::AgentJoined {
                agent_id: e.agent_id.clone(),
                display_name: e.agent_display_name.clone(),
                conference: false,
            };
            batch.tell_one(customer, conv, Kind::AgentJoined(joined));
            batch.tell_one(customer, conv, assigned.clone());
        }
        // The agent's desktop learns of picks and supervisor assignments too.
        batch.tell_one(&e.agent_id, conv, assigned);
    } else if let Some(e) = event.payload::<rt::ConversationTransferred>() {
        let e = e?;
        if !e.to_queue_id.is_empty() {
            Conversations::set_queue(txn, org, &e.conversation_id, &e.to_queue_id).await?;
        }
    } else if let Some(e) = event.payload::<rt::ConferenceChanged>() {
        let e = e?;
        let Some(c) = e.conference else { return Ok(()) };
        if c.state == rt::ConferenceState::Active as i32 {
            Conversations::add_member(txn, org, &c.conversation_id, &c.invited_agent_id, "agent")
                .await?;
            let tracked = Conversations::get(txn, org, &c.conversation_id).await?;
            if let Some(customer) = reachable_customer(&tracked) {
                let joined = pb::AgentJoined {
                    agent_id: c.invited_agent_id.clone(),
                    display_name: e.invited_agent_display_name,
                    conference: true,
                };
                batch.tell_one(customer, &c.conversation_id, Kind::AgentJoined(joined));
            }
        }
    } else if let Some(e) = event.payload::<rt::ConversationInterrupted>() {
        // RTG-11: every participant is alerted; the conversation can only be ended.
        let e = e?;
        let conv = e.conversation_id.as_str();
        let tracked = Conversations::get(txn, org, conv).await?;
        let members = Conversations::agents(txn, org, conv).await?;
        let agents = Recipients::new(e.agent_ids.iter().chain(&members).map(String::as_str), &[]);
        let everyone = agents.union(Recipients::new(reachable_customer(&tracked), &[]));
        batch.tell(
            everyone,
            conv,
            Kind::Alert(pb::Alert {
                code: e.reason,
                text: String::new(),
            }),
        );
    } else if let Some(e) = event.payload::<rt::OfflineFormOffered>() {
        // SCH-8: the waiting visitor's widget shows the offline form; the
        // chat stays queued. A blocked customer is told nothing (NTF-3).
        let e = e?;
        let conv = e.conversation_id.as_str();
        if !e.customer_principal_id.is_empty() {
            // ConversationQueued comes from another stream and may lag.
            Conversations::queued(txn, org, conv, &e.queue_id, &e.customer_principal_id).await?;
        }
        let tracked = Conversations::get(txn, org, conv).await?;
        if let Some(customer) = reachable_customer(&tracked).map(str::to_owned) {
            let offer = pb::OfflineFormOffer {
                mode: livedesk_proto::scheduling::v1::WidgetMode::OfflineForm as i32,
                queue_id: e.queue_id,
                waited_seconds: e.waited_seconds,
                waiting_since: e.waiting_since,
                offered_at: e.offered_at,
            };
            batch.tell_one(&customer, conv, Kind::OfflineForm(offer));
        }
    } else if let Some(e) = event.payload::<rt::QueuePositionChanged>() {
        // RTG-15: the queued customer sees their position.
        let Some(pos) = e?.position else {
            return Ok(());
        };
        let tracked = Conversations::get(txn, org, &pos.conversation_id).await?;
        if let Some(customer) = reachable_customer(&tracked).map(str::to_owned) {
            let conv = pos.conversation_id.clone();
            batch.tell_one(&customer, &conv, Kind::QueuePosition(pos));
        }
    }
    Ok(())
}
