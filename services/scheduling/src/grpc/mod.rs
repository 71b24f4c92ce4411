//! gRPC handlers of `livedesk.scheduling.v1.SchedulingService`.

mod convert;
mod forms;
mod handlers;
mod privacy;
mod schedules;

pub use handlers::SchedulingGrpc;
pub use privacy::DataSubjectGrpc;
