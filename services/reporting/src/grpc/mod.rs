//! gRPC handlers of `livedesk.reporting.v1.ReportingService`.

mod cells;
mod export;
mod handlers;

pub use handlers::ReportingGrpc;
