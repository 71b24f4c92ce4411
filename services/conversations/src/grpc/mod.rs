//! gRPC handlers of `livedesk.conversations.v1.ConversationsService`.

mod access;
mod convert;
mod lifecycle;
mod messages;
mod qualification;
mod service;
mod settings;
mod start;
mod templates;

pub(crate) use convert::ended_event;
pub use service::ConversationsGrpc;
