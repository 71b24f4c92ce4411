//! Pure rules of routing: agent states and their transitions, queue
//! settings, agent selection per strategy, wrap-up codes. No I/O here.

mod agent;
mod queue;
mod selection;
mod wrapup;

pub use agent::{
    AgentState, AwayReason, Capacity, DisplayName, Initials, NextState, StateChange, initials_of,
    plan_state_change,
};
pub use queue::{MaxWait, OfferTimeout, QueueName, QueueSpec, Strategy, normalize_skills};
pub use selection::{Candidate, is_eligible, rank};
pub use wrapup::{AutoWrapUp, DEFAULT_WRAP_UP_CODES, WrapUpCodeText, WrapUpCodes};
