//! Rows and domain values → protobuf messages, used by `grpc/`,
//! `engine/` and `events/` (one room both sides import, so neither imports
//! the other).
use livedesk_platform::time::{opt_to_proto, to_proto};
use livedesk_proto::routing::v1 as pb;

use crate::domain::{AgentState, Capacities, Channel};
use crate::store::{AgentRow, LegRow, OfferRow, QueueRow};

/// The API view of an agent.
pub fn agent(r: &AgentRow) -> pb::Agent {
    pb::Agent {
        id: r.id.clone(),
        display_name: r.display_name.clone(),
        initials: r.initials.clone(),
        skills: r.skills.clone(),
        queue_ids: r.queue_ids.iter().map(ToString::to_string).collect(),
        // Every channel with its effective capacity, web chat first.
        capacities: Channel::ALL
            .into_iter()
            .map(|ch| pb::ChannelCapacity {
                channel: ch.as_i32(),
                capacity: Capacities::from_stored(&r.capacities).of(ch),
            })
            .collect(),
        state: r.state.as_i32(),
        away_reason: r.away_reason.clone(),
        next_state: r.next_state.map_or(0, AgentState::as_i32),
        active_load: u32::try_from(r.load).unwrap_or(0),
        state_since: Some(to_proto(r.state_since)),
        idle_since: Some(to_proto(r.idle_since)),
    }
}

/// The API view of a queue.
pub fn queue(r: &QueueRow) -> pb::Queue {
    pb::Queue {
        id: r.id.to_string(),
        name: r.name.clone(),
        strategy: r.strategy.as_i32(),
        offer_timeout_seconds: u32::try_from(r.offer_timeout_seconds).unwrap_or(0),
        required_skills: r.required_skills.clone(),
        // Owned by scheduling (AssignSchedule); see routing.proto.
        schedule_id: String::new(),
        max_wait_seconds: u32::try_from(r.max_wait_seconds).unwrap_or(0),
        transfer_failure_policy: r.transfer_failure_policy.as_i32(),
        member_agent_ids: r.member_agent_ids.clone(),
        is_default: r.is_default,
        offer_form_after_seconds: u32::try_from(r.offer_form_after_seconds).unwrap_or(0),
    }
}

/// The API (and event) view of an offer (RTG-4).
pub fn offer(r: &OfferRow) -> pb::Offer {
    pb::Offer {
        id: r.id.to_string(),
        conversation_id: r.conversation_id.to_string(),
        agent_id: r.agent_id.clone(),
        queue_id: r.queue_id.to_string(),
        queue_name: r.queue_name.clone(),
        customer_name: r.customer_name.clone(),
        first_messages: r.first_messages.clone(),
        proactive: r.proactive,
        conversation_created_at: Some(to_proto(r.conversation_created_at)),
        expires_at: Some(to_proto(r.expires_at)),
        channel: r.channel,
        kind: r.kind.as_i32(),
    }
}

/// The API view of an owner's or participant's leg as an assignment.
pub fn assignment(l: &LegRow) -> pb::Assignment {
    pb::Assignment {
        conversation_id: l.conversation_id.to_string(),
        agent_id: l.agent_id.clone(),
        queue_id: l.queue_id.to_string(),
        assigned_at: Some(to_proto(l.assigned_at)),
    }
}

/// The API view of a recorded wrap-up.
pub fn wrap_up(l: &LegRow) -> pb::WrapUp {
    pb::WrapUp {
        conversation_id: l.conversation_id.to_string(),
        agent_id: l.agent_id.clone(),
        code: l.wrap_up_code.clone().unwrap_or_default(),
        automatic: l.wrap_up_automatic,
        submitted_at: opt_to_proto(l.wrapped_up_at),
    }
}
