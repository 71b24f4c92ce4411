//! Events the scheduling service publishes on its own: queue open, close
//! and closing-soon announcements (SCH-4).

mod erasure;
mod sweep;

pub use erasure::ErasureEvents;
pub use sweep::run_sweep;
