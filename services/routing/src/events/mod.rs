//! What routing publishes and consumes: the routing cycle that turns
//! queued conversations into offers, the conversations consumer, the
//! sweeps (offer expiry, max wait, auto wrap-up, positions, periodic
//! routing), the backlog gauges and the shared state changes they stage.

mod consumer;
mod effects;
mod erasure;
pub mod gauges;
mod memberships;
mod outcomes;
mod router;
pub mod sweeps;

pub use consumer::ConversationEvents;
pub use effects::{finish_wrap_up, stage_state_change};
pub use erasure::ErasureEvents;
/// A pending offer was taken back (conversation ended, picked, paused …).
pub use livedesk_proto::routing::v1::OfferWithdrawn;
pub use memberships::stage_memberships;
pub use outcomes::{
    Followup, Unanswered, after_unanswered, conference_changed, stage_abandoned, wrap_up_legs,
};
pub use router::Router;
