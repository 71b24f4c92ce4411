//! What routing publishes and consumes: the routing cycle that turns
//! queued conversations into offers, the conversations consumer, the
//! sweeps (offer expiry, auto wrap-up, periodic routing) and the shared
//! state changes they stage.

mod consumer;
mod effects;
mod router;
pub mod sweeps;

pub use consumer::ConversationEvents;
pub use effects::{finish_wrap_up, stage_state_change};
pub use router::Router;
