//! Events the conversations service consumes: routing's assignments and
//! abandonments, scheduling's form submissions (SCH-6), transfers, conferences and interruptions, blocking's blocks (kept in a local cache, BLK-6), and the natural-close sweep (CNV-13).

mod blocking;
mod erasure;
mod forms;
mod natural_close;
mod routing;

pub use blocking::BlockingEvents;
pub use erasure::{ErasureEvents, run_retention};
pub use forms::FormEvents;
pub use natural_close::run_natural_close;
pub use routing::RoutingEvents;
