//! gRPC handlers of `livedesk.reporting.v1.ReportingService`.

mod cells;
mod export;
mod handlers;
mod privacy;

pub use handlers::ReportingGrpc;
pub use privacy::DataSubjectGrpc;
