//! Pure rules of routing: agent states and their transitions, queue
//! settings, agent selection per strategy, wrap-up codes. No I/O here.

mod agent;
mod capacity;
mod position;
mod queue;
mod selection;
mod transfer;
mod wrapup;

pub use agent::{
    AgentState, AwayReason, Capacity, DisplayName, Initials, NextState, StateChange, initials_of,
    plan_state_change,
};
pub use capacity::{CHANNELS, Capacities, Channel, PerChannel, has_room, is_full};
pub use livedesk_platform::labels::UnknownLabel;
pub use position::{THROUGHPUT_WINDOW_SECONDS, estimate_wait, should_push};
pub use queue::{MaxWait, OfferTimeout, QueueName, QueueSpec, Strategy, normalize_skills};
pub use selection::{
    Candidate, can_take_direct_offer, is_eligible, loads_from, rank, rank_preferring,
};
pub use transfer::{
    ConferenceActor, ConferenceCommand, ConferenceConflict, ConferenceRefusal, ConferenceState,
    OfferKind, TransferFailurePolicy, TransferNote, plan_conference,
};
pub use wrapup::{AutoWrapUp, DEFAULT_WRAP_UP_CODES, WrapUpCodeText, WrapUpCodes};
