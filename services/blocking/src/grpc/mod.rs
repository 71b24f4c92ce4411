//! gRPC handlers of `livedesk.blocking.v1.BlockingService`.

mod convert;
mod handlers;
mod privacy;

pub(crate) use convert::block as block_view;
pub use handlers::BlockingGrpc;
pub use privacy::DataSubjectGrpc;
