//! gRPC handlers of `livedesk.scheduling.v1.SchedulingService`.

mod convert;
mod forms;
mod handlers;
mod schedules;
mod privacy;

pub use privacy::DataSubjectGrpc;
pub use handlers::SchedulingGrpc;
