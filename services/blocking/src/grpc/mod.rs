//! gRPC handlers of `livedesk.blocking.v1.BlockingService`.

mod handlers;
mod privacy;

pub use handlers::BlockingGrpc;
pub use privacy::DataSubjectGrpc;
