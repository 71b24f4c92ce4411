//! gRPC handlers of `livedesk.notifications.v1.NotificationsService`.

mod convert;
mod handlers;
mod privacy;
mod subscribe;

pub(crate) use convert::delivery as delivery_view;
pub use handlers::NotificationsGrpc;
pub use privacy::DataSubjectGrpc;
