//! gRPC handlers of `livedesk.conversations.v1.ConversationsService`.

mod access;
mod attachments;
mod email;
mod lifecycle;
mod messages;
mod pause;
mod privacy;
mod qualification;
mod requests;
mod service;
mod settings;
mod start;
mod tags;
mod templates;
mod typing;

pub use privacy::PrivacyGrpc;
pub use service::ConversationsGrpc;
