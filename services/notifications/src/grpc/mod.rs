//! gRPC handlers of `livedesk.notifications.v1.NotificationsService`.

mod handlers;
mod privacy;
mod subscribe;

pub use handlers::NotificationsGrpc;
pub use privacy::DataSubjectGrpc;
pub use subscribe::StreamTiming;
