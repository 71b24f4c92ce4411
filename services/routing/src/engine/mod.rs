//! The routing engine: what routing decides and stages on its own, whoever
//! asked. The routing cycle turns queued conversations into offers to one
//! eligible agent at a time ([`Router`], RTG-4, RTG-6); the outcomes stage
//! what follows an unanswered offer, a transfer or an end (RTG-5, RTG-7,
//! RTG-8, RTG-9, RTG-13); the effects stage state changes shared by RPCs
//! and sweeps (agent states, wrap-ups, memberships).
//!
//! The sweeps live here too: they drive the engine from the database on a
//! period (offer expiry, max wait, offline-form offers, auto wrap-up,
//! positions, the routing safety net), each through the one periodic loop
//! `livedesk_platform::tasks::every`. Callers: `grpc/` (RPCs) and
//! `events/` (the conversations consumer). The engine never imports
//! either; protobuf views come from `crate::views`.

mod effects;
mod memberships;
mod outcomes;
mod router;
pub mod sweeps;

pub use effects::{apply_next_state, finish_wrap_up, stage_state_change};
/// A pending offer was taken back (conversation ended, picked, paused …).
pub use livedesk_proto::routing::v1::OfferWithdrawn;
pub use memberships::stage_memberships;
pub use outcomes::{
    Followup, Unanswered, after_unanswered, conference_changed, stage_abandoned, wrap_up_legs,
};
pub use router::Router;
